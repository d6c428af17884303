// Fusion, the other direction: find decomposed PReLU patterns and put one PRelu node back, for
// targets that run PRelu natively and lose speed (or their accelerator) on the decomposed form.
//
// Recognised, each with operands in either order (reference/prelu-targets.md §2):
//   where     Where(x < 0, slope·x, x), also with Greater(0, x), with x > 0 / x ≥ 0 / x ≤ 0 and the
//             branches swapped to match, and with the zero as CastLike(0, x) (PRelu-16's body);
//   max-min   Max(x, 0) + slope·Min(x, 0), Relu(x) for Max(x, 0) (Vela), Sub/Add and Neg placed
//             anywhere a sign can go;
//   relu-neg  Relu(x) − slope·Relu(−x), −x as Neg(x) or x·(−1), the slope negated instead
//             (MTCNN's Relu(x) + (−α)·Relu(−x));
//   max-scaled  Max(α·x, x) (Vela's lowering), only when every α is in [0, 1] (tensorflow#24566).
// A scalar slope is the LeakyRelu-like case of each. The engine's rule, as in the rewrites: a
// pattern whose intermediate tensors are graph outputs or feed anything outside it is left alone.
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, NodeProtoSchema, type GraphProto, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { DT, dtypeName } from '../onnx/dtypes';
import { isExternal, makeTensor, readTensorValues } from '../onnx/tensor';
import { broadcastShape, fmtShape, unidirectional } from '../graph/broadcast';
import { shallowCopy } from '../graph/edit';
import { nodeId, resolveTensor, scopeOpset, tensorFacts, type Dim, type GraphIndex } from '../graph/scope';

export type FusionKind = 'where' | 'max-min' | 'relu-neg' | 'max-scaled';

export interface FusionMatch {
  kind: FusionKind;
  /** Id of the node computing the pattern's output; the fused PRelu takes its place and name. */
  nodeId: string;
  scope: GraphIndex;
  /** Indices in scope.graph.node of every node the pattern consists of, the root included. */
  nodes: number[];
  root: number;
  x: string;
  slope: string;
  /** The slope enters the pattern negated (Relu(x) + s·Relu(−x) is PRelu with slope −s). */
  negate: boolean;
  output: string;
  /** Constants the pattern reads (0, −1): dropped when nothing else uses them. */
  leaves: string[];
  /** Where the pattern's numbers differ from PRelu's (so the fused graph differs there), or ''. */
  differs: string;
}

export interface FusionMiss {
  nodeId: string;
  kind: FusionKind;
  why: string;
}

const CMP = new Set(['Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']);
const INT_TYPES = new Set<number>([DT.INT32, DT.INT64, DT.UINT32, DT.UINT64]);

/** Elements of a constant (initializer that is not also a graph input, or Constant node), if small and inline. */
function constValues(scope: GraphIndex, name: string): { values: number[]; dims: number[]; tensor: TensorProto } | undefined {
  const src = resolveTensor(scope, name);
  if (src.kind === 'initializer' && src.alsoGraphInput) return undefined; // a caller may feed another value
  if (src.kind !== 'initializer' && src.kind !== 'constant') return undefined;
  const values = readTensorValues(src.tensor, 1 << 16);
  return values ? { values, dims: src.tensor.dims.map(Number), tensor: src.tensor } : undefined;
}

const isZero = (v: number) => v === 0;

/** Per scope: producer lookup limited to this graph, and the rank of tensors where it can be worked out. */
class Matcher {
  constructor(readonly model: ModelProto, readonly scope: GraphIndex) {}

  node(name: string): { node: NodeProto; index: number } | undefined {
    const i = this.scope.producer.get(name);
    return i === undefined ? undefined : { node: this.scope.graph.node[i]!, index: i };
  }

  /** A one-element constant 0 (also through CastLike(0, ·)): the nodes and leaves it takes. */
  zero(name: string): { nodes: number[]; leaves: string[]; rank: number } | undefined {
    const c = constValues(this.scope, name);
    if (c) return c.values.length === 1 && isZero(c.values[0]!) ? { nodes: [], leaves: [name], rank: c.dims.length } : undefined;
    const p = this.node(name);
    if (p?.node.opType === 'CastLike' && isDefault(p.node)) {
      const inner = this.zero(p.node.input[0] ?? '');
      return inner ? { nodes: [p.index, ...inner.nodes], leaves: inner.leaves, rank: inner.rank } : undefined;
    }
    return undefined;
  }

