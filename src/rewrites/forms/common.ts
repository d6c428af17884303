import { DT } from '../../onnx/dtypes';
import type { PreluFacts } from '../../graph/prelu';
export type { Form } from '../types';

/** PRelu's T: the input's dtype, else the slope's (the spec makes them equal). */
export function elementType(f: PreluFacts): number | undefined {
  return f.xFacts.dtype ?? f.slopeFacts.dtype;
}

export const isInteger = (dt: number | undefined) =>
  dt === DT.INT32 || dt === DT.INT64 || dt === DT.UINT32 || dt === DT.UINT64;

export const isUnsigned = (dt: number | undefined) => dt === DT.UINT32 || dt === DT.UINT64;
