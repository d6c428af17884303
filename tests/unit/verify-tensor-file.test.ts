// User-supplied inputs: .npy files written by NumPy itself and TensorProto .pb files written by
// the onnx Python package (Debian python3-onnx) and by ONNX's backend tests — independent writers.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DT } from '../../src/onnx/dtypes';
import { halfToFloat } from '../../src/onnx/tensor';
import { parseTensorFile, TensorFileError } from '../../src/verify/tensor-file';
import { PYTHON } from '../helpers/python';
import { SHARED } from '../helpers/paths';
import { readPb } from '../helpers/ort';
import { scratchDir } from '../helpers/scratch';

const dir = scratchDir('verify-tensor-file');
const read = (name: string) => parseTensorFile(new Uint8Array(readFileSync(join(dir, name))), name);

beforeAll(() => {
  execFileSync(PYTHON, ['-c', `
import sys, numpy as np
from onnx import numpy_helper, helper, TensorProto
d = sys.argv[1]
edge = np.array([[np.nan, np.inf, -np.inf], [-0.0, 3.4028235e38, 1.5]], dtype=np.float32)
np.save(d + '/f32.npy', edge)
np.save(d + '/f16.npy', np.array([1.0, -0.0, np.inf, 65504, np.nan], dtype=np.float16))
np.save(d + '/f64-be.npy', np.array([1.0, -2.5, 1e300], dtype='>f8'))
np.save(d + '/i64.npy', np.array([[9223372036854775807, -9223372036854775808, 3]], dtype=np.int64))
np.save(d + '/bool.npy', np.array([True, False, True]))
np.save(d + '/u8.npy', np.arange(6, dtype=np.uint8).reshape(2, 3))
np.save(d + '/scalar.npy', np.float32(7.25))
np.save(d + '/fortran.npy', np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)))
with open(d + '/v2.npy', 'wb') as f:
    np.lib.format.write_array(f, np.arange(4, dtype=np.float32), version=(2, 0))
np.save(d + '/record.npy', np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))
np.save(d + '/complex.npy', np.zeros(2, dtype=np.complex64))
open(d + '/cut.npy', 'wb').write(open(d + '/f32.npy', 'rb').read()[:-5])
open(d + '/f32.pb', 'wb').write(numpy_helper.from_array(edge, 'x').SerializeToString())
open(d + '/f16.pb', 'wb').write(numpy_helper.from_array(np.array([1.0, -0.0, np.inf], dtype=np.float16), 'h').SerializeToString())
t = helper.make_tensor('typed', TensorProto.FLOAT, [2, 2], [1.0, -0.0, float('inf'), 2.5])
open(d + '/typed.pb', 'wb').write(t.SerializeToString())
t = helper.make_tensor('ids', TensorProto.INT64, [3], [5, -1, 9223372036854775807])
open(d + '/int64-typed.pb', 'wb').write(t.SerializeToString())
`, dir]);
  writeFileSync(join(dir, 'image.png'), Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'));
});

describe('.npy files written by NumPy', () => {
  it('float32 with NaN, ±inf, −0.0 and the float32 maximum, bit for bit', () => {
    const t = read('f32.npy');
    expect(t).toMatchObject({ format: 'npy', dtype: DT.FLOAT, dims: [2, 3] });
    const v = Array.from(t.data as Float32Array);
    expect(Number.isNaN(v[0])).toBe(true);
    expect(v.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(Object.is(v[3], -0)).toBe(true);
    expect(v.slice(4)).toEqual([3.4028234663852886e38, 1.5]);
  });

  it('float16 as bit patterns, big-endian float64, int64 at its limits, bool, uint8, a scalar', () => {
    const h = read('f16.npy');
    expect(h.dtype).toBe(DT.FLOAT16);
    expect(Array.from(h.data as Uint16Array)).toEqual([0x3c00, 0x8000, 0x7c00, 0x7bff, 0x7e00]);
    expect(Array.from(read('f64-be.npy').data as Float64Array)).toEqual([1, -2.5, 1e300]);
    const i = read('i64.npy');
    expect(i.dims).toEqual([1, 3]);
    expect(Array.from(i.data as BigInt64Array)).toEqual([9223372036854775807n, -9223372036854775808n, 3n]);
    expect(read('bool.npy')).toMatchObject({ dtype: DT.BOOL, dims: [3] });
    expect(Array.from(read('bool.npy').data as Uint8Array)).toEqual([1, 0, 1]);
    expect(Array.from(read('u8.npy').data as Uint8Array)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(read('scalar.npy')).toMatchObject({ dims: [], data: Float32Array.of(7.25) });
  });

  it('reorders a Fortran-order array to the row-major order ONNX Runtime reads', () => {
    const t = read('fortran.npy');
    expect(t.dims).toEqual([2, 3, 4]);
    expect(Array.from(t.data as Int32Array)).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it('reads format version 2.0', () => {
    expect(Array.from(read('v2.npy').data as Float32Array)).toEqual([0, 1, 2, 3]);
  });

  it('says plainly what is wrong with a record array, a complex array, a truncated file and a PNG', () => {
    expect(() => read('record.npy')).toThrow('structured (record) array');
    expect(() => read('complex.npy')).toThrow("NumPy dtype '<c8'");
    expect(() => read('cut.npy')).toThrow(/needs 24 bytes of data, but the file has 19: it is probably truncated/);
    expect(() => read('image.png')).toThrow(TensorFileError);
    expect(() => read('image.png')).toThrow('(it is a PNG image)');
  });
});

describe('TensorProto .pb files', () => {
  it('raw_data written by onnx.numpy_helper, with its name', () => {
    const t = read('f32.pb');
    expect(t).toMatchObject({ format: 'pb', name: 'x', dtype: DT.FLOAT, dims: [2, 3] });
    expect(Object.is((t.data as Float32Array)[3], -0)).toBe(true);
    const h = read('f16.pb');
    expect(Array.from(h.data as Uint16Array, halfToFloat)).toEqual([1, -0, Infinity]);
  });

  it('typed fields (float_data, int64_data) written by onnx.helper.make_tensor', () => {
    const t = read('typed.pb');
    expect(Array.from(t.data as Float32Array)).toEqual([1, -0, Infinity, 2.5]);
    expect(Array.from(read('int64-typed.pb').data as BigInt64Array)).toEqual([5n, -1n, 9223372036854775807n]);
  });

  it('every input and output of the ONNX backend PReLU tests, value for value', () => {
    const root = join(SHARED, 'onnx-backend');
    let n = 0;
    for (const test of readdirSync(root).filter((t) => /prelu/i.test(t))) {
      for (const f of readdirSync(join(root, test, 'test_data_set_0'))) {
        const path = join(root, test, 'test_data_set_0', f);
        const t = parseTensorFile(new Uint8Array(readFileSync(path)), f);
        const ref = readPb(path);
        expect(t.dims).toEqual(ref.dims);
        expect(Array.from(t.data as Float32Array)).toEqual(ref.values);
        n++;
      }
    }
    expect(n).toBeGreaterThanOrEqual(16);
  });
});