  /** A one-element constant −1 (x·(−1) is how some exporters write −x). */
  minusOne(name: string): string | undefined {
    const c = constValues(this.scope, name);
    return c && c.values.length === 1 && c.values[0] === -1 ? name : undefined;
  }

  /** Whether `name` is computed from `x` (or is x): a slope never is. */
  dependsOn(name: string, x: string, budget = { left: 400 }): boolean {
    if (name === x) return true;
    if (--budget.left < 0) return true; // too deep to tell: assume it does
    for (let s: GraphIndex | undefined = this.scope; s; s = s.parent) {
      const i = s.producer.get(name);
      if (i === undefined) continue;
      return s.graph.node[i]!.input.some((input) => input !== '' && this.dependsOn(input, x, budget));
    }
    return false;
  }

  /** The shape of a tensor: declared, a constant's, or carried through elementwise and broadcasting ops. */
  shape(name: string, depth = 0): Dim[] | undefined {
    const facts = tensorFacts(this.scope, name);
    if (facts.shape) return facts.shape;
    if (depth > 64) return undefined;
    for (let s: GraphIndex | undefined = this.scope; s; s = s.parent) {
      const i = s.producer.get(name);
      if (i === undefined) continue;
      const n = s.graph.node[i]!;
      if (!isDefault(n) || n.output[0] !== name) return undefined;
      const sub = new Matcher(this.model, s);
      if (ELEMENTWISE.has(n.opType)) return n.input[0] ? sub.shape(n.input[0], depth + 1) : undefined;
      if (BROADCASTING.has(n.opType)) {
        const shapes = n.input.filter(Boolean).map((input) => sub.shape(input, depth + 1));
        if (shapes.some((sh) => sh === undefined)) return undefined;
        return (shapes as Dim[][]).reduce<Dim[] | undefined>((acc, sh) => (acc ? broadcastShape(acc, sh) : undefined), []);
      }
      return undefined;
    }
    return undefined;
  }

  /** The rank of a tensor: declared, a constant's, or carried through ops that keep their input's rank. */
  rank(name: string, depth = 0): number | undefined {
    const facts = tensorFacts(this.scope, name);
    if (facts.shape) return facts.shape.length;
    if (depth > 64) return undefined;
    for (let s: GraphIndex | undefined = this.scope; s; s = s.parent) {
      const i = s.producer.get(name);
      if (i === undefined) continue;
      const n = s.graph.node[i]!;
      if (!isDefault(n)) return undefined;
      const sub = new Matcher(this.model, s);
      // A convolution's output has its weight's rank ([N, M, d1…dn] from [M, C/g, k1…kn]).
      if ((n.opType === 'Conv' || n.opType === 'ConvTranspose') && n.input[1]) {
        const w = sub.rank(n.input[1], depth + 1);
        if (w !== undefined) return w;
      }
      if (n.opType === 'Gemm') return 2;
      if (n.opType === 'MatMul') {
        const [ra, rb] = [n.input[0], n.input[1]].map((i) => (i ? sub.rank(i, depth + 1) : undefined));
        return ra === undefined || rb === undefined ? undefined : ra === 1 && rb === 1 ? 0 : Math.max(ra, rb) - (ra === 1 || rb === 1 ? 1 : 0);
      }
      if (SAME_RANK.has(n.opType)) return n.input[0] ? sub.rank(n.input[0], depth + 1) : undefined;
      if (BROADCASTING.has(n.opType)) {
        const ranks = n.input.filter(Boolean).map((input) => sub.rank(input, depth + 1));
        return ranks.every((r) => r !== undefined) ? Math.max(...(ranks as number[])) : undefined;
      }
      if (n.opType === 'Reshape') {
        const shape = n.input[1] ? constValues(s, n.input[1]) : undefined;
        return shape?.values.length;
      }
      if (n.opType === 'Unsqueeze') {
        const r = n.input[0] ? sub.rank(n.input[0], depth + 1) : undefined;
        const axesAttr = n.attribute.find((a) => a.name === 'axes');
        const axes = axesAttr ? axesAttr.ints.length : n.input[1] ? constValues(s, n.input[1])?.values.length : undefined;
        return r === undefined || axes === undefined ? undefined : r + axes;
      }
      return undefined;
    }
    return undefined;
  }
}

