// Generated PRelu models for the property tests: the case generator, the model builder, inputs,
// the reference (PRelu by its definition, in the model's precision) and running in ONNX Runtime.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { create } from '@bufbuild/protobuf';
import { FunctionProtoSchema, OperatorSetIdProtoSchema, StringStringEntryProtoSchema, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { floatToHalf, halfToFloat } from '../../src/onnx/tensor';
import { minIrVersion } from '../../src/rewrites/opset-raise';
import { DT, graph, graphAttr, makeTensor, model, node, tensorAttr, valueInfo } from '../helpers/build';
import { SESSION_OPTIONS } from '../helpers/ort';

export type Source = 'initializer' | 'init-input' | 'constant' | 'graph-input' | 'shared' | 'external';
export type Where = 'main' | 'if' | 'loop' | 'function';
export interface Case {
  opset: number;
  dtype: number;
  xShape: number[];
  slopeShape: number[];
  slope: number[];
  source: Source;
  where: Where;
  ir3: boolean;
  seed: number;
}


export const INTS = [DT.INT32, DT.INT64, DT.UINT32, DT.UINT64];
export const ORT_TYPE: Record<number, ort.Tensor.Type> = {
  [DT.FLOAT]: 'float32', [DT.DOUBLE]: 'float64', [DT.FLOAT16]: 'float16', [DT.INT32]: 'int32', [DT.INT64]: 'int64', [DT.UINT32]: 'uint32', [DT.UINT64]: 'uint64',
};
/** Slope values, exactly representable in every float type (bfloat16 has 8 significant bits). */
const FLOAT_SLOPES = [0.25, -1.5, 2, 0, 0.5, 1, -0.125, 3, -0.75, 0.0625];
const INT_SLOPES = [-2, -1, 0, 1, 2, 3];

export const caseArb: fc.Arbitrary<Case> = fc
  .record({
    opset: fc.integer({ min: 7, max: 21 }),
    dtype: fc.constantFrom(DT.FLOAT, DT.FLOAT, DT.FLOAT, DT.DOUBLE, DT.FLOAT16, DT.BFLOAT16, DT.INT32, DT.INT64, DT.UINT32, DT.UINT64),
    xShape: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 5 }),
    slopeRank: fc.nat(),
    keep: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    slopePick: fc.array(fc.nat(), { minLength: 243, maxLength: 243 }),
    source: fc.constantFrom<Source>('initializer', 'init-input', 'constant', 'graph-input', 'shared', 'external'),
    where: fc.constantFrom<Where>('main', 'main', 'if', 'loop', 'function'),
    ir3: fc.boolean(),
    seed: fc.integer(),
  })
  .map((r) => {
    // PRelu's types: int from opset 9, bfloat16 from 16.
    const opset = INTS.includes(r.dtype as never) ? Math.max(r.opset, 9) : r.dtype === DT.BFLOAT16 ? Math.max(r.opset, 16) : r.opset;
    // A legal slope: the last k axes of x, each either 1 or x's size (unidirectional broadcasting).
    const k = r.slopeRank % (r.xShape.length + 1);
    const slopeShape = r.xShape.slice(r.xShape.length - k).map((d, i) => (r.keep[i] ? d : 1));
    const size = slopeShape.reduce((a, b) => a * b, 1);
    const pool = INTS.includes(r.dtype as never) ? (r.dtype === DT.UINT32 || r.dtype === DT.UINT64 ? INT_SLOPES.filter((v) => v >= 0) : INT_SLOPES) : FLOAT_SLOPES;
    const slope = Array.from({ length: size }, (_, i) => pool[r.slopePick[i]! % pool.length]!);
    return { opset, dtype: r.dtype, xShape: r.xShape, slopeShape, slope, source: r.source, where: r.where, ir3: r.ir3 && opset < 9 && r.where !== 'function', seed: r.seed };
  });

export const describeCase = (c: Case) =>
  `opset ${c.opset} ${ORT_TYPE[c.dtype] ?? 'bfloat16'} x[${c.xShape}] slope[${c.slopeShape}]=${JSON.stringify(c.slope)} ${c.source} in ${c.where}${c.ir3 ? ' IR3' : ''}`;

