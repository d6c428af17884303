// Runs models with ONNX Runtime (onnxruntime-node) — the oracle for "the converted model computes
// the same function" — and reads the ONNX backend tests' TensorProto .pb files.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema, type ModelProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { readTensorValues } from '../../src/onnx/tensor';
import { DT } from '../../src/onnx/dtypes';

export interface NamedTensor {
  name: string;
  dims: number[];
  dtype: number;
  values: number[];
}

export function readPb(path: string): NamedTensor {
  const t = fromBinary(TensorProtoSchema, new Uint8Array(readFileSync(path)));
  return { name: t.name, dims: t.dims.map(Number), dtype: t.dataType, values: readTensorValues(t, Infinity)! };
}

export function readDataSet(dir: string): { inputs: NamedTensor[]; outputs: NamedTensor[] } {
  const files = readdirSync(dir).sort();
  return {
    inputs: files.filter((f) => f.startsWith('input_')).map((f) => readPb(join(dir, f))),
    outputs: files.filter((f) => f.startsWith('output_')).map((f) => readPb(join(dir, f))),
  };
}

// Quiet: only errors from ONNX Runtime's own logger (its warnings about old opsets and
// initializers listed as inputs are expected for the models the tests feed it).
ort.env.logLevel = 'error';
export const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3 };

export function session(model: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(model, SESSION_OPTIONS);
}

const ORT_TYPE: Record<number, ort.Tensor.Type> = { [DT.FLOAT]: 'float32', [DT.DOUBLE]: 'float64', [DT.INT32]: 'int32', [DT.INT64]: 'int64' };

export function toOrt(t: { dtype: number; dims: number[]; values: number[] }): ort.Tensor {
  const type = ORT_TYPE[t.dtype];
  if (!type) throw new Error(`test helper cannot feed dtype ${t.dtype}`);
  const data = type === 'float32' ? Float32Array.from(t.values) : type === 'float64' ? Float64Array.from(t.values)
    : type === 'int32' ? Int32Array.from(t.values) : BigInt64Array.from(t.values.map(BigInt));
  return new ort.Tensor(type, data, t.dims);
}

/** Runs the model on the inputs (in the session's input order) and returns outputs by name. */
export async function run(model: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const s = await session(model);
  try {
    const result = await s.run(feeds);
    return Object.fromEntries(Object.entries(result).map(([k, v]) => [k, Array.from(v.data as ArrayLike<number | bigint>, Number)]));
  } finally {
    await s.release();
  }
}

/** Largest relative error, |a−b| / max(1, |b|), treating equal non-finite values as equal. */
export function maxRelError(actual: number[], expected: number[]): number {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const err = Math.abs(a - e) / Math.max(1, Math.abs(e));
    worst = Math.max(worst, Number.isNaN(err) ? Infinity : err);
  }
  return worst;
}

/** The project's seeded PRNG (src/verify/rng.ts), so every run feeds the same "random" inputs. */
import { mulberry32 as prng } from '../../src/verify/rng';
export { prng };

/**
 * Random feeds for every real graph input (initializers listed as inputs are left to their stored
 * values), shaped from the declared input types; a symbolic or unknown dim becomes `symbolicDim`.
 * Floats are uniform in [-2, 2) so both signs reach every PRelu; integers small and non-negative.
 */
export function randomFeeds(model: ModelProto, seed: number, symbolicDim = 1): Record<string, ort.Tensor> {
  const g = model.graph!;
  const weights = new Set(g.initializer.map((t) => t.name));
  const rnd = prng(seed);
  const feeds: Record<string, ort.Tensor> = {};
  for (const input of g.input) {
    if (weights.has(input.name)) continue;
    const tt = input.type?.value.case === 'tensorType' ? input.type.value.value : undefined;
    if (!tt) throw new Error(`test helper cannot feed non-tensor input ${input.name}`);
    const dims = (tt.shape?.dim ?? []).map((d) => (d.value.case === 'dimValue' && d.value.value > 0n ? Number(d.value.value) : symbolicDim));
    const n = dims.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, () =>
      tt.elemType === DT.FLOAT || tt.elemType === DT.DOUBLE ? rnd() * 4 - 2 : Math.floor(rnd() * 4),
    );
    if (tt.elemType === DT.BOOL) feeds[input.name] = new ort.Tensor('bool', Uint8Array.from(values, (v) => v & 1), dims);
    else feeds[input.name] = toOrt({ dtype: tt.elemType, dims, values });
  }
  return feeds;
}