/** Ops whose output has the shape of their first input. */
const ELEMENTWISE = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Erf', 'Softplus', 'Softsign', 'Elu', 'Selu', 'Celu', 'HardSigmoid',
  'HardSwish', 'Gelu', 'Mish', 'Clip', 'Cast', 'CastLike', 'Identity', 'Dropout', 'BatchNormalization', 'InstanceNormalization',
  'LayerNormalization', 'Softmax', 'LogSoftmax', 'Sign', 'Floor', 'Ceil', 'Round', 'Reciprocal', 'Not', 'IsNaN', 'IsInf',
]);
/** Ops whose output has the rank of their first input. */
const SAME_RANK = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Sigmoid', 'Tanh', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Erf', 'Softplus', 'Softsign', 'Elu', 'Selu', 'Celu',
  'HardSigmoid', 'HardSwish', 'Gelu', 'Mish', 'Clip', 'Cast', 'CastLike', 'Identity', 'Dropout', 'BatchNormalization', 'InstanceNormalization',
  'LayerNormalization', 'GroupNormalization', 'LpNormalization', 'Softmax', 'LogSoftmax', 'Hardmax', 'Sign', 'Floor', 'Ceil', 'Round', 'Reciprocal',
  'Not', 'IsNaN', 'IsInf', 'Conv', 'ConvTranspose', 'ConvInteger', 'QLinearConv', 'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool',
  'GlobalMaxPool', 'GlobalLpPool', 'Transpose', 'Pad', 'Slice', 'Resize', 'Upsample', 'Tile', 'DepthToSpace', 'SpaceToDepth', 'LRN',
  'Shrink', 'ThresholdedRelu', 'CumSum', 'ReverseSequence', 'Trilu', 'QuantizeLinear', 'DequantizeLinear',
]);
/** Ops whose output has the largest rank of their inputs (numpy broadcasting). */
const BROADCASTING = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Mod', 'BitShift']);

const isDefault = (n: NodeProto) => n.domain === '' || n.domain === 'ai.onnx';

/** A signed multiple of the positive part relu(x) or the negative part min(x, 0), times an optional coefficient. */
interface Term {
  part: 'pos' | 'neg';
  x: string;
  sign: 1 | -1;
  coef?: string;
  nodes: number[];
  leaves: string[];
}

const flip = (t: Term): Term => ({ ...t, sign: t.sign === 1 ? -1 : 1 });

function terms(m: Matcher, name: string, depth = 0): Term[] {
  if (depth > 8) return [];
  const p = m.node(name);
  if (!p || !isDefault(p.node) || p.node.output.length !== 1) return [];
  const { node: n, index } = p;
  const at = (t: Term, extra: { nodes?: number[]; leaves?: string[] } = {}): Term => ({ ...t, nodes: [index, ...(extra.nodes ?? []), ...t.nodes], leaves: [...t.leaves, ...(extra.leaves ?? [])] });
  const [a = '', b = ''] = n.input;
  switch (n.opType) {
    case 'Relu': {
      // relu(x) is the positive part; relu(−u) = −min(u, 0) is a negative part of u.
      const out: Term[] = [{ part: 'pos', x: a, sign: 1, nodes: [index], leaves: [] }];
      for (const u of negated(m, a)) out.push({ part: 'neg', x: u.x, sign: -1, nodes: [index, ...u.nodes], leaves: u.leaves });
      return out;
    }
    case 'Max':
    case 'Min': {
      if (n.input.length !== 2) return [];
      const part = n.opType === 'Max' ? 'pos' : 'neg';
      const out: Term[] = [];
      for (const [x, z] of [[a, b], [b, a]] as const) {
        const zero = m.zero(z);
        if (zero) out.push({ part, x, sign: 1, nodes: [index, ...zero.nodes], leaves: zero.leaves });
      }
      return out;
    }
    case 'Neg':
      return terms(m, a, depth + 1).map((t) => at(flip(t)));
    case 'Mul': {
      const out: Term[] = [];
      for (const [t, c] of [[a, b], [b, a]] as const) {
        for (const inner of terms(m, t, depth + 1)) {
          if (m.minusOne(c)) out.push(at(flip(inner), { leaves: [c] }));
          else if (!inner.coef && !m.dependsOn(c, inner.x)) {
            // A coefficient written as Neg(s), used only here, is s with the sign flipped.
            const q = m.node(c);
            if (q && q.node.opType === 'Neg' && isDefault(q.node) && !m.dependsOn(q.node.input[0] ?? '', inner.x)) {
              out.push(at(flip({ ...inner, coef: q.node.input[0]! }), { nodes: [q.index] }));
            }
            out.push(at({ ...inner, coef: c }));
          }
        }
      }
      return out;
    }
    default:
      return [];
  }
}