/** The original model of a case, and the files it needs next to it (external data). */
export function build(c: Case, dir: string): ModelProto {
  const { dtype } = c;
  const slopeName = 'slope';
  const slopeT = makeTensor(slopeName, dtype, c.slopeShape, c.slope);
  const inits: TensorProto[] = [];
  const inputs = [valueInfo('x', dtype, c.xShape)];
  const pre: NodeProto[] = [];
  switch (c.source) {
    case 'initializer':
    case 'shared':
      inits.push(slopeT);
      break;
    case 'init-input':
      inits.push(slopeT);
      inputs.push(valueInfo(slopeName, dtype, c.slopeShape));
      break;
    case 'constant':
      pre.push(node('Constant', [], [slopeName], { attribute: [tensorAttr('value', makeTensor('', dtype, c.slopeShape, c.slope))] }));
      break;
    case 'graph-input':
      inputs.push(valueInfo(slopeName, dtype, c.slopeShape));
      break;
    case 'external': {
      const raw = slopeT.rawData;
      writeFileSync(join(dir, 'slope.bin'), raw);
      const t = makeTensor(slopeName, dtype, c.slopeShape, []);
      t.dataLocation = 1;
      t.externalData = [
        create(StringStringEntryProtoSchema, { key: 'location', value: 'slope.bin' }),
        create(StringStringEntryProtoSchema, { key: 'length', value: String(raw.length) }),
      ];
      inits.push(t);
      break;
    }
  }
  const shared = c.source === 'shared';
  // The PRelu nodes of the case, reading `xin` and writing `yout`.
  const prelus = (xin: string, yout: string, s = slopeName): NodeProto[] =>
    shared ? [node('PRelu', [xin, s], [`${yout}_mid`], { name: 'p1' }), node('PRelu', [`${yout}_mid`, s], [yout], { name: 'p2' })] : [node('PRelu', [xin, s], [yout], { name: 'p' })];
  const ty = (name: string) => valueInfo(name, dtype, c.xShape);
  let nodes: NodeProto[];
  const extraInputs = [] as ReturnType<typeof valueInfo>[];
  let fn;
  switch (c.where) {
    case 'main':
      nodes = [...pre, ...prelus('x', 'y')];
      break;
    case 'if': {
      const then = graph({ name: 'then', nodes: prelus('x', 't'), outputs: [ty('t')] });
      const other = graph({ name: 'else', nodes: [node('Identity', ['x'], ['e'])], outputs: [ty('e')] });
      nodes = [...pre, node('If', ['cond'], ['y'], { name: 'if', attribute: [graphAttr('then_branch', then), graphAttr('else_branch', other)] })];
      extraInputs.push(valueInfo('cond', DT.BOOL, []));
      break;
    }
    case 'loop': {
      const body = graph({
        name: 'body',
        nodes: [node('Identity', ['cin'], ['cout']), ...prelus('xin', 'xout')],
        inputs: [valueInfo('i', DT.INT64, []), valueInfo('cin', DT.BOOL, []), ty('xin')],
        outputs: [valueInfo('cout', DT.BOOL, []), ty('xout')],
      });
      nodes = [...pre, node('Loop', ['trips', 'go', 'x'], ['y'], { name: 'loop', attribute: [graphAttr('body', body)] })];
      inits.push(makeTensor('trips', DT.INT64, [], [1]), makeTensor('go', DT.BOOL, [], [1]));
      break;
    }
    case 'function': {
      // The slope is the function's second input, except a Constant-node slope, which lives in the body.
      const inBody = c.source === 'constant';
      fn = create(FunctionProtoSchema, {
        name: 'Act', domain: 'local', input: inBody ? ['a'] : ['a', 's'], output: ['b'],
        opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(c.opset) })],
        node: [...(inBody ? pre.map((n) => Object.assign(n, { output: ['s'] })) : []), ...prelus('a', 'b', 's')],
      });
      const call = node('Act', inBody ? ['x'] : ['x', slopeName], ['y'], { name: 'call' });
      call.domain = 'local';
      nodes = inBody ? [call] : [...pre, call];
      break;
    }
  }
  if (c.ir3) for (const t of inits) if (!inputs.some((i) => i.name === t.name)) inputs.push(valueInfo(t.name, t.dataType, t.dims.map(Number)));
  const ir = c.where === 'function' ? Math.max(8, minIrVersion(c.opset)) : c.ir3 ? 3 : Math.max(4, minIrVersion(c.opset));
  const m = model(graph({ nodes, inputs: [...inputs, ...extraInputs], outputs: [ty('y')], initializers: inits }), c.opset, ir);
  if (fn) {
    m.functions.push(fn);
    m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'local', version: 1n }));
  }
  return m;
}

