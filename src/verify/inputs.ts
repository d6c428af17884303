// What a model takes as input, and values for it: seeded random values, or edge values (NaN,
// ±inf, −0.0, values at the dtype's limits), with symbolic dimensions given sizes by the user.
import type { ModelProto } from 'onnx-buf';
import { DT, dtypeName } from '../onnx/dtypes';
import { floatToHalf } from '../onnx/tensor';
import type { Dim } from '../graph/scope';
import { fmtShape } from '../graph/broadcast';
import { mulberry32 } from './rng';
import { allocate, elementCount, unsupportedDtype, type HostTensor, type NamedHostTensor } from './types';

export interface InputSpec {
  name: string;
  dtype: number;
  shape: Dim[];
  /** Set when this input cannot be fed (a sequence, a map, an unsupported dtype, no declared type). */
  problem?: string;
}

/** The graph inputs a caller must feed: initializers listed as inputs keep their stored values. */
export function modelInputs(model: ModelProto): InputSpec[] {
  const g = model.graph!;
  const weights = new Set(g.initializer.map((t) => t.name));
  return g.input.filter((v) => !weights.has(v.name)).map((v): InputSpec => {
    const tp = v.type?.value;
    if (tp?.case !== 'tensorType') {
      return { name: v.name, dtype: 0, shape: [], problem: tp ? `it is a ${tp.case ?? 'non-tensor'} input; only tensors can be fed` : 'it has no declared type' };
    }
    const t = tp.value;
    const shape: Dim[] = t.shape ? t.shape.dim.map((d) => (d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null)) : [];
    const problem = !t.shape ? 'its shape is not declared' : unsupportedDtype(t.elemType);
    return { name: v.name, dtype: t.elemType, shape, ...(problem ? { problem } : {}) };
  });
}

/** A dimension the user gives a size to: a named one (shared by every input using the name) or an anonymous one. */
export interface SizedDim {
  key: string;
  label: string;
}

export const dimKey = (input: string, axis: number, d: Dim): string | undefined =>
  typeof d === 'number' && d > 0 ? undefined : typeof d === 'string' && d !== '' ? d : `${input}[${axis}]`;

export function symbolicDims(specs: readonly InputSpec[]): SizedDim[] {
  const out = new Map<string, SizedDim>();
  for (const s of specs) {
    s.shape.forEach((d, axis) => {
      const key = dimKey(s.name, axis, d);
      if (key && !out.has(key)) out.set(key, { key, label: typeof d === 'string' && d ? d : `${s.name} axis ${axis}` });
    });
  }
  return [...out.values()];
}

export function concreteDims(spec: InputSpec, sizes: Readonly<Record<string, number>>): number[] {
  return spec.shape.map((d, axis) => {
    const key = dimKey(spec.name, axis, d);
    return key === undefined ? (d as number) : sizes[key] ?? 1;
  });
}

const F32_MAX = 3.4028234663852886e38;
const LIMITS: Record<number, { max: number; minNormal: number; minSub: number }> = {
  [DT.FLOAT]: { max: F32_MAX, minNormal: 1.1754943508222875e-38, minSub: 1.401298464324817e-45 },
  [DT.DOUBLE]: { max: Number.MAX_VALUE, minNormal: 2.2250738585072014e-308, minSub: Number.MIN_VALUE },
  [DT.FLOAT16]: { max: 65504, minNormal: 6.103515625e-5, minSub: 5.960464477539063e-8 },
};
const INT_RANGE: Record<number, [number, number]> = {
  [DT.INT8]: [-128, 127], [DT.UINT8]: [0, 255], [DT.INT16]: [-32768, 32767], [DT.UINT16]: [0, 65535],
  [DT.INT32]: [-2147483648, 2147483647], [DT.UINT32]: [0, 4294967295],
};

/**
 * The edge values for a dtype, in the order they are written: non-finite values and signed zeros
 * first, then small values around 0 and the values at the type's limits.
 */
export function edgeValues(dtype: number): (number | bigint)[] {
  const f = LIMITS[dtype];
  if (f) return [NaN, Infinity, -Infinity, -0, 0, -2, 2, -1, 1, -0.5, 0.5, f.max, -f.max, f.minNormal, -f.minNormal, f.minSub, -f.minSub];
  if (dtype === DT.INT64) return [0n, 1n, -1n, 2n, -2n, 9223372036854775807n, -9223372036854775808n];
  if (dtype === DT.UINT64) return [0n, 1n, 2n, 18446744073709551615n];
  if (dtype === DT.BOOL) return [0, 1];
  const r = INT_RANGE[dtype];
  if (r) return r[0] < 0 ? [0, 1, -1, 2, -2, r[1], r[0]] : [0, 1, 2, r[1]];
  return [];
}

export type InputMode = 'random' | 'edge';

/** One random value of a dtype: floats uniform in [−2, 2); ids small and non-negative; bytes over their range. */
function randomValue(dtype: number, rnd: () => number): number | bigint {
  if (dtype === DT.FLOAT || dtype === DT.DOUBLE || dtype === DT.FLOAT16) return rnd() * 4 - 2;
  if (dtype === DT.BOOL) return rnd() < 0.5 ? 0 : 1;
  if (dtype === DT.INT64 || dtype === DT.UINT64) return BigInt(Math.floor(rnd() * 4));
  if (dtype === DT.INT32 || dtype === DT.UINT32) return Math.floor(rnd() * 4);
  const r = INT_RANGE[dtype];
  return r ? r[0] + Math.floor(rnd() * (r[1] - r[0] + 1)) : 0;
}