/** Ways `name` is −u for some u: Neg(u) or u·(−1). */
function negated(m: Matcher, name: string): { x: string; nodes: number[]; leaves: string[] }[] {
  const p = m.node(name);
  if (!p || !isDefault(p.node)) return [];
  if (p.node.opType === 'Neg') return [{ x: p.node.input[0] ?? '', nodes: [p.index], leaves: [] }];
  if (p.node.opType === 'Mul' && p.node.input.length === 2) {
    const [a = '', b = ''] = p.node.input;
    if (m.minusOne(b)) return [{ x: a, nodes: [p.index], leaves: [b] }];
    if (m.minusOne(a)) return [{ x: b, nodes: [p.index], leaves: [a] }];
  }
  return [];
}

type Partial = Omit<FusionMatch, 'scope' | 'nodeId' | 'root' | 'output'>;

function matchWhere(m: Matcher, n: NodeProto, index: number): Partial | string | undefined {
  const [c = '', a = '', b = ''] = n.input;
  const cond = m.node(c);
  if (!cond || !CMP.has(cond.node.opType) || !isDefault(cond.node)) return undefined;
  const [p = '', q = ''] = cond.node.input;
  const zq = m.zero(q);
  const zp = m.zero(p);
  const x = zq ? p : zp ? q : undefined;
  const zero = zq ?? zp;
  if (x === undefined || !zero) return undefined;
  // Normalise to "cond true ⇔ x on the negative side": Less(x,0), Greater(0,x), LessOrEqual(x,0), GreaterOrEqual(0,x).
  const op = cond.node.opType;
  const xFirst = x === p;
  const negTrue = xFirst ? op === 'Less' || op === 'LessOrEqual' : op === 'Greater' || op === 'GreaterOrEqual';
  const inclusive = op === 'LessOrEqual' || op === 'GreaterOrEqual';
  const [negBranch, posBranch] = negTrue ? [a, b] : [b, a];
  if (posBranch !== x) return undefined;
  const mul = m.node(negBranch);
  if (!mul || mul.node.opType !== 'Mul' || !isDefault(mul.node) || mul.node.input.length !== 2) return undefined;
  const [u = '', v = ''] = mul.node.input;
  const slope = u === x ? v : v === x ? u : undefined;
  if (slope === undefined) return undefined;
  if (m.dependsOn(slope, x)) return 'the factor multiplying x is itself computed from x, so this is not PRelu';
  // x < 0 (or 0 > x) is PRelu's own test; x ≤ 0 and x > 0 / x ≥ 0 differ only where x is ±0.
  const exactTest = negTrue && !inclusive;
  return {
    kind: 'where', nodes: [index, cond.index, mul.index, ...zero.nodes], x, slope, negate: false, leaves: zero.leaves,
    differs: exactTest ? '' : 'the pattern took slope·x at x = ±0, so the sign of a zero output (and NaN from an infinite slope there) could differ from PRelu',
  };
}

