// The local check: for each PRelu of the original model that the converted model computes
// differently, two tiny models — the original node alone, and the nodes that replaced it,
// extracted from the converted model as they are — run on the same values. A model too heavy to
// run whole is then proved node by node. When ONNX Runtime cannot run the original node (a [C]
// slope on NCHW under opset ≥ 7, any opset < 7 PRelu, integer PRelu), the rewritten nodes are
// compared with what the node means (PRelu's definition with the slope read as intended),
// computed here, and the result says so: it is never reported as agreement with the original.
import type { ModelProto, NodeProto, TensorProto } from 'onnx-buf';
import { writeModel } from '../onnx/model';
import { DT, dtypeName } from '../onnx/dtypes';
import { floatToHalf, halfToFloat, isExternal, readTensorValues } from '../onnx/tensor';
import { externalBytesSync } from '../onnx/external';
import { allGraphs, displayName, nodeId, resolveTensor, type Dim, type GraphIndex } from '../graph/scope';
import { intendedSlopeShape, preluFacts, type PreluFacts } from '../graph/prelu';
import { fmtShape } from '../graph/broadcast';
import { shallowCopy } from '../graph/edit';
import { compareTensors, type OutputComparison } from './compare';
import { generateTensor, type FeedDescription } from './inputs';
import { mulberry32 } from './rng';
import { tinyModel, valueInfo } from './tiny';
import { allocate, elementCount, runModel, type HostTensor, type NamedHostTensor, type OrtLike } from './types';

export interface RewrittenNode {
  /** The PRelu's id in the original model. */
  nodeId: string;
  name: string;
  status: 'rewritten' | 'unchanged' | 'unsupported';
  reason?: string;
  /** Op types of the nodes that now compute the PRelu's output, in graph order. */
  ops: string[];
}

interface Located {
  facts: PreluFacts;
  entry: RewrittenNode;
  conv?: { scope: GraphIndex; index: number };
  nodes?: number[];
  constants?: TensorProto[];
}

function allNames(model: ModelProto): Set<string> {
  const names = new Set<string>();
  for (const { graph } of allGraphs(model)) {
    for (const n of graph.node) for (const x of [...n.input, ...n.output]) if (x) names.add(x);
    for (const t of graph.initializer) names.add(t.name);
    for (const v of [...graph.input, ...graph.output]) names.add(v.name);
  }
  return names;
}

const isPrelu = (n: NodeProto) => n.opType === 'PRelu' && (n.domain === '' || n.domain === 'ai.onnx');

function locateAll(original: ModelProto, converted: ModelProto): Located[] {
  const origNames = allNames(original);
  const producers = new Map<string, { scope: GraphIndex; index: number }>();
  for (const scope of allGraphs(converted)) scope.graph.node.forEach((n, index) => n.output.forEach((o) => o && producers.set(o, { scope, index })));
  const out: Located[] = [];
  for (const scope of allGraphs(original)) {
    scope.graph.node.forEach((node, index) => {
      if (!isPrelu(node)) return;
      const facts = preluFacts(original, scope, index);
      const entry: RewrittenNode = { nodeId: nodeId(scope.path, index), name: displayName(node, index), status: 'unsupported', ops: [] };
      const y = node.output[0] ?? '';
      const conv = producers.get(y);
      if (!conv) {
        out.push({ facts, entry: { ...entry, reason: `the converted model has no node computing ${y}` } });
        return;
      }
      const heir = conv.scope.graph.node[conv.index]!;
      if (isPrelu(heir) && heir.input[0] === facts.x && heir.input[1] === facts.slope) {
        out.push({ facts, entry: { ...entry, status: 'unchanged', ops: ['PRelu'] } });
        return;
      }
      // Walk back from the output through every tensor the original did not have: those nodes and
      // constants are the rewrite. It must stop at the PRelu's own inputs.
      const nodes = new Set<number>([conv.index]);
      const constants: TensorProto[] = [];
      const boundary = new Set<string>();
      const seen = new Set<string>();
      let problem: string | undefined;
      const visit = (name: string) => {
        if (!name || seen.has(name)) return;
        seen.add(name);
        if (origNames.has(name)) { boundary.add(name); return; }
        const p = conv.scope.producer.get(name);
        if (p !== undefined) {
          nodes.add(p);
          conv.scope.graph.node[p]!.input.forEach(visit);
          return;
        }
        const src = resolveTensor(conv.scope, name);
        if (src.kind === 'initializer' || src.kind === 'constant') constants.push(shallowCopy(src.tensor, { name }));
        else problem ??= `the rewritten nodes read ${name}, which is neither the PRelu's input nor a constant`;
      };
      heir.input.forEach(visit);
      for (const b of boundary) if (b !== facts.x && b !== facts.slope) problem ??= `the rewritten nodes read ${b}, which the original PRelu does not`;
      const order = [...nodes].sort((a, b) => a - b);
      const ops = order.map((i) => conv.scope.graph.node[i]!.opType).filter((op) => op !== 'Constant');
      out.push({ facts, conv, nodes: order, constants, entry: { ...entry, status: problem ? 'unsupported' : 'rewritten', ops, ...(problem ? { reason: problem } : {}) } });
    });
  }
  return out;
}

