// Reading a tensor's values (small ones: slopes, shapes) and making typed constants.
// Values are read from raw_data (little-endian) or the typed repeated fields, as the spec allows.
import { create } from '@bufbuild/protobuf';
import { TensorProtoSchema, type TensorProto } from 'onnx-buf';
import { DT, dtypeSize } from './dtypes';
import { externalBytesSync } from './external';

export function tensorElementCount(t: TensorProto): number {
  return t.dims.reduce((n, d) => n * Number(d), 1);
}

export function isExternal(t: TensorProto): boolean {
  return t.dataLocation === 1; // TensorProto.DataLocation.EXTERNAL
}

// Half-precision conversions. float16 per IEEE 754 binary16; bfloat16 is the top half of a float32.
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

export function floatToHalf(v: number): number {
  const f32 = new Float32Array([v]);
  const x = new Uint32Array(f32.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = sign | (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return half;
}

function bf16ToFloat(h: number): number {
  return new Float32Array(new Uint32Array([h << 16]).buffer)[0]!;
}

function floatToBf16(v: number): number {
  const x = new Uint32Array(new Float32Array([v]).buffer)[0]!;
  if (Number.isNaN(v)) return 0x7fc0;
  return (x + 0x7fff + ((x >>> 16) & 1)) >>> 16; // round to nearest even
}

/**
 * The tensor's values as numbers, or undefined if there are more than `limit` or they cannot be
 * read. External data is read only here, and only for tensors within the limit: from the data
 * file attached when the model was opened (src/onnx/external.ts), or undefined when it is missing.
 */
export function readTensorValues(t: TensorProto, limit = 1 << 20): number[] | undefined {
  const n = tensorElementCount(t);
  if (n > limit) return undefined;
  const external = isExternal(t);
  const raw = external ? externalBytesSync(t) : t.rawData;
  if (!raw) return undefined;
  if (raw.length > 0 || external) {
    const size = dtypeSize(t.dataType);
    if (size === undefined || raw.length < n * size) return undefined;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = i * size;
      switch (t.dataType) {
        case DT.FLOAT: out.push(dv.getFloat32(o, true)); break;
        case DT.DOUBLE: out.push(dv.getFloat64(o, true)); break;
        case DT.FLOAT16: out.push(halfToFloat(dv.getUint16(o, true))); break;
        case DT.BFLOAT16: out.push(bf16ToFloat(dv.getUint16(o, true))); break;
        case DT.INT8: out.push(dv.getInt8(o)); break;
        case DT.UINT8: case DT.BOOL: out.push(dv.getUint8(o)); break;
        case DT.INT16: out.push(dv.getInt16(o, true)); break;
        case DT.UINT16: out.push(dv.getUint16(o, true)); break;
        case DT.INT32: out.push(dv.getInt32(o, true)); break;
        case DT.UINT32: out.push(dv.getUint32(o, true)); break;
        case DT.INT64: out.push(Number(dv.getBigInt64(o, true))); break;
        case DT.UINT64: out.push(Number(dv.getBigUint64(o, true))); break;
        default: return undefined;
      }
    }
    return out;
  }
  switch (t.dataType) {
    case DT.FLOAT: return t.floatData.slice(0, n);
    case DT.DOUBLE: return t.doubleData.slice(0, n);
    case DT.INT64: return t.int64Data.slice(0, n).map(Number);
    case DT.UINT32: case DT.UINT64: return t.uint64Data.slice(0, n).map(Number);
    case DT.FLOAT16: return t.int32Data.slice(0, n).map(halfToFloat);
    case DT.BFLOAT16: return t.int32Data.slice(0, n).map(bf16ToFloat);
    case DT.INT32: case DT.INT16: case DT.INT8: case DT.UINT16: case DT.UINT8: case DT.BOOL:
      return t.int32Data.slice(0, n);
    default: return undefined;
  }
}

/** A new tensor of `dataType` holding `values`, stored as raw_data like exporters write it. */
export function makeTensor(name: string, dataType: number, dims: number[], values: number[]): TensorProto {
  const size = dtypeSize(dataType);
  if (size === undefined) throw new Error(`cannot make a constant of ONNX type ${dataType}`);
  const raw = new Uint8Array(values.length * size);
  const dv = new DataView(raw.buffer);
  values.forEach((v, i) => {
    const o = i * size;
    switch (dataType) {
      case DT.FLOAT: dv.setFloat32(o, v, true); break;
      case DT.DOUBLE: dv.setFloat64(o, v, true); break;
      case DT.FLOAT16: dv.setUint16(o, floatToHalf(v), true); break;
      case DT.BFLOAT16: dv.setUint16(o, floatToBf16(v), true); break;
      case DT.INT8: dv.setInt8(o, v); break;
      case DT.UINT8: case DT.BOOL: dv.setUint8(o, v); break;
      case DT.INT16: dv.setInt16(o, v, true); break;
      case DT.UINT16: dv.setUint16(o, v, true); break;
      case DT.INT32: dv.setInt32(o, v, true); break;
      case DT.UINT32: dv.setUint32(o, v, true); break;
      case DT.INT64: dv.setBigInt64(o, BigInt(v), true); break;
      case DT.UINT64: dv.setBigUint64(o, BigInt(v), true); break;
    }
  });
  return create(TensorProtoSchema, { name, dataType, dims: dims.map(BigInt), rawData: raw });
}
