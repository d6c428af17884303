// Output comparison: max absolute and relative error, pass/fail against a tolerance, NaN-aware.
import { describe, expect, it } from 'vitest';
import { DT } from '../../src/onnx/dtypes';
import { floatToHalf } from '../../src/onnx/tensor';
import { compareTensors } from '../../src/verify/compare';

const f32 = (...v: number[]) => ({ dtype: DT.FLOAT, dims: [v.length], data: Float32Array.from(v) });

describe('compareTensors', () => {
  it('passes identical outputs with zero error', () => {
    const r = compareTensors('y', f32(1, -2, 3), f32(1, -2, 3), 0);
    expect(r).toMatchObject({ pass: true, maxAbs: 0, maxRel: 0, outside: 0 });
  });

  it('counts NaN in both as agreement (and says so), NaN in one as a failure', () => {
    expect(compareTensors('y', f32(NaN, 1), f32(NaN, 1), 0)).toMatchObject({ pass: true, nanBoth: 1, nanMismatch: 0 });
    const r = compareTensors('y', f32(NaN, 1), f32(0, 1), 1);
    expect(r).toMatchObject({ pass: false, nanMismatch: 1, outside: 1 });
    expect(Number.isNaN(r.worst!.original)).toBe(true);
    expect(compareTensors('y', f32(5), f32(NaN), 1e9).pass).toBe(false);
  });

  it('agrees on equal infinities and fails an infinity against a number, with an infinite error', () => {
    expect(compareTensors('y', f32(Infinity, -Infinity), f32(Infinity, -Infinity), 0).pass).toBe(true);
    const r = compareTensors('y', f32(Infinity), f32(3.4e38), 1e6);
    expect(r).toMatchObject({ pass: false, maxAbs: Infinity });
    expect(compareTensors('y', f32(Infinity), f32(-Infinity), 1).pass).toBe(false);
  });

  it('counts −0.0 against +0.0 without failing', () => {
    expect(compareTensors('y', f32(-0, 0, 1), f32(0, 0, 1), 0)).toMatchObject({ pass: true, signedZero: 1, maxAbs: 0 });
  });

  it('applies the tolerance as |converted − original| ≤ T·max(1, |original|)', () => {
    // Large values: relative. 1000 vs 1000.5 is 5e-4 relative.
    expect(compareTensors('y', f32(1000), f32(1000.5), 1e-3).pass).toBe(true);
    expect(compareTensors('y', f32(1000), f32(1000.5), 1e-4).pass).toBe(false);
    // Small values: absolute. 0.001 vs 0.0015 is 5e-4 absolute (50 % relative).
    const r = compareTensors('y', f32(0.001), f32(0.0015), 1e-3);
    expect(r.pass).toBe(true);
    expect(r.maxAbs).toBeCloseTo(5e-4, 9);
    expect(r.maxRel).toBeCloseTo(0.5, 5);
  });

  it('reports the relative error as numpy does: ∞ where the original is 0 and the converted is not', () => {
    const r = compareTensors('y', f32(0, 2), f32(2 ** -24, 2 + 2 ** -20), 1e-5);
    expect(r.maxRel).toBe(Infinity);
    expect(r.pass).toBe(true);
    expect(r.maxAbs).toBe(2 ** -20);
  });

  it('names a shape, dtype or missing-output mismatch instead of comparing', () => {
    expect(compareTensors('y', f32(1, 2), f32(1, 2, 3), 1).problem).toContain('shape [3], the original [2]');
    expect(compareTensors('y', f32(1), { dtype: DT.DOUBLE, dims: [1], data: Float64Array.of(1) }, 1).problem).toContain('float64');
    expect(compareTensors('y', f32(1), undefined, 1)).toMatchObject({ pass: false, problem: 'the converted model has no output named y' });
  });

  it('compares float16 by value and int64 exactly beyond 2^53', () => {
    const h = (...v: number[]) => ({ dtype: DT.FLOAT16, dims: [v.length], data: Uint16Array.from(v, floatToHalf) });
    expect(compareTensors('y', h(1, -0.5), h(1, -0.5), 0).pass).toBe(true);
    expect(compareTensors('y', h(1), h(1.0009765625), 1e-4).pass).toBe(false);
    const big = (v: bigint) => ({ dtype: DT.INT64, dims: [1], data: BigInt64Array.of(v) });
    expect(compareTensors('y', big(9007199254740993n), big(9007199254740993n), 0).pass).toBe(true);
    const r = compareTensors('y', big(9007199254740993n), big(9007199254740992n), 0);
    expect(r).toMatchObject({ pass: false, maxAbs: 1 });
  });
});