function store(data: HostTensor['data'], dtype: number, i: number, v: number | bigint): void {
  if (dtype === DT.FLOAT16) (data as Uint16Array)[i] = floatToHalf(Number(v));
  else if (data instanceof BigInt64Array || data instanceof BigUint64Array) data[i] = BigInt(v);
  else (data as Float32Array)[i] = Number(v);
}

/**
 * Values for one tensor. 'random': seeded uniform values. 'edge': every even position holds the
 * next edge value (cycling), every odd one a seeded random value, so each edge value meets every
 * part of the tensor and the sign of its neighbours still varies.
 */
export function generateTensor(dtype: number, dims: number[], mode: InputMode, rnd: () => number): HostTensor {
  const n = elementCount(dims);
  const data = allocate(dtype, n);
  const edges = mode === 'edge' ? edgeValues(dtype) : [];
  for (let i = 0; i < n; i++) {
    const v = edges.length && i % 2 === 0 ? edges[(i / 2) % edges.length]! : randomValue(dtype, rnd);
    store(data, dtype, i, v);
  }
  return { dtype, dims, data };
}

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

export interface FeedPlan {
  mode: InputMode;
  seed: number;
  /** Sizes for symbolic dimensions by SizedDim key; missing ones are 1. */
  sizes?: Readonly<Record<string, number>>;
  /** User-supplied tensors by input name (from .npy / .pb files): used as they are. */
  files?: Readonly<Record<string, HostTensor & { source?: string }>>;
}

export interface FeedDescription {
  name: string;
  dtype: string;
  dims: number[];
  source: string;
}

const MAX_ELEMENTS = 1 << 28;

/** Why a tensor from a file cannot feed an input (dtype, rank, a fixed size), or undefined. */
export function fileMismatch(spec: InputSpec, file: { dtype: number; dims: readonly number[] }, where: string): string | undefined {
  if (file.dtype !== spec.dtype) return `${where} holds ${dtypeName(file.dtype)} values, but input ${spec.name} is ${dtypeName(spec.dtype)}`;
  if (file.dims.length !== spec.shape.length) return `${where} has shape ${fmtShape(file.dims)}, but input ${spec.name} has rank ${spec.shape.length} (${fmtShape(spec.shape)})`;
  for (const [axis, d] of spec.shape.entries()) {
    if (dimKey(spec.name, axis, d) === undefined && file.dims[axis] !== d) {
      return `${where} has shape ${fmtShape(file.dims)}, but input ${spec.name} needs ${fmtShape(spec.shape)} (axis ${axis} must be ${d})`;
    }
  }
  return undefined;
}

/** The feeds for a model's inputs, and a line per input saying where its values came from. */
export function makeFeeds(specs: readonly InputSpec[], plan: FeedPlan): { feeds: NamedHostTensor[]; described: FeedDescription[] } {
  const sizes: Record<string, number> = { ...(plan.sizes ?? {}) };
  const files = plan.files ?? {};
  // A file fixes the sizes of the symbolic dims it covers; two files must agree on a shared name.
  const boundBy: Record<string, string> = {};
  for (const spec of specs) {
    const file = files[spec.name];
    if (!file) continue;
    const where = file.source ?? `the file for ${spec.name}`;
    const mismatch = fileMismatch(spec, file, where);
    if (mismatch) throw new InputError(mismatch);
    spec.shape.forEach((d, axis) => {
      const got = file.dims[axis]!;
      const key = dimKey(spec.name, axis, d);
      if (key === undefined) return;
      if (boundBy[key] !== undefined && sizes[key] !== got) {
        throw new InputError(`${where} gives dimension ${key} the size ${got}, but ${boundBy[key]} gave it ${sizes[key]}`);
      } else {
        sizes[key] = got;
        boundBy[key] = where;
      }
    });
  }
  for (const name of Object.keys(files)) {
    if (!specs.some((s) => s.name === name)) throw new InputError(`the model has no input named ${name} (inputs: ${specs.map((s) => s.name).join(', ') || 'none'})`);
  }
  const rnd = mulberry32(plan.seed);
  const feeds: NamedHostTensor[] = [];
  const described: FeedDescription[] = [];
  for (const spec of specs) {
    const file = files[spec.name];
    if (file) {
      feeds.push({ name: spec.name, ...file });
      described.push({ name: spec.name, dtype: dtypeName(spec.dtype), dims: file.dims, source: file.source ?? 'file' });
      continue;
    }
    if (spec.problem) throw new InputError(`input ${spec.name} cannot be generated: ${spec.problem}`);
    const dims = concreteDims(spec, sizes);
    if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new InputError(`input ${spec.name} would have shape ${fmtShape(dims)}; sizes must be whole numbers ≥ 0`);
    if (elementCount(dims) > MAX_ELEMENTS) throw new InputError(`input ${spec.name} would have ${elementCount(dims).toLocaleString('en-US')} values (shape ${fmtShape(dims)}); give its symbolic dimensions smaller sizes`);
    feeds.push({ name: spec.name, ...generateTensor(spec.dtype, dims, plan.mode, rnd) });
    described.push({
      name: spec.name, dtype: dtypeName(spec.dtype), dims,
      source: plan.mode === 'edge' ? `edge values (NaN, ±inf, −0.0, ±max, …) between random values, seed ${plan.seed}` : `random, seed ${plan.seed}`,
    });
  }
  return { feeds, described };
}
