// model × target → findings: which nodes this target cannot run, and why, in plain words.
import type { ModelProto } from 'onnx-buf';
import { dtypeName } from '../onnx/dtypes';
import { fmtShape, unidirectional } from '../graph/broadcast';
import { classifySlope, intendedSlopeShape, preluFacts, slopeSize, type PreluFacts, type SlopeLayout } from '../graph/prelu';
import { allGraphs, displayName, mainIndexSteps, nodeId, type GraphIndex, type GraphPath } from '../graph/scope';
import { runSteps, runStepsSliced, type Steps } from '../steps';
import type { FindingStatus, PreluRule, TargetProfile } from './types';
import { judgeOp } from './op-support';
import { validateSteps } from '../graph/validate';

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
/** Same op domain, with '' and 'ai.onnx' both meaning the default domain. */
const sameDomain = (a: string | undefined, b: string) => (isDefaultDomain(a ?? '') ? '' : a) === (isDefaultDomain(b) ? '' : b);

export function checkModel(model: ModelProto, target: TargetProfile): Finding[] {
  return runSteps(checkSteps(model, target));
}

/** Nodes judged between two yields of checkSteps: a few milliseconds of work. */
const NODES_PER_STEP = 2000;

/**
 * checkModel, giving the thread back every few milliseconds: for the app, where checking a
 * 50,000-node graph in one go would freeze the page for a quarter of a second. Resolves to exactly
 * what checkModel returns; rejects with an AbortError once `signal` is aborted.
 */
export function checkModelSliced(model: ModelProto, target: TargetProfile, opts: { signal?: AbortSignal; sliceMs?: number } = {}): Promise<Finding[]> {
  return runStepsSliced(checkSteps(model, target), opts);
}

/** The check as a generator that yields between pieces of work (see checkModelSliced). */
export function* checkSteps(model: ModelProto, target: TargetProfile): Steps<Finding[]> {
  const findings: Finding[] = [];
  yield* mainIndexSteps(model);
  const scopes = allGraphs(model);
  yield;
  const problems = yield* validateSteps(model, scopes);
  let done = 0;
  for (const scope of scopes) {
    for (let index = 0; index < scope.graph.node.length; index++) {
      if (++done % NODES_PER_STEP === 0) yield;
      const finding = judgeNode(model, scope, index, target);
      if (finding) findings.push(finding);
    }
  }
  // Model-level problems (src/graph/validate.ts: cycles, undefined inputs, duplicate names, opsets) first.
  return [...problems, ...findings];
}

/** What `target` makes of one node, as a Finding: undefined when it runs the node as the model says. */
function judgeNode(model: ModelProto, scope: GraphIndex, index: number, target: TargetProfile): Finding | undefined {
  const verdict = checkNode(model, scope, index, target);
  if (!verdict) return undefined;
  const node = scope.graph.node[index]!;
  return { nodeId: nodeId(scope.path, index), node: displayName(node, index), op: node.opType, path: scope.path, index, ...verdict };
}

/**
 * The per-node part of checkModel: banned ops, then the PRelu rules, then the user's allowed ops,
 * then the per-op data. The rewrite engine asks it about the nodes a form would emit.
 */
export function checkNode(model: ModelProto, scope: GraphIndex, index: number, target: TargetProfile): { status: FindingStatus; reason: string; source: string } | undefined {
  const node = scope.graph.node[index]!;
  const banned = target.unsupportedOps.find((u) => u.op === node.opType && sameDomain(u.domain, node.domain));
  if (banned) return { status: 'unsupported', reason: banned.reason, source: banned.source };
  if (node.opType === 'PRelu' && isDefaultDomain(node.domain) && target.prelu.length > 0) {
    const facts = preluFacts(model, scope, index);
    // One finding per node: the first rule it breaks is the one to fix first. A rule that
    // cannot be decided does not hide a later rule the node certainly breaks.
    let undecided: { status: FindingStatus; reason: string; source: string } | undefined;
    for (const rule of target.prelu) {
      const verdict = checkPreluRule(rule, facts, target);
      if (!verdict) continue;
      if (verdict.status !== 'unknown') return { ...verdict, source: rule.source };
      undecided ??= { ...verdict, source: rule.source };
    }
    return undecided;
  }
  // A user-made target can allow ops its base profile's per-op data does not list.
  if (target.allowOps?.some((a) => a.op === node.opType && sameDomain(a.domain, node.domain))) return undefined;
  return judgeOp(model, scope, index, target) ?? undefined;
}

