// Input generation for "Verify": which inputs a model takes, sizes for symbolic dimensions,
// seeded random values (the same seed gives the same values), and edge values per dtype.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/onnx/model';
import { DT } from '../../src/onnx/dtypes';
import { halfToFloat } from '../../src/onnx/tensor';
import { concreteDims, edgeValues, generateTensor, InputError, makeFeeds, modelInputs, symbolicDims } from '../../src/verify/inputs';
import { mulberry32 } from '../../src/verify/rng';
import { SHARED } from '../helpers/paths';
import { graph, model, node, valueInfo } from '../helpers/build';

const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');

function dynamicModel() {
  return model(graph({
    nodes: [node('Relu', ['x'], ['y']), node('Cast', ['ids'], ['z'])],
    inputs: [valueInfo('x', DT.FLOAT, ['N', 3, 'H', 0 as unknown as number]), valueInfo('ids', DT.INT64, ['N', 5])],
    outputs: [valueInfo('y', DT.FLOAT), valueInfo('z', DT.INT64)],
  }), 13);
}

describe('model inputs', () => {
  it('lists minifasnet\'s one real input and leaves its weights (also listed as inputs) alone', () => {
    const specs = modelInputs(readModel(new Uint8Array(readFileSync(MINIFASNET))));
    expect(specs).toEqual([{ name: 'input.1', dtype: DT.FLOAT, shape: [1, 3, 80, 80] }]);
    expect(symbolicDims(specs)).toEqual([]);
  });

  it('gives a named symbolic dimension one size shared by every input, an unnamed one its own', () => {
    const specs = modelInputs(dynamicModel());
    // dim_value 0 is how some exporters write "unknown"; it is treated as unnamed.
    expect(specs[0]!.shape).toEqual(['N', 3, 'H', 0]);
    const dims = symbolicDims(specs);
    expect(dims.map((d) => d.key)).toEqual(['N', 'H', 'x[3]']);
    expect(concreteDims(specs[0]!, { N: 2, H: 7 })).toEqual([2, 3, 7, 1]);
    expect(concreteDims(specs[1]!, { N: 2 })).toEqual([2, 5]);
  });
});

describe('generated values', () => {
  it('are the same for the same seed, different for another, floats in [−2, 2)', () => {
    const a = generateTensor(DT.FLOAT, [1000], 'random', mulberry32(7)).data as Float32Array;
    const b = generateTensor(DT.FLOAT, [1000], 'random', mulberry32(7)).data as Float32Array;
    const c = generateTensor(DT.FLOAT, [1000], 'random', mulberry32(8)).data as Float32Array;
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...a)).toBeLessThan(2);
    expect(a.some((v) => v < 0) && a.some((v) => v > 0)).toBe(true);
  });

  it('edge mode puts NaN, ±inf, −0.0 and the float32 limits at even positions, random values between', () => {
    const t = generateTensor(DT.FLOAT, [40], 'edge', mulberry32(1)).data as Float32Array;
    const even = Array.from(t).filter((_, i) => i % 2 === 0);
    expect(Number.isNaN(even[0])).toBe(true);
    expect(even.slice(1, 3)).toEqual([Infinity, -Infinity]);
    expect(Object.is(even[3], -0)).toBe(true);
    expect(Object.is(even[4], 0)).toBe(true);
    expect(even).toContain(3.4028234663852886e38);
    expect(even).toContain(-3.4028234663852886e38);
    expect(even).toContain(1.401298464324817e-45); // smallest subnormal
    const odd = Array.from(t).filter((_, i) => i % 2 === 1);
    expect(odd.every((v) => v >= -2 && v < 2)).toBe(true);
  });

  it('writes float16 edge values as their bit patterns', () => {
    const t = generateTensor(DT.FLOAT16, [34], 'edge', mulberry32(1)).data as Uint16Array;
    expect(t).toBeInstanceOf(Uint16Array);
    const even = Array.from(t).filter((_, i) => i % 2 === 0);
    expect(Number.isNaN(halfToFloat(even[0]!))).toBe(true);
    expect(even.slice(1, 5)).toEqual([0x7c00, 0xfc00, 0x8000, 0x0000]);
    expect(even).toContain(0x7bff); // 65504, the largest float16
    expect(even).toContain(0x0001); // smallest subnormal
  });

  it('has integer edge values at the limits, int64 as bigint', () => {
    expect(edgeValues(DT.INT8)).toEqual([0, 1, -1, 2, -2, 127, -128]);
    expect(edgeValues(DT.UINT8)).toEqual([0, 1, 2, 255]);
    const t = generateTensor(DT.INT64, [14], 'edge', mulberry32(1)).data as BigInt64Array;
    expect(t).toContain(9223372036854775807n);
    expect(t).toContain(-9223372036854775808n);
  });
});

describe('feeds', () => {
  it('describe where each input\'s values came from, with the seed', () => {
    const { feeds, described } = makeFeeds(modelInputs(dynamicModel()), { mode: 'random', seed: 42, sizes: { N: 2 } });
    expect(feeds.map((f) => [f.name, f.dims])).toEqual([['x', [2, 3, 1, 1]], ['ids', [2, 5]]]);
    expect(feeds[1]!.data).toBeInstanceOf(BigInt64Array);
    expect(described[0]!.source).toBe('random, seed 42');
  });

  it('take a user file as it is, and let it fix the symbolic sizes it covers', () => {
    const file = { dtype: DT.FLOAT, dims: [4, 3, 2, 6], data: new Float32Array(144), source: 'x.npy' };
    const { feeds } = makeFeeds(modelInputs(dynamicModel()), { mode: 'random', seed: 1, files: { x: file } });
    expect(feeds[0]!.data).toBe(file.data);
    expect(feeds[1]!.dims).toEqual([4, 5]); // N = 4 from the file
  });

  it('refuse a file of the wrong dtype, rank or fixed size, naming the file', () => {
    const specs = modelInputs(dynamicModel());
    const feed = (dtype: number, dims: number[]) => () => makeFeeds(specs, { mode: 'random', seed: 1, files: { x: { dtype, dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)), source: 'x.npy' } } });
    expect(feed(DT.DOUBLE, [1, 3, 1, 1])).toThrow('x.npy holds float64 values, but input x is float32');
    expect(feed(DT.FLOAT, [1, 3, 1])).toThrow('x.npy has shape [1,3,1], but input x has rank 4');
    expect(feed(DT.FLOAT, [1, 4, 1, 1])).toThrow('axis 1 must be 3');
    expect(() => makeFeeds(specs, { mode: 'random', seed: 1, files: { nope: { dtype: DT.FLOAT, dims: [], data: new Float32Array(1) } } })).toThrow(InputError);
  });

  it('refuse absurd sizes instead of allocating them', () => {
    expect(() => makeFeeds(modelInputs(dynamicModel()), { mode: 'random', seed: 1, sizes: { N: 100000, H: 100000 } })).toThrow(/smaller sizes/);
  });
});