function matchSum(m: Matcher, n: NodeProto, index: number): Partial | string | undefined {
  if (n.input.length !== 2) return undefined;
  const [a = '', b = ''] = n.input;
  const left = terms(m, a);
  const right = terms(m, b).map((t) => (n.opType === 'Sub' ? flip(t) : t));
  let near: string | undefined;
  for (const l of left) {
    for (const r of right) {
      const pos = l.part === 'pos' ? l : r.part === 'pos' ? r : undefined;
      const neg = pos === l ? r : l;
      if (!pos || neg.part !== 'neg' || pos === neg || pos.x !== neg.x) continue;
      if (pos.sign !== 1 || pos.coef) {
        near = 'the positive part is scaled, so this is not PRelu';
        continue;
      }
      if (!neg.coef) continue; // relu(x) + min(x, 0) is x itself
      const viaRelu = neg.nodes.some((i) => m.scope.graph.node[i]!.opType === 'Relu');
      return {
        kind: viaRelu ? 'relu-neg' : 'max-min',
        nodes: [index, ...pos.nodes, ...neg.nodes], x: pos.x, slope: neg.coef, negate: neg.sign === -1, leaves: [...pos.leaves, ...neg.leaves],
        differs: 'the pattern gave +0 for some zero inputs and NaN for an infinite slope at x ≥ 0 (inf·0), where PRelu gives x',
      };
    }
  }
  return near;
}

function matchMaxScaled(m: Matcher, n: NodeProto, index: number): Partial | string | undefined {
  if (n.input.length !== 2) return undefined;
  const [a = '', b = ''] = n.input;
  for (const [x, scaled] of [[a, b], [b, a]] as const) {
    const mul = m.node(scaled);
    if (!mul || mul.node.opType !== 'Mul' || !isDefault(mul.node) || mul.node.input.length !== 2) continue;
    const [u = '', v = ''] = mul.node.input;
    const alpha = u === x ? v : v === x ? u : undefined;
    if (alpha === undefined) continue;
    const c = constValues(m.scope, alpha);
    if (!c) return `Max(α·x, x) is PRelu only when every α is in [0, 1], and α ("${alpha}") is not a constant whose values can be read`;
    const out = c.values.filter((v) => !(v >= 0 && v <= 1));
    if (out.length) return `Max(α·x, x) is PRelu only when every α is in [0, 1]; α has ${out.length === c.values.length ? 'only ' : ''}values outside it (e.g. ${out[0]}), where it computes something else`;
    return {
      kind: 'max-scaled', nodes: [index, mul.index], x, slope: alpha, negate: false, leaves: [],
      differs: 'the pattern took the larger of α·x and x, so the sign of a zero output could differ from PRelu',
    };
  }
  return undefined;
}

/**
 * Every decomposed PReLU pattern in every graph (function bodies included), and why near-misses
 * were not taken. A match here is safe to fuse as far as the graph goes; the target's own
 * constraints are checked by the engine on the fused result.
 */
export function findFusions(model: ModelProto, scopes: readonly GraphIndex[]): { matches: FusionMatch[]; misses: FusionMiss[] } {
  const matches: FusionMatch[] = [];
  const misses: FusionMiss[] = [];
  for (const scope of scopes) {
    const m = new Matcher(model, scope);
    const claimed = new Set<number>();
    // Roots last in node order first, so an outer pattern is seen before one nested in it.
    for (let index = scope.graph.node.length - 1; index >= 0; index--) {
      const n = scope.graph.node[index]!;
      if (!isDefault(n) || n.output.length !== 1 || claimed.has(index)) continue;
      const found =
        n.opType === 'Where' ? matchWhere(m, n, index)
        : n.opType === 'Add' || n.opType === 'Sub' ? matchSum(m, n, index)
        : n.opType === 'Max' ? matchMaxScaled(m, n, index)
        : undefined;
      if (found === undefined) continue;
      const id = nodeId(scope.path, index);
      const kind: FusionKind = n.opType === 'Where' ? 'where' : n.opType === 'Max' ? 'max-scaled' : 'max-min';
      if (typeof found === 'string') {
        misses.push({ nodeId: id, kind, why: found });
        continue;
      }
      const match: FusionMatch = { ...found, nodes: [...new Set(found.nodes)], scope, nodeId: id, root: index, output: n.output[0]! };
      const why = unsafe(m, match);
      if (why) {
        misses.push({ nodeId: id, kind: match.kind, why });
        continue;
      }
      match.nodes.forEach((i) => claimed.add(i));
      matches.push(match);
    }
  }
  return { matches, misses };
}

