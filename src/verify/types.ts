// The values verification passes around: tensors held by the host (not by a runtime), and the
// small slice of the ONNX Runtime API it uses, so that onnxruntime-web (the app's worker) and
// onnxruntime-node (the CLI, the tests) are interchangeable.
import { DT, dtypeName } from '../onnx/dtypes';

export type TypedArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array;

/** A tensor's values as the runtime takes them. float16 is held as its bit patterns (Uint16Array). */
export interface HostTensor {
  dtype: number;
  dims: number[];
  data: TypedArray;
}

export interface NamedHostTensor extends HostTensor {
  name: string;
}

/** ONNX dtype → ONNX Runtime's tensor type name and the typed array it takes. */
const ORT_TYPES: Record<number, { type: string; make: (n: number) => TypedArray }> = {
  [DT.FLOAT]: { type: 'float32', make: (n) => new Float32Array(n) },
  [DT.DOUBLE]: { type: 'float64', make: (n) => new Float64Array(n) },
  [DT.FLOAT16]: { type: 'float16', make: (n) => new Uint16Array(n) },
  [DT.INT8]: { type: 'int8', make: (n) => new Int8Array(n) },
  [DT.UINT8]: { type: 'uint8', make: (n) => new Uint8Array(n) },
  [DT.INT16]: { type: 'int16', make: (n) => new Int16Array(n) },
  [DT.UINT16]: { type: 'uint16', make: (n) => new Uint16Array(n) },
  [DT.INT32]: { type: 'int32', make: (n) => new Int32Array(n) },
  [DT.UINT32]: { type: 'uint32', make: (n) => new Uint32Array(n) },
  [DT.INT64]: { type: 'int64', make: (n) => new BigInt64Array(n) },
  [DT.UINT64]: { type: 'uint64', make: (n) => new BigUint64Array(n) },
  [DT.BOOL]: { type: 'bool', make: (n) => new Uint8Array(n) },
};

const FROM_ORT: Record<string, number> = Object.fromEntries(Object.entries(ORT_TYPES).map(([dt, t]) => [t.type, Number(dt)]));

/** Why a dtype cannot be fed to or read from ONNX Runtime's JavaScript API, if so. */
export function unsupportedDtype(dtype: number): string | undefined {
  if (ORT_TYPES[dtype]) return undefined;
  if (dtype === DT.BFLOAT16) return 'ONNX Runtime\'s JavaScript API has no bfloat16 tensors';
  return `ONNX Runtime's JavaScript API cannot hold ${dtypeName(dtype)} tensors`;
}

export function allocate(dtype: number, n: number): TypedArray {
  const t = ORT_TYPES[dtype];
  if (!t) throw new Error(unsupportedDtype(dtype));
  return t.make(n);
}

export const elementCount = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

// The part of ONNX Runtime's API used here; both onnxruntime-web and onnxruntime-node have it.
export interface OrtTensorLike {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}
export interface OrtSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
  release(): Promise<void>;
}
export interface OrtLike {
  Tensor: new (type: never, data: never, dims: readonly number[]) => OrtTensorLike;
  /** A path (onnxruntime-node resolves external data beside it) or the model's bytes. */
  InferenceSession: { create(model: Uint8Array | string, options?: object): Promise<OrtSessionLike> };
}

export function toOrt(ort: OrtLike, t: HostTensor): OrtTensorLike {
  const type = ORT_TYPES[t.dtype]?.type;
  if (!type) throw new Error(unsupportedDtype(t.dtype));
  const Ctor = ort.Tensor as unknown as new (type: string, data: TypedArray, dims: readonly number[]) => OrtTensorLike;
  return new Ctor(type, t.data, t.dims);
}

export function fromOrt(t: OrtTensorLike): HostTensor {
  const dtype = FROM_ORT[t.type];
  if (dtype === undefined) throw new Error(`ONNX Runtime returned a ${t.type} tensor, which OpFit cannot compare`);
  let data = t.data as TypedArray;
  // onnxruntime returns float16 as Uint16Array (or Float16Array where the engine has it): keep bits.
  if (dtype === DT.FLOAT16 && !(data instanceof Uint16Array)) {
    const v = data as unknown as ArrayBufferView & { length: number };
    data = new Uint16Array(v.buffer, v.byteOffset, v.length);
  }
  return { dtype, dims: [...t.dims], data };
}

/** An external data file for onnxruntime-web, by the location the model names. */
export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

/**
 * Runs a model on host tensors; ONNX Runtime's own error messages pass through (as the errors
 * thrown; its log is set to fatal only, else each failed run is printed again on stderr, coloured).
 * Graph optimisations are off: the graphs are compared as written, not as ONNX Runtime would fuse them.
 */
export async function runModel(ort: OrtLike, model: Uint8Array | string, feeds: readonly NamedHostTensor[], externalData?: readonly ExternalDataFile[]): Promise<Record<string, HostTensor>> {
  const session = await ort.InferenceSession.create(model, { logSeverityLevel: 4, graphOptimizationLevel: 'disabled', ...(externalData?.length ? { externalData } : {}) });
  try {
    const inputs: Record<string, OrtTensorLike> = {};
    for (const f of feeds) if (session.inputNames.includes(f.name)) inputs[f.name] = toOrt(ort, f);
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, fromOrt(v)]));
  } finally {
    await session.release();
  }
}
