// ONNX TensorProto.DataType codes, their names as users read them, and their byte sizes.
// Source: onnx/onnx onnx/onnx.in.proto (TensorProto.DataType), ONNX 1.20.

export const DT = {
  UNDEFINED: 0, FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7,
  STRING: 8, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, COMPLEX64: 14,
  COMPLEX128: 15, BFLOAT16: 16, FLOAT8E4M3FN: 17, FLOAT8E4M3FNUZ: 18, FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20, UINT4: 21, INT4: 22, FLOAT4E2M1: 23, FLOAT8E8M0: 24, UINT2: 25, INT2: 26,
} as const;

const NAMES: Record<number, string> = {
  0: 'undefined', 1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32',
  7: 'int64', 8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
  14: 'complex64', 15: 'complex128', 16: 'bfloat16', 17: 'float8e4m3fn', 18: 'float8e4m3fnuz',
  19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4', 23: 'float4e2m1',
  24: 'float8e8m0', 25: 'uint2', 26: 'int2',
};

/** Bytes per element in raw_data, for the types whose values this app reads or writes. */
const SIZES: Record<number, number> = {
  1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2,
};

export function dtypeName(code: number): string {
  return NAMES[code] ?? `type ${code}`;
}

export function dtypeSize(code: number): number | undefined {
  return SIZES[code];
}

export const FLOAT_TYPES: ReadonlySet<number> = new Set([DT.FLOAT, DT.FLOAT16, DT.DOUBLE, DT.BFLOAT16]);