/** Why fusing this match could change the model, or undefined when it cannot. */
function unsafe(m: Matcher, match: FusionMatch): string | undefined {
  const { scope } = match;
  const inside = new Set(match.nodes);
  // Every intermediate tensor feeds only the pattern and is not a graph output.
  for (const i of match.nodes) {
    if (i === match.root) continue;
    const n = scope.graph.node[i]!;
    for (const out of n.output) {
      if (!out) continue;
      if (scope.outputs.has(out)) return `the intermediate tensor "${out}" is a graph output, so the pattern's nodes must stay`;
      const users = scope.consumers.get(out) ?? [];
      const outside = users.filter((u) => !inside.has(u));
      if (outside.length) return `the intermediate tensor "${out}" is also used by ${displayOf(scope, outside[0]!)}, so the pattern's nodes must stay`;
    }
  }
  const opset = scopeOpset(m.model, scope) ?? 1;
  if (opset < 7) return `PRelu before opset 7 reads a slope per channel instead of broadcasting it; the model is opset ${opset}`;
  // PRelu's types at this opset.
  const dt = tensorFacts(scope, match.x).dtype ?? tensorFacts(scope, match.slope).dtype;
  if (dt === undefined) return `the element type of "${match.x}" is not known, so whether PRelu takes it cannot be checked`;
  const allowed = dt === DT.FLOAT || dt === DT.FLOAT16 || dt === DT.DOUBLE || (INT_TYPES.has(dt) && opset >= 9) || (dt === DT.BFLOAT16 && opset >= 16);
  if (!allowed) return `PRelu at opset ${opset} does not take ${dtypeName(dt)}`;
  if (match.negate && (dt === DT.UINT32 || dt === DT.UINT64)) return 'the slope would have to be negated, which an unsigned type cannot hold';
  // The slope must broadcast one way to x, as PRelu needs; Mul broadcast both ways.
  const xs = m.shape(match.x);
  const ss = m.shape(match.slope);
  if (!ss) return `the shape of the slope "${match.slope}" is not known, so whether it broadcasts to x as PRelu needs cannot be checked`;
  const size = ss.every((d): d is number => typeof d === 'number') ? ss.reduce((p, d) => p * d, 1) : undefined;
  if (xs) {
    const v = unidirectional(ss, xs);
    if (v.ok === false) return `the slope ${fmtShape(ss)} does not broadcast to x ${fmtShape(xs)} one way (${v.why}), as PRelu needs`;
    if (v.ok === 'unknown') return `whether the slope ${fmtShape(ss)} broadcasts to x ${fmtShape(xs)} cannot be checked (${v.why})`;
  } else {
    const rank = m.rank(match.x);
    if (size !== 1 || rank === undefined) return `the shape of x "${match.x}" is not known, so whether the slope ${fmtShape(ss)} broadcasts to it as PRelu needs cannot be checked`;
    if (ss.length > rank) return `the slope ${fmtShape(ss)} has a higher rank than x (${rank}), so the pattern's output is wider than PRelu's`;
  }
  // A zero constant of higher rank than x would widen the pattern's output too.
  const xRank = xs?.length ?? m.rank(match.x);
  for (const leaf of match.leaves) {
    const c = constValues(scope, leaf);
    if (c && c.dims.length > 0 && (xRank === undefined || c.dims.length > xRank)) return `the constant "${leaf}" has rank ${c.dims.length}, which could widen the pattern's output beyond x`;
  }
  if (match.negate) {
    const c = constValues(scope, match.slope);
    if (!c) {
      const src = resolveTensor(scope, match.slope);
      if ((src.kind === 'initializer' || src.kind === 'constant') && isExternal(src.tensor)) return 'the slope would have to be negated, and it is stored as external data';
    }
  }
  return undefined;
}

function displayOf(scope: GraphIndex, i: number): string {
  const n = scope.graph.node[i]!;
  return n.name ? `node ${n.name}` : `a ${n.opType} node`;
}

export interface FusedGraph {
  graph: GraphProto;
  /** Names of the PRelu nodes made, by the id of the root they replaced. */
  made: Map<string, string>;
  notes: string[];
}

/**
 * Fuses the matches of one graph: each root becomes PRelu(x, slope) with the root's name and output;
 * the other pattern nodes go, with their value_info, and constants left without users. A negated
 * slope becomes a new constant (or a Neg node when the slope is computed at run time).
 */