type Verdict = { status: FindingStatus; reason: string } | undefined;

function perChannelHint(f: PreluFacts): string {
  const intended = intendedSlopeShape(f);
  return 'shape' in intended && intended.changed ? ` Reshaping the slope to ${fmtShape(intended.shape)} keeps its per-channel meaning.` : '';
}

const LAYOUT_WORDS: Record<SlopeLayout, string> = {
  scalar: 'a single value',
  channel: 'one value per channel (axis 1)',
  'last-axis': 'one value per position of the last axis',
  elementwise: 'values that vary along several axes, or along a middle axis',
};

const rankRange = (min: number, max: number) => (min === max ? `${min}` : `${min} to ${max}`);

function dtypeOf(f: PreluFacts): string | undefined {
  const dt = f.xFacts.dtype ?? f.slopeFacts.dtype;
  return dt === undefined ? undefined : dtypeName(dt);
}

function slopeOrigin(f: PreluFacts): string {
  const src = f.slopeSource;
  switch (src.kind) {
    case 'graph-input':
      return 'a graph input, fed at run time';
    case 'node':
      return `computed at run time by a ${src.node.opType} node`;
    case 'missing':
      return 'not produced anywhere in the model';
    default:
      return 'a constant';
  }
}

/** The slope with leading 1s up to the input's rank: the same ONNX meaning, at full rank. */
function fullRank(slope: readonly (number | string | null)[], rank: number) {
  return fmtShape([...Array<number>(Math.max(0, rank - slope.length)).fill(1), ...slope]);
}

/**
 * One rule against one PRelu node: undefined when the node keeps it (or the rule does not apply to
 * the model's opset), else the finding's status and a reason in plain words naming the shapes.
 */
