// Raising a model's default-domain opset is only safe when no other node changes meaning: an op
// whose schema has a new version in (from, to] may behave differently (Add-7 replaced the
// broadcast/axis attributes with numpy broadcasting, and so on), so we refuse and say which.
// A model-local function imports its own opsets; its body is judged against its own version.
import type { ModelProto } from 'onnx-buf';
import { OPSET_HISTORY } from '../onnx/opset-history';
import { allGraphs, nodeId, type GraphIndex } from '../graph/scope';
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

/** The schema version a default-domain op resolves to at `opset` (undefined: not defined there). */
export function sinceVersion(op: string, opset: number): number | undefined {
  return OPSET_HISTORY[op]?.filter((v) => v <= opset).at(-1);
}

/** One op that a raise would put under a new definition, and the opset of that definition. */
export interface RaiseBlocker {
  op: string;
  at: number;
  /** Set for an op ONNX does not define at all, or a legacy PRelu that is not rewritten. */
  note?: string;
}

/**
 * The ops whose definition changes between `from` and `to` (exclusive, inclusive) among the nodes
 * of the scopes `inScope` selects (default: every graph), other than the `rewritten` ones.
 */
export function raiseBlockers(
  model: ModelProto,
  from: number,
  to: number,
  rewritten: ReadonlySet<string>,
  inScope: (scope: GraphIndex) => boolean = () => true,
): RaiseBlocker[] {
  const blockers = new Map<string, RaiseBlocker>();
  for (const scope of allGraphs(model)) {
    if (!inScope(scope)) continue;
    scope.graph.node.forEach((node, i) => {
      if (node.domain !== '' && node.domain !== 'ai.onnx') return;
      if (rewritten.has(nodeId(scope.path, i))) return;
      if (node.opType === 'PRelu' && from < 7) {
        // A single-value slope means the same under both rules; any other legacy slope does not.
        if (slopeSize(preluFacts(model, scope, i)) !== 1) blockers.set('PRelu', { op: 'PRelu', at: 7, note: 'a per-channel legacy slope that is not being rewritten' });
        return;
      }
      const history = OPSET_HISTORY[node.opType];
      const changed = history?.find((v) => v > from && v <= to);
      if (!history) blockers.set(node.opType, { op: node.opType, at: to, note: 'not a known ONNX op' });
      else if (changed !== undefined && !blockers.has(node.opType)) blockers.set(node.opType, { op: node.opType, at: changed });
    });
  }
  return [...blockers.values()];
}

/** "Add (new version at opset 7), Relu (new version at opset 13) and 2 more". */
export function describeBlockers(list: readonly RaiseBlocker[]): string {
  const items = list.slice(0, 5).map((b) => (b.note ? `${b.op} (${b.note})` : `${b.op} (new version at opset ${b.at})`));
  return items.join(', ') + (list.length > 5 ? ` and ${list.length - 5} more` : '');
}

/** Why raising from `from` to `to` would change some node's meaning, or undefined when safe. */
export function raiseBlocker(model: ModelProto, from: number, to: number, rewritten: ReadonlySet<string>): string | undefined {
  const list = raiseBlockers(model, from, to, rewritten);
  if (list.length === 0) return undefined;
  return `raising the model from opset ${from} to ${to} would change the definition of other nodes' ops: ${describeBlockers(list)}`;
}