/** Every PRelu of the original, with whether (and into what) the converted model rewrote it. */
export function findRewrittenNodes(original: ModelProto, converted: ModelProto): RewrittenNode[] {
  return locateAll(original, converted).map((l) => l.entry);
}

export interface LocalTensorSpec {
  name: string;
  dtype: number;
  dims: number[];
  role: 'x' | 'slope';
}

export interface LocalPair extends RewrittenNode {
  /** The original node alone, and the nodes that replaced it; tiny models taking `feeds`. */
  original: Uint8Array;
  rewritten: Uint8Array;
  feeds: LocalTensorSpec[];
  y: string;
  dtype: number;
  /** How the input's shape was chosen, when the model does not say. */
  shapeNote?: string;
  /** The slope as the node means it: for the reference when ONNX Runtime cannot run the node. */
  intended?: { dims: number[]; values?: number[]; note?: string };
}

/** A tensor with its values inside (a tiny model carries no data files), named `name`. */
function inline(t: TensorProto, name: string): TensorProto | undefined {
  if (!isExternal(t)) return shallowCopy(t, { name });
  const bytes = externalBytesSync(t);
  return bytes ? shallowCopy(t, { name, rawData: bytes as Uint8Array<ArrayBuffer>, dataLocation: 0, externalData: [] }) : undefined;
}

const resolveDims = (shape: readonly Dim[], sizes: Readonly<Record<string, number>>) =>
  shape.map((d) => (typeof d === 'number' && d > 0 ? d : typeof d === 'string' && d ? sizes[d] ?? 1 : undefined));

/** The shape to feed the PRelu's input: the model's, with symbolic sizes given; or one that fits the slope. */
function inputDims(f: PreluFacts, sizes: Readonly<Record<string, number>>): { dims: number[]; note?: string } | { error: string } {
  const s = f.slopeFacts.shape ? resolveDims(f.slopeFacts.shape, sizes) : undefined;
  const xs = f.xFacts.shape;
  if (!xs) {
    if (!s || s.some((d) => d === undefined)) return { error: `neither the shape of ${f.x} nor that of the slope is known` };
    // A leading axis of 16 broadcasts with any slope (and is axis 0, never the channel axis).
    const sd = s as number[];
    const dims = f.legacy && sd.length === 1 ? [16, sd[0]!] : [16, ...sd];
    return { dims, note: `the shape of ${f.x} is not declared; checked on ${fmtShape(dims)}` };
  }
  const dims = resolveDims(xs, sizes);
  // An unknown axis takes the slope's size there (it must match), else 1.
  const aligned = s && !(f.legacy && s.length === 1) ? [...Array<number | undefined>(Math.max(0, xs.length - s.length)).fill(1), ...s] : [];
  const out = dims.map((d, i) => d ?? (aligned[i] && aligned[i]! > 1 ? aligned[i]! : 1));
  const unknown = dims.some((d) => d === undefined);
  return { dims: out, ...(unknown ? { note: `unnamed axes of ${f.x} ${fmtShape(xs)} checked as ${fmtShape(out)}` } : {}) };
}