// ---- values --------------------------------------------------------------------------------------

const EDGE = [-0, 0, NaN, Infinity, -Infinity];
export function xValues(c: Case, n: number): number[] {
  let s = c.seed >>> 0;
  const rnd = () => ((s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
  const float = [-2, -0.5, 3, 0.25, -1000, 7, -7, 1.5, -0.0625, 1000];
  const int = [-5, -3, -1, 0, 1, 2, 4, 5];
  return Array.from({ length: n }, (_, i) => {
    if (INTS.includes(c.dtype as never)) {
      const v = int[Math.floor(rnd() * int.length)]!;
      return c.dtype === DT.UINT32 || c.dtype === DT.UINT64 ? Math.abs(v) : v;
    }
    return i < EDGE.length ? EDGE[i]! : float[Math.floor(rnd() * float.length)]!;
  });
}

/** Rounds to the dtype's precision. */
export function round(dtype: number, v: number): number {
  if (dtype === DT.FLOAT) return Math.fround(v);
  if (dtype === DT.FLOAT16) return halfToFloat(floatToHalf(v));
  return v;
}

export function ortTensor(dtype: number, values: number[], dims: number[]): ort.Tensor {
  switch (dtype) {
    case DT.FLOAT: return new ort.Tensor('float32', Float32Array.from(values), dims);
    case DT.DOUBLE: return new ort.Tensor('float64', Float64Array.from(values), dims);
    case DT.FLOAT16: return new ort.Tensor('float16', Uint16Array.from(values, floatToHalf), dims);
    case DT.INT32: return new ort.Tensor('int32', Int32Array.from(values), dims);
    case DT.UINT32: return new ort.Tensor('uint32', Uint32Array.from(values), dims);
    case DT.INT64: return new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
    case DT.UINT64: return new ort.Tensor('uint64', BigUint64Array.from(values.map(BigInt)), dims);
  }
  throw new Error(`no ORT tensor for ${dtype}`);
}

export function fromOrt(t: ort.Tensor): number[] {
  if (t.type === 'float16') return Array.from(t.data as Uint16Array, halfToFloat);
  return Array.from(t.data as ArrayLike<number | bigint>, Number);
}

/** PRelu by its definition, the slope broadcast from the trailing axes, in the model's precision. */
export function reference(c: Case, x: number[], times: number): number[] {
  const rank = c.xShape.length;
  const sShape = [...Array<number>(rank - c.slopeShape.length).fill(1), ...c.slopeShape];
  const slopeAt = (i: number) => {
    let rest = i;
    let idx = 0;
    let stride = 1;
    const coords: number[] = [];
    for (let a = rank - 1; a >= 0; a--) {
      coords[a] = rest % c.xShape[a]!;
      rest = Math.floor(rest / c.xShape[a]!);
    }
    for (let a = rank - 1; a >= 0; a--) {
      if (sShape[a] !== 1) idx += coords[a]! * stride;
      stride *= sShape[a]!;
    }
    return c.slope[idx]!;
  };
  let y = x;
  for (let t = 0; t < times; t++) y = y.map((v, i) => (v < 0 ? round(c.dtype, slopeAt(i) * v) : v));
  return y;
}

/** Distance in units in the last place of the dtype (±0 are equal). */
export function ulps(dtype: number, a: number, b: number): number {
  if (a === b) return 0;
  if (INTS.includes(dtype as never)) return Infinity;
  const bits = (v: number) => {
    if (dtype === DT.FLOAT16) {
      const h = floatToHalf(v);
      return h & 0x8000 ? -(h & 0x7fff) : h;
    }
    if (dtype === DT.DOUBLE) {
      const n = new DataView(new Float64Array([v]).buffer).getBigInt64(0, true);
      return Number(n < 0n ? -(n & 0x7fffffffffffffffn) : n);
    }
    const n = new Int32Array(new Float32Array([v]).buffer)[0]!;
    return n < 0 ? -(n & 0x7fffffff) : n;
  };
  return Math.abs(bits(a) - bits(b));
}

export async function runModel(file: string, feeds: Record<string, ort.Tensor>): Promise<number[] | string> {
  let s: ort.InferenceSession;
  try {
    s = await ort.InferenceSession.create(file, SESSION_OPTIONS);
  } catch (e) {
    return (e as Error).message;
  }
  try {
    return fromOrt((await s.run(feeds)).y!);
  } finally {
    await s.release();
  }
}

