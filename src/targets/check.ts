// model × target → findings: which nodes this target cannot run, and why, in plain words.
import type { ModelProto } from 'onnx-buf';
import { dtypeName } from '../onnx/dtypes';
import { fmtShape, unidirectional } from '../graph/broadcast';
import { intendedSlopeShape, preluFacts, slopeSize, type PreluFacts } from '../graph/prelu';
import { allGraphs, displayName, nodeId, type GraphPath } from '../graph/scope';
import type { FindingStatus, PreluRule, TargetProfile } from './types';
import { judgeOp } from './op-support';

export interface Finding {
  nodeId: string;
  node: string;
  op: string;
  status: FindingStatus;
  reason: string;
  source: string;
  path: GraphPath;
  index: number;
}

/** Statuses that mean "this target will not run this node as the model says". */
export const INCOMPATIBLE: ReadonlySet<FindingStatus> = new Set(['unsupported', 'constraint', 'differs']);

const isDefaultDomain = (d: string) => d === '' || d === 'ai.onnx';

export function checkModel(model: ModelProto, target: TargetProfile): Finding[] {
  const findings: Finding[] = [];
  for (const scope of allGraphs(model)) {
    scope.graph.node.forEach((node, index) => {
      const base = { nodeId: nodeId(scope.path, index), node: displayName(node, index), op: node.opType, path: scope.path, index };
      const banned = target.unsupportedOps.find((u) => u.op === node.opType && isDefaultDomain(u.domain ?? '') === isDefaultDomain(node.domain));
      if (banned) {
        findings.push({ ...base, status: 'unsupported', reason: banned.reason, source: banned.source });
        return;
      }
      if (node.opType === 'PRelu' && isDefaultDomain(node.domain) && target.prelu.length > 0) {
        const facts = preluFacts(model, scope, index);
        for (const rule of target.prelu) {
          const verdict = checkPreluRule(rule, facts, target);
          if (verdict) {
            findings.push({ ...base, ...verdict, source: rule.source });
            break; // one finding per node: the first rule it breaks is the one to fix first
          }
        }
        return;
      }
      const verdict = judgeOp(model, scope, index, target);
      if (verdict) findings.push({ ...base, ...verdict });
    });
  }
  return findings;
}

type Verdict = { status: FindingStatus; reason: string } | undefined;

function perChannelHint(f: PreluFacts): string {
  const intended = intendedSlopeShape(f);
  return 'shape' in intended && intended.changed ? ` Reshaping the slope to ${fmtShape(intended.shape)} keeps its per-channel meaning.` : '';
}

export function checkPreluRule(rule: PreluRule, f: PreluFacts, target: TargetProfile): Verdict {
  const slopeShape = f.slopeFacts.shape;
  const xShape = f.xFacts.shape;
  switch (rule.kind) {
    case 'supported':
      return undefined;
    case 'min-opset':
      if (f.opset >= rule.opset) return undefined;
      return {
        status: 'unsupported',
        reason: `${target.name} has no PRelu for opset ${f.opset}; its PRelu starts at opset ${rule.opset}. ` +
          (slopeShape && (slopeSize(f) ?? 2) > 1
            ? `In opset ${f.opset} a ${fmtShape(slopeShape)} slope is applied per channel, while from opset 7 it would align with the last axis, so moving the model to opset ${rule.opset} needs the slope reshaped.${perChannelHint(f)}`
            : `The model must move to opset ${rule.opset} or the node be rewritten.`),
      };
    case 'dtypes': {
      const dt = f.xFacts.dtype ?? f.slopeFacts.dtype;
      if (dt === undefined || rule.allowed.includes(dtypeName(dt))) return undefined;
      return {
        status: 'constraint',
        reason: `The input is ${dtypeName(dt)}, but ${target.name} runs PRelu on ${rule.allowed.join(', ')} only.`,
      };
    }
    case 'slope-unidirectional': {
      if (f.legacy || !slopeShape) return undefined;
      if ((slopeSize(f) ?? 2) === 1 && (!xShape || slopeShape.length <= xShape.length)) return undefined;
      if (!xShape) {
        return { status: 'unknown', reason: `The input's shape is not known, so whether the ${fmtShape(slopeShape)} slope broadcasts to it cannot be checked.` };
      }
      const v = unidirectional(slopeShape, xShape);
      if (v.ok === true) return undefined;
      if (v.ok === 'unknown') return { status: 'unknown', reason: `Slope ${fmtShape(slopeShape)} on input ${fmtShape(xShape)}: ${v.why}, so the broadcast cannot be checked.` };
      return {
        status: 'constraint',
        reason: `Slope of shape ${fmtShape(slopeShape)} on input ${fmtShape(xShape)}: under opset ≥ 7 the slope must be unidirectionally broadcastable to the input, ` +
          `aligned from the last axis; here ${v.why}, so it does not broadcast.${perChannelHint(f)}`,
      };
    }
    case 'legacy-slope-misread':
      if (!f.legacy || (slopeSize(f) ?? 2) === 1) return undefined;
      return {
        status: 'differs',
        reason: `Opset ${f.opset} PRelu applies its ${slopeShape ? fmtShape(slopeShape) : ''} slope per channel, but ${target.name} always broadcasts the slope from the last axis, so it would compute different numbers or fail.${perChannelHint(f)}`,
      };
  }
}
