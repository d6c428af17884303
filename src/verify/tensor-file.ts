// User-supplied input tensors: NumPy .npy files (format versions 1–3) and ONNX TensorProto .pb
// files (the input_0.pb files of ONNX test data). Values are copied bit for bit: NaN payloads,
// −0.0 and float16 bit patterns arrive unchanged.
import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { DT, dtypeName, dtypeSize } from '../onnx/dtypes';
import { isExternal } from '../onnx/tensor';
import { sniffFormat } from '../onnx/sniff';
import { allocate, elementCount, unsupportedDtype, type HostTensor, type TypedArray } from './types';

export class TensorFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TensorFileError';
  }
}

export interface TensorFile extends HostTensor {
  /** The tensor's own name (TensorProto.name), when the file has one. */
  name?: string;
  format: 'npy' | 'pb';
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function isNpy(b: Uint8Array): boolean {
  return NPY_MAGIC.every((m, i) => b[i] === m);
}

/** Reads a .npy or a TensorProto .pb file; a clear TensorFileError otherwise. */
export function parseTensorFile(bytes: Uint8Array, fileName = 'the file'): TensorFile {
  if (isNpy(bytes)) return parseNpy(bytes, fileName);
  let t: TensorProto;
  try {
    t = fromBinary(TensorProtoSchema, bytes);
  } catch {
    throw new TensorFileError(`${fileName} is neither a NumPy .npy file nor an ONNX TensorProto .pb file${otherKind(bytes, fileName)}`);
  }
  if (!t.dataType || t.dataType > 26 || (t.dims.length === 0 && t.rawData.length === 0 && !hasTypedValues(t))) {
    throw new TensorFileError(`${fileName} is neither a NumPy .npy file nor an ONNX TensorProto .pb file${otherKind(bytes, fileName)}`);
  }
  return { ...tensorProtoValues(t, fileName), ...(t.name ? { name: t.name } : {}), format: 'pb' };
}

function otherKind(bytes: Uint8Array, fileName: string): string {
  const other = sniffFormat(bytes, fileName);
  return other ? ` (it is ${other.what})` : '';
}

const hasTypedValues = (t: TensorProto) =>
  t.floatData.length + t.doubleData.length + t.int32Data.length + t.int64Data.length + t.uint64Data.length > 0;

// ---- .npy ---------------------------------------------------------------------------------

const NPY_KINDS: Record<string, number> = {
  f2: DT.FLOAT16, f4: DT.FLOAT, f8: DT.DOUBLE, i1: DT.INT8, u1: DT.UINT8, i2: DT.INT16, u2: DT.UINT16,
  i4: DT.INT32, u4: DT.UINT32, i8: DT.INT64, u8: DT.UINT64, b1: DT.BOOL,
};

export function parseNpy(b: Uint8Array, fileName = 'the file'): TensorFile {
  const bad = (why: string) => new TensorFileError(`${fileName} is not a readable .npy file: ${why}`);
  if (!isNpy(b)) throw bad('it does not start with the NumPy magic "\\x93NUMPY"');
  if (b.length < 10) throw bad('it ends inside its header');
  const major = b[6]!;
  if (major < 1 || major > 3) throw bad(`format version ${major}.${b[7]} is not one of 1.0, 2.0, 3.0`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : b.length >= 12 ? dv.getUint32(8, true) : NaN;
  const start = major === 1 ? 10 : 12;
  if (!(start + headerLen <= b.length)) throw bad(`its header claims ${headerLen} bytes, past the end of the file (${b.length} bytes)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined) {
    throw bad(/'descr'\s*:\s*\[/.test(header) ? 'it holds a structured (record) array; save a plain numeric array' : 'its header has no dtype ("descr")');
  }
  if (fortran === undefined || shapeText === undefined) throw bad('its header lacks "fortran_order" or "shape"');
  const dims = shapeText.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw bad(`its shape (${shapeText}) is not a list of sizes`);
  const order = descr[0]!;
  const dtype = NPY_KINDS[descr.slice(1)];
  if (!'<>|='.includes(order) || dtype === undefined) {
    throw new TensorFileError(`${fileName} holds NumPy dtype '${descr}', which ONNX models do not take as input here; save it as float32, float64, float16, an integer type or bool`);
  }
  const size = dtypeSize(dtype)!;
  const n = elementCount(dims);
  const body = b.subarray(start + headerLen);
  if (body.length < n * size) throw bad(`shape (${shapeText}) of ${descr} needs ${n * size} bytes of data, but the file has ${body.length}: it is probably truncated`);
  const bytes = body.slice(0, n * size); // a copy, aligned for the typed array
  if (order === '>' && size > 1) {
    for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
  }
  let data = view(dtype, bytes.buffer, n);
  if (fortran === 'True' && dims.length > 1) data = fortranToC(data, dims, dtype);
  return { dtype, dims, data, format: 'npy' };
}

function view(dtype: number, buffer: ArrayBufferLike, n: number): TypedArray {
  const out = allocate(dtype, 0);
  const Ctor = out.constructor as new (b: ArrayBufferLike, o: number, n: number) => TypedArray;
  return new Ctor(buffer, 0, n);
}

/** Column-major (Fortran) values in row-major (C) order, the order ONNX Runtime reads. */
function fortranToC(src: TypedArray, dims: number[], dtype: number): TypedArray {
  const n = src.length;
  const out = allocate(dtype, n);
  const rank = dims.length;
  const idx = new Array<number>(rank).fill(0);
  // Fortran strides: axis 0 varies fastest.
  const fStride: number[] = [];
  let s = 1;
  for (let a = 0; a < rank; a++) { fStride.push(s); s *= dims[a]!; }
  for (let i = 0; i < n; i++) {
    let f = 0;
    for (let a = 0; a < rank; a++) f += idx[a]! * fStride[a]!;
    (out as Float64Array)[i] = (src as Float64Array)[f]!;
    for (let a = rank - 1; a >= 0; a--) {
      if (++idx[a]! < dims[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

// ---- TensorProto ------------------------------------------------------------------------

/** A TensorProto's values as a host tensor (raw_data or the typed fields), bit for bit. */
export function tensorProtoValues(t: TensorProto, fileName = 'the tensor'): HostTensor {
  const dtype = t.dataType;
  const dims = t.dims.map(Number);
  const n = elementCount(dims);
  const what = `${fileName} (${dtypeName(dtype)} ${'[' + dims.join(',') + ']'})`;
  if (isExternal(t)) throw new TensorFileError(`${what} keeps its values in an external data file; save the tensor with its values inside`);
  if (t.dataType === DT.STRING) throw new TensorFileError(`${what} holds strings; OpFit compares numeric tensors only`);
  const unsupported = unsupportedDtype(dtype);
  if (unsupported) throw new TensorFileError(`${what}: ${unsupported}`);
  const data = allocate(dtype, n);
  if (t.rawData.length > 0) {
    const size = dtypeSize(dtype)!;
    if (t.rawData.length !== n * size) throw new TensorFileError(`${what} should hold ${n * size} bytes of values but holds ${t.rawData.length}`);
    new Uint8Array(data.buffer).set(t.rawData);
    return { dtype, dims, data };
  }
  const field: ArrayLike<number | bigint> =
    dtype === DT.FLOAT ? t.floatData : dtype === DT.DOUBLE ? t.doubleData
    : dtype === DT.INT64 ? t.int64Data : dtype === DT.UINT32 || dtype === DT.UINT64 ? t.uint64Data
    : t.int32Data; // int32, int16, int8, uint16, uint8, bool, float16 (bit patterns)
  if (field.length !== n) throw new TensorFileError(`${what} should hold ${n} values but holds ${field.length}`);
  for (let i = 0; i < n; i++) {
    const v = field[i]!;
    if (data instanceof BigInt64Array) data[i] = BigInt.asIntN(64, BigInt(v));
    else if (data instanceof BigUint64Array) data[i] = BigInt.asUintN(64, BigInt(v));
    else (data as Float64Array)[i] = Number(v);
  }
  return { dtype, dims, data };
}