export function checkPreluRule(rule: PreluRule, f: PreluFacts, target: TargetProfile): Verdict {
  if (rule.opsets && ((rule.opsets.min !== undefined && f.opset < rule.opsets.min) || (rule.opsets.max !== undefined && f.opset > rule.opsets.max))) return undefined;
  const slopeShape = f.slopeFacts.shape;
  const xShape = f.xFacts.shape;
  const xDesc = xShape ? `input ${fmtShape(xShape)}` : 'an input of unknown shape';
  const sDesc = slopeShape ? `Slope ${fmtShape(slopeShape)}` : `Slope "${f.slope}" (shape unknown)`;
  const size = slopeSize(f);
  switch (rule.kind) {
    case 'supported':
      return undefined;
    case 'min-opset':
      if (f.opset >= rule.opset) return undefined;
      return {
        status: 'unsupported',
        reason: `${target.name} has no PRelu for opset ${f.opset}; its PRelu starts at opset ${rule.opset}. ` +
          (slopeShape && (size ?? 2) > 1
            ? `In opset ${f.opset} a ${fmtShape(slopeShape)} slope is applied per channel, while from opset 7 it would align with the last axis, so moving the model to opset ${rule.opset} needs the slope reshaped.${perChannelHint(f)}`
            : `The model must move to opset ${rule.opset} or the node be rewritten.`),
      };
    case 'max-opset':
      if (f.opset <= rule.opset) return undefined;
      return { status: 'unsupported', reason: `The model uses opset ${f.opset}; ${target.name} goes up to opset ${rule.opset}.` };
    case 'dtypes': {
      const dt = dtypeOf(f);
      if (dt === undefined || rule.allowed.includes(dt)) return undefined;
      return {
        status: 'constraint',
        reason: `The input is ${dt}, but ${target.name} runs PRelu on ${rule.allowed.join(', ')} only${rule.opsets ? ` at opset ${f.opset}` : ''}.`,
      };
    }
    case 'dtypes-rejected': {
      const dt = dtypeOf(f);
      if (dt === undefined || !rule.rejected.includes(dt)) return undefined;
      return { status: 'constraint', reason: `The input is ${dt}, and ${target.name} rejects PRelu on ${rule.rejected.join(', ')}.` };
    }
    case 'slope-unidirectional': {
      if (f.legacy || !slopeShape) return undefined;
      if ((size ?? 2) === 1 && (!xShape || slopeShape.length <= xShape.length)) return undefined;
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
      if (!f.legacy || (size ?? 2) === 1) return undefined;
      return {
        status: 'differs',
        reason: `Opset ${f.opset} PRelu applies its ${slopeShape ? fmtShape(slopeShape) : ''} slope per channel, but ${target.name} always broadcasts the slope from the last axis, so it would compute different numbers or fail.${perChannelHint(f)}`,
      };
    case 'slope-constant':
      if (f.slopeSource.kind === 'initializer' || f.slopeSource.kind === 'constant') return undefined;
      return {
        status: 'constraint',
        reason: `The slope "${f.slope}" is ${slopeOrigin(f)}, but ${target.name} needs the slope as a constant (an initializer or a Constant node) when the model is built.`,
      };
    case 'slope-layouts': {
      const layout = classifySlope(f);
      const takes = rule.allowed.map((l) => LAYOUT_WORDS[l]).join(', or ');
      if (layout === undefined) {
        if (!slopeShape) return { status: 'unknown', reason: `The slope's shape is not known, so it cannot be checked against ${target.name}'s slope layouts (${takes}).` };
        if (!xShape) return { status: 'unknown', reason: `The input's shape is not known, so how the ${fmtShape(slopeShape)} slope spreads over it cannot be checked against ${target.name}'s slope layouts (${takes}).` };
        return {
          status: 'constraint',
          reason: `${sDesc} does not broadcast to ${xDesc}, so it is none of the slope layouts ${target.name} takes (${takes}).${perChannelHint(f)}`,
        };
      }
      if (rule.allowed.includes(layout)) return undefined;
      return {
        status: 'constraint',
        reason: `${sDesc} on ${xDesc} is ${LAYOUT_WORDS[layout]}; ${target.name} takes only ${takes}.` +
          (layout === 'scalar' ? ' A single slope value is what LeakyRelu computes.' : ''),
      };
    }
    case 'slope-same-rank':
      if (!slopeShape || slopeShape.length <= 1 || size === 1) return undefined;
      if (!xShape) return { status: 'unknown', reason: `The input's rank is not known, so whether the ${fmtShape(slopeShape)} slope has it (as ${target.name} needs) cannot be checked.` };
      if (slopeShape.length === xShape.length) return undefined;
      return {
        status: 'constraint',
        reason: `${sDesc} has rank ${slopeShape.length} but the input ${fmtShape(xShape)} has rank ${xShape.length}; ${target.name} takes a single value, a 1-D slope or a slope of the input's rank. ` +
          (slopeShape.length < xShape.length ? `Reshaping the slope to ${fullRank(slopeShape, xShape.length)} keeps its meaning.` : ''),
      };
    case 'slope-single-axis': {
      if (!slopeShape || size === 1) return undefined;
      const varying = slopeShape.filter((d) => d !== 1).length;
      if (varying <= 1) return undefined;
      return {
        status: 'constraint',
        reason: `${sDesc} on ${xDesc} varies along ${varying} axes; ${target.name} applies a slope along one axis only.`,
      };
    }
    case 'slope-uniform': {
      if (size === 1) return undefined;
      if (rule.ranks) {
        if (!xShape) return { status: 'unknown', reason: `The input's rank is not known; on rank ${rule.ranks.join(' or ')} inputs ${target.name} needs one slope value for all channels, which cannot be checked.` };
        if (!rule.ranks.includes(xShape.length)) return undefined;
      }
      const values = f.slopeValues;
      if (!values) return { status: 'unknown', reason: `The slope's values are not known here (it is ${slopeOrigin(f)}), so whether they are all equal, as ${target.name} needs${rule.ranks ? ` on rank-${xShape!.length} inputs` : ''}, cannot be checked.` };
      if (values.every((v) => Object.is(v, values[0]) || v === values[0])) return undefined;
      return {
        status: 'constraint',
        reason: `${sDesc} on ${xDesc} holds ${new Set(values).size} different values; ${target.name} needs a single slope value shared by every channel${rule.ranks ? ` on rank-${xShape!.length} inputs` : ''}.`,
      };
    }
    case 'x-ranks':
      if (!xShape) return { status: 'unknown', reason: `The input's rank is not known, so ${target.name}'s rank limit (${rankRange(rule.min, rule.max)}) cannot be checked.` };
      if (xShape.length >= rule.min && xShape.length <= rule.max) return undefined;
      return { status: 'constraint', reason: `The input ${fmtShape(xShape)} has rank ${xShape.length}; ${target.name} runs PRelu on inputs of rank ${rankRange(rule.min, rule.max)} only.` };
    case 'slope-1d-channel-heuristic': {
      if (size === 1) return undefined;
      if (!slopeShape) return { status: 'unknown', reason: `The slope's shape is not known, so whether ${target.name} reads it per channel (its Caffe heuristic for 1-D slopes) cannot be checked.` };
      if (slopeShape.length === 1) {
        if (!xShape || xShape.length < 2) {
          return xShape ? undefined : { status: 'unknown', reason: `The input's shape is not known, so whether ${target.name} reads the ${fmtShape(slopeShape)} slope per channel (its Caffe heuristic) or along the last axis, as ONNX does, cannot be checked.` };
        }
        const n = slopeShape[0]!;
        const c = xShape[1]!;
        const last = xShape[xShape.length - 1]!;
        const fix = `Reshaping the slope to ${fullRank(slopeShape, xShape.length)} keeps the ONNX meaning and stops the heuristic.`;
        if (typeof n === 'number' && typeof c === 'number' && n === c) {
          // The heuristic fires: per channel. Same as ONNX when axis 1 is the last axis, and what
          // opset < 7 meant; a slope that cannot align with the last axis is read as its exporter meant.
          if (f.legacy || xShape.length === 2) return undefined;
          if (last === n) {
            return {
              status: 'differs',
              reason: `${sDesc} on input ${fmtShape(xShape)}: ONNX lines a 1-D slope up with the last axis (${last} values along axis ${xShape.length - 1}), ` +
                `but ${target.name} applies a 1-D slope whose length equals the input's axis-1 size (${c}) per channel instead. Both readings run, with different numbers. ${fix}`,
            };
          }
          if (typeof last !== 'number') {
            return { status: 'unknown', reason: `${sDesc} on input ${fmtShape(xShape)}: ${target.name} applies it per channel; ONNX lines it up with the last axis, whose size is not known. If that axis has ${n} entries at run time, the two differ. ${fix}` };
          }
          return undefined;
        }
        if (!f.legacy && typeof n === 'number' && typeof c !== 'number' && last === n) {
          return { status: 'unknown', reason: `${sDesc} on input ${fmtShape(xShape)}: if axis 1 has ${n} entries at run time, ${target.name} applies the slope per channel instead of along the last axis, as ONNX does. ${fix}` };
        }
      }
      // Anything else is broadcast numpy-style, as ONNX does.
      if (f.legacy || !xShape) return undefined;
      const v = unidirectional(slopeShape, xShape);
      if (v.ok !== false) return undefined;
      return { status: 'constraint', reason: `${sDesc} on input ${fmtShape(xShape)}: ${target.name} broadcasts this slope numpy-style, and ${v.why}, so it does not broadcast.${perChannelHint(f)}` };
    }
    case 'slope-read-per-channel': {
      if (size === 1) return undefined;
      if (!slopeShape) return { status: 'unknown', reason: `The slope's shape is not known; ${target.name} applies a slope of several values along axis 1 whatever its shape, so whether that matches ONNX cannot be checked.` };
      const layout = classifySlope(f);
      if (layout === 'channel' || layout === 'scalar') return undefined;
      if (layout === undefined) {
        return xShape ? undefined : { status: 'unknown', reason: `The input's shape is not known; ${target.name} applies the ${fmtShape(slopeShape)} slope along axis 1, so whether that matches ONNX cannot be checked.` };
      }
      const c = xShape![1];
      const n = size;
      const reads = typeof c === 'number' && n !== undefined && n !== c ? ` It reads ${c} slope values (one per channel) from a slope of ${n}.` : '';
      const blob = xShape!.length === 3 ? ' (a rank-3 input is a 2-D blob there, and the slope is indexed by its rows)' : '';
      return {
        status: 'differs',
        reason: `${sDesc} on input ${fmtShape(xShape!)}: ONNX applies ${LAYOUT_WORDS[layout]}, but ${target.name} drops the batch axis and applies the slope values along axis 1${blob}, so it computes different numbers.${reads}`,
      };
    }
  }
}