/** Builds the two tiny models for one PRelu; undefined with a reason when it cannot. */
export function buildLocalPairs(original: ModelProto, converted: ModelProto, sizes: Readonly<Record<string, number>> = {}, only?: ReadonlySet<string>): (LocalPair | RewrittenNode)[] {
  return locateAll(original, converted).filter((l) => !only || only.has(l.entry.nodeId)).map((l): LocalPair | RewrittenNode => {
    if (l.entry.status !== 'rewritten' || !l.conv) return l.entry;
    const f = l.facts;
    const fail = (reason: string): RewrittenNode => ({ ...l.entry, status: 'unsupported', reason });
    const dtype = f.xFacts.dtype ?? f.slopeFacts.dtype;
    if (!dtype) return fail(`the element type of ${f.x} is not known`);
    const x = inputDims(f, sizes);
    if ('error' in x) return fail(x.error);
    const feeds: LocalTensorSpec[] = [{ name: f.x, dtype, dims: x.dims, role: 'x' }];
    const inits: TensorProto[] = [];
    if (f.slopeTensor) {
      const t = inline(f.slopeTensor, f.slope);
      if (!t) return fail('the slope is stored as external data that was not opened with the model');
      inits.push(t);
    } else {
      const s = f.slopeFacts.shape ? resolveDims(f.slopeFacts.shape, sizes) : undefined;
      if (!s || s.some((d) => d === undefined)) return fail('the slope is computed at run time and its shape is not known');
      feeds.push({ name: f.slope, dtype: f.slopeFacts.dtype ?? dtype, dims: s as number[], role: 'slope' });
    }
    const inputs = feeds.map((t) => valueInfo(t.name, t.dtype, t.dims));
    const y = f.node.output[0]!;
    const outputs = [valueInfo(y, dtype)];
    const orig = tinyModel({
      name: `original ${l.entry.name}`, irVersion: original.irVersion, opsetImport: original.opsetImport,
      nodes: [f.node], inputs, outputs, initializers: inits,
    });
    // The converted side reads the slope as the converted model holds it.
    let convInits = inits;
    if (f.slopeTensor) {
      const src = resolveTensor(l.conv.scope, f.slope);
      const t = (src.kind === 'initializer' || src.kind === 'constant') ? inline(src.tensor, f.slope) : undefined;
      if (t) convInits = [t];
    }
    const g = l.conv.scope.graph;
    const rew = tinyModel({
      name: `rewritten ${l.entry.name}`, irVersion: converted.irVersion, opsetImport: converted.opsetImport,
      nodes: l.nodes!.map((i) => g.node[i]!), inputs, outputs,
      initializers: [...convInits.filter((t) => l.nodes!.some((i) => g.node[i]!.input.includes(t.name))), ...l.constants!.map((t) => inline(t, t.name) ?? t)],
    });
    const intended = intendedSlopeShape(f);
    let ref: LocalPair['intended'];
    if (!('error' in intended)) {
      const dims = resolveDims(intended.shape, sizes);
      if (dims.every((d) => d !== undefined)) {
        ref = { dims: dims as number[], ...(f.slopeTensor ? { values: readTensorValues(f.slopeTensor, Infinity) } : {}), ...(intended.note ? { note: intended.note } : {}) };
      }
    }
    return {
      ...l.entry, original: writeModel(orig), rewritten: writeModel(rew), feeds, y, dtype,
      ...(x.note ? { shapeNote: x.note } : {}), ...(ref ? { intended: ref } : {}),
    };
  });
}

export const isPair = (p: LocalPair | RewrittenNode): p is LocalPair => 'rewritten' in p && p.rewritten instanceof Uint8Array;

// ---- the reference: PRelu's definition, computed here ----------------------------------------

/**
 * y = x < 0 ? slope·x : x, the slope broadcast to x (trailing axes aligned), rounded to x's type
 * as ONNX Runtime's kernels do (float16 through float32). Exact on NaN (NaN < 0 is false), ±inf
 * and −0.0 (−0.0 < 0 is false, so it passes through).
 */
export function referencePrelu(x: HostTensor, slope: { dims: number[]; values: ArrayLike<number> }): HostTensor {
  const n = x.data.length;
  const out = allocate(x.dtype, n);
  const rank = x.dims.length;
  const sd = [...Array<number>(Math.max(0, rank - slope.dims.length)).fill(1), ...slope.dims];
  if (sd.length > rank || sd.some((d, i) => d !== 1 && d !== x.dims[i])) throw new Error(`the slope ${fmtShape(slope.dims)} does not broadcast to ${fmtShape(x.dims)}`);
  // Stride of each x axis in the slope (0 where the slope has size 1).
  const strides: number[] = new Array<number>(rank).fill(0);
  let st = 1;
  for (let a = rank - 1; a >= 0; a--) { strides[a] = sd[a] === 1 ? 0 : st; st *= sd[a]!; }
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    let si = 0;
    for (let a = 0; a < rank; a++) si += idx[a]! * strides[a]!;
    const s = slope.values[si]!;
    switch (x.dtype) {
      case DT.FLOAT: { const v = (x.data as Float32Array)[i]!; (out as Float32Array)[i] = v < 0 ? Math.fround(s * v) : v; break; }
      case DT.DOUBLE: { const v = (x.data as Float64Array)[i]!; (out as Float64Array)[i] = v < 0 ? s * v : v; break; }
      case DT.FLOAT16: { const b = (x.data as Uint16Array)[i]!; const v = halfToFloat(b); (out as Uint16Array)[i] = v < 0 ? floatToHalf(Math.fround(s * v)) : b; break; }
      case DT.INT64: case DT.UINT64: { const v = (x.data as BigInt64Array)[i]!; (out as BigInt64Array)[i] = v < 0n ? BigInt.asIntN(64, BigInt(s) * v) : v; break; }
      case DT.INT32: { const v = (x.data as Int32Array)[i]!; (out as Int32Array)[i] = v < 0 ? Math.imul(s, v) : v; break; }
      case DT.UINT32: { (out as Uint32Array)[i] = (x.data as Uint32Array)[i]!; break; }
      default: throw new Error(`no reference PRelu for ${dtypeName(x.dtype)}`);
    }
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < x.dims[a]!) break;
      idx[a] = 0;
    }
  }
  return { dtype: x.dtype, dims: [...x.dims], data: out };
}

