// Whole-graph check for ops other than PRelu: what a target's per-op data says about one node.
// No data never means "supported": it means "unknown".
import type { ModelProto } from 'onnx-buf';
import { opsetOf } from '../onnx/model';
import { OPSET_HISTORY } from '../onnx/opset-history';
import type { GraphIndex } from '../graph/scope';
import type { FindingStatus, TargetProfile } from './types';

export interface OpVerdict {
  status: FindingStatus;
  reason: string;
  source: string;
}

const isDefaultDomain = (d: string) => d === '' || d === 'ai.onnx';

/** The schema version a node resolves to: the newest since-version ≤ the model's opset. */
export function sinceVersion(op: string, opset: number): number | undefined {
  const history = OPSET_HISTORY[op];
  return history?.filter((v) => v <= opset).at(-1);
}

/** undefined when the target is known to run the node; otherwise why not, or that nothing is known. */
export function judgeOp(model: ModelProto, scope: GraphIndex, index: number, target: TargetProfile): OpVerdict | undefined {
  const node = scope.graph.node[index]!;
  const ops = target.ops;
  if (!ops) return undefined; // this profile does not describe other ops: only PRelu is checked
  const domain = isDefaultDomain(node.domain) ? 'ai.onnx' : node.domain;
  switch (ops.kind) {
    case 'none':
      return { status: 'unknown', reason: `No per-op data for ${target.name}: whether it runs ${node.opType} is not known.`, source: target.sources[0] ?? '' };
    case 'onnx-standard': {
      if (domain !== 'ai.onnx') return { status: 'unknown', reason: `${node.opType} is in domain ${domain}, outside standard ONNX.`, source: ops.source };
      const opset = opsetOf(model, node.domain) ?? 1;
      if (!OPSET_HISTORY[node.opType]) return { status: 'unsupported', reason: `${node.opType} is not a standard ONNX operator.`, source: ops.source };
      if (sinceVersion(node.opType, opset) === undefined) return { status: 'unsupported', reason: `${node.opType} does not exist at opset ${opset}.`, source: ops.source };
      if (ops.maxOpset !== undefined && opset > ops.maxOpset) return { status: 'unsupported', reason: `The model uses opset ${opset}; ${target.name} goes up to opset ${ops.maxOpset}.`, source: ops.source };
      return undefined;
    }
    case 'table':
      // Per-op tables are read by op-tables.ts (issue 3); until one is loaded, nothing is known.
      return { status: 'unknown', reason: `No entry for ${node.opType} in ${target.name}'s op table.`, source: ops.source };
  }
}