export function fuseGraph(g: GraphProto, scope: GraphIndex, matches: readonly FusionMatch[], taken: Set<string>, useInitializers: boolean): FusedGraph {
  const unique = (hint: string) => {
    let name = hint;
    for (let i = 1; taken.has(name); i++) name = `${hint}_${i}`;
    taken.add(name);
    return name;
  };
  const drop = new Set<number>();
  const replace = new Map<number, NodeProto[]>();
  const inits: TensorProto[] = [];
  const made = new Map<string, string>();
  const notes: string[] = [];
  const gone = new Set<string>();
  for (const match of matches) {
    const root = g.node[match.root]!;
    match.nodes.forEach((i) => i !== match.root && drop.add(i));
    for (const i of match.nodes) if (i !== match.root) g.node[i]!.output.forEach((o) => gone.add(o));
    const before: NodeProto[] = [];
    let slope = match.slope;
    const base = root.name || match.output;
    if (match.negate) {
      const c = constValues(scope, match.slope);
      if (c) {
        const name = unique(`${base}/slope`);
        const t = makeTensor(name, c.tensor.dataType, c.dims, c.values.map((v) => -v));
        if (useInitializers) inits.push(t);
        else before.push(create(NodeProtoSchema, { opType: 'Constant', output: [name], name: unique(`${base}/Constant`), attribute: [create(AttributeProtoSchema, { name: 'value', type: 4, t: shallowCopy(t, { name: '' }) })] }));
        slope = name;
      } else {
        slope = unique(`${base}/slope`);
        before.push(create(NodeProtoSchema, { opType: 'Neg', input: [match.slope], output: [slope], name: unique(`${base}/Neg`) }));
      }
    }
    const name = root.name || unique(`${match.output}/PRelu`);
    const prelu = create(NodeProtoSchema, { opType: 'PRelu', input: [match.x, slope], output: [match.output], name });
    replace.set(match.root, [...before, prelu]);
    made.set(match.nodeId, name);
    notes.push(`${root.name || match.output}: ${KIND_LABEL[match.kind]} → PRelu(${match.x}, ${match.negate ? `−${match.slope}` : match.slope})${match.differs ? ` (${match.differs}; PRelu is exact there)` : ''}.`);
  }
  const node = g.node.flatMap((n, i) => (drop.has(i) ? [] : replace.get(i) ?? [n]));
  let out = shallowCopy(g, {
    node,
    initializer: inits.length ? [...g.initializer, ...inits] : g.initializer,
    valueInfo: g.valueInfo.some((v) => gone.has(v.name)) ? g.valueInfo.filter((v) => !gone.has(v.name)) : g.valueInfo,
  });
  // Constants only the patterns read (0, −1, an old slope) go when nothing is left using them.
  const leaves = new Set(matches.flatMap((m) => (m.negate ? [...m.leaves, m.slope] : m.leaves)));
  const used = new Set<string>(out.node.flatMap((n) => n.input));
  for (const n of out.node) for (const a of n.attribute) for (const sg of [...(a.g ? [a.g] : []), ...a.graphs]) outerNames(sg, used);
  const keep = (name: string) => used.has(name) || out.output.some((o) => o.name === name) || out.input.some((i) => i.name === name) || !leaves.has(name);
  out = shallowCopy(out, {
    initializer: out.initializer.filter((t) => keep(t.name)),
    node: out.node.filter((n) => !(n.opType === 'Constant' && n.output.length === 1 && !keep(n.output[0]!))),
  });
  return { graph: out, made, notes };
}

const KIND_LABEL: Record<FusionKind, string> = {
  where: 'Where(x < 0, slope·x, x)',
  'max-min': 'Max(x, 0) + slope·Min(x, 0)',
  'relu-neg': 'Relu(x) − slope·Relu(−x)',
  'max-scaled': 'Max(α·x, x)',
};

/** Every name a subgraph reads, nested ones included (a superset of its outer-scope reads is enough here). */
function outerNames(g: GraphProto, into: Set<string>): void {
  for (const n of g.node) {
    n.input.forEach((i) => into.add(i));
    for (const a of n.attribute) for (const sg of [...(a.g ? [a.g] : []), ...a.graphs]) outerNames(sg, into);
  }
}

export type { Dim };
