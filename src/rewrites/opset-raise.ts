// Raising a model's default-domain opset is only safe when no other node changes meaning: an op
// whose schema has a new version in (from, to] may behave differently (Add-7 replaced the
// broadcast/axis attributes with numpy broadcasting, and so on), so we refuse and say which.
import type { ModelProto } from 'onnx-buf';
import { OPSET_HISTORY } from '../onnx/opset-history';
import { allGraphs, nodeId } from '../graph/scope';
import { preluFacts, slopeSize } from '../graph/prelu';

/** Minimum IR version for each opset (onnx/onnx onnx/helper.py VERSION_TABLE). */
const IR_FOR_OPSET: [opset: number, ir: number][] = [
  [1, 3], [7, 3], [9, 4], [10, 5], [11, 6], [13, 7], [15, 8], [19, 9], [21, 10], [23, 11], [25, 12],
];

export function minIrVersion(opset: number): number {
  let ir = 3;
  for (const [o, v] of IR_FOR_OPSET) if (opset >= o) ir = v;
  return ir;
}

/** Why raising from `from` to `to` would change some node's meaning, or undefined when safe. */
export function raiseBlocker(model: ModelProto, from: number, to: number, rewritten: ReadonlySet<string>): string | undefined {
  const blockers = new Map<string, number>();
  for (const scope of allGraphs(model)) {
    scope.graph.node.forEach((node, i) => {
      if (node.domain !== '' && node.domain !== 'ai.onnx') return;
      if (rewritten.has(nodeId(scope.path, i))) return;
      if (node.opType === 'PRelu' && from < 7) {
        // A single-value slope means the same under both rules; any other legacy slope does not.
        if (slopeSize(preluFacts(model, scope, i)) !== 1) blockers.set('PRelu (a per-channel legacy slope not being rewritten)', 7);
        return;
      }
      const history = OPSET_HISTORY[node.opType];
      const changed = history?.find((v) => v > from && v <= to);
      if (!history) blockers.set(`${node.opType} (not a known ONNX op)`, to);
      else if (changed !== undefined) blockers.set(node.opType, changed);
    });
  }
  if (blockers.size === 0) return undefined;
  const list = [...blockers].slice(0, 5).map(([op, v]) => `${op} has a new definition at opset ${v}`).join('; ');
  return `raising the model from opset ${from} to ${to} could change other nodes: ${list}${blockers.size > 5 ? `; and ${blockers.size - 5} more` : ''}`;
}