// ---- running one check ------------------------------------------------------------------

export interface LocalResult {
  nodeId: string;
  name: string;
  ops: string[];
  status: 'pass' | 'fail' | 'original-cannot-run' | 'rewritten-cannot-run' | 'skipped';
  /** What the rewritten nodes were compared with. */
  against?: 'original-node' | 'intended-meaning';
  comparison?: OutputComparison;
  originalError?: string;
  rewrittenError?: string;
  /** One sentence: what was compared with what, and why. */
  note: string;
  inputs: FeedDescription[];
}

const firstLine = (e: unknown) => String((e as Error)?.message ?? e).split('\n').map((s) => s.trim()).filter(Boolean).slice(0, 2).join(' ');

export async function runLocalCheck(ort: OrtLike, item: LocalPair | RewrittenNode, opts: { seed: number; tolerance: number }): Promise<LocalResult> {
  const head = { nodeId: item.nodeId, name: item.name, ops: item.ops, inputs: [] as FeedDescription[] };
  if (!isPair(item)) {
    return { ...head, status: 'skipped', note: item.status === 'unchanged' ? 'not rewritten: the converted model still has this PRelu' : `cannot be checked: ${item.reason}` };
  }
  const rnd = mulberry32(opts.seed);
  const feeds: NamedHostTensor[] = item.feeds.map((s) => ({ name: s.name, ...generateTensor(s.dtype, s.dims, s.role === 'x' ? 'edge' : 'random', rnd) }));
  head.inputs = item.feeds.map((s) => ({
    name: s.name, dtype: dtypeName(s.dtype), dims: s.dims,
    source: `${s.role === 'x' ? 'edge values (NaN, ±inf, −0.0, ±max, …) between random values' : 'random'}, seed ${opts.seed}${s.role === 'x' && item.shapeNote ? ` (${item.shapeNote})` : ''}`,
  }));
  let expected: HostTensor | undefined;
  let against: LocalResult['against'] = 'original-node';
  let originalError: string | undefined;
  let note = `the ${item.ops.join(', ')} nodes against the original PRelu node, both run by ONNX Runtime`;
  try {
    expected = (await runModel(ort, item.original, feeds))[item.y];
  } catch (e) {
    originalError = firstLine(e);
  }
  if (!expected) {
    const x = feeds.find((f) => f.name === item.feeds[0]!.name)!;
    const slopeFeed = feeds.find((_, i) => i > 0 && item.feeds[i]?.role === 'slope');
    const values = item.intended?.values ?? (slopeFeed ? Array.from(slopeFeed.data as ArrayLike<number | bigint>, Number) : undefined);
    if (!item.intended || !values || elementCount(item.intended.dims) !== values.length) {
      return { ...head, status: 'original-cannot-run', originalError, note: `ONNX Runtime cannot run the original node, and its intended meaning is not known here: ${originalError}` };
    }
    try {
      expected = referencePrelu(x, { dims: item.intended.dims, values });
    } catch (e) {
      return { ...head, status: 'original-cannot-run', originalError, note: `ONNX Runtime cannot run the original node (${originalError}), and ${firstLine(e)}` };
    }
    against = 'intended-meaning';
    note = `ONNX Runtime cannot run the original node (${originalError}); the ${item.ops.join(', ')} nodes were compared with what it means: ` +
      `x < 0 ? slope·x : x with the slope as ${fmtShape(item.intended.dims)}${item.intended.note ? ` (${item.intended.note})` : ''}, computed by OpFit`;
  }
  let actual: HostTensor | undefined;
  try {
    actual = (await runModel(ort, item.rewritten, feeds))[item.y];
  } catch (e) {
    return { ...head, status: 'rewritten-cannot-run', against, originalError, rewrittenError: firstLine(e), note: `ONNX Runtime cannot run the rewritten nodes: ${firstLine(e)}` };
  }
  const comparison = compareTensors(item.y, expected, actual, opts.tolerance);
  if (comparison.signedZero > 0 && item.ops.includes('Where')) {
    note += `; −0.0 came out as +0.0 at ${comparison.signedZero} position(s): ONNX Runtime's Where kernel drops the sign of a −0.0 it selects (microsoft/onnxruntime#32191), though ONNX defines Where to keep it`;
  }
  return { ...head, status: comparison.pass ? 'pass' : 'fail', against, comparison, note, ...(originalError ? { originalError } : {}) };
}
