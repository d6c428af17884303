// ONNX unidirectional broadcasting (PRelu-7+: the slope must broadcast to X, trailing axes aligned)
// and the numpy result shape, on shapes that may be partly symbolic or unknown.
import { describe, expect, it } from 'vitest';
import { broadcastShape, fmtShape, unidirectional } from '../../src/graph/broadcast';

const NCHW = [1, 16, 48, 48];

describe('unidirectional(slope, input)', () => {
  it.each([
    ['scalar []', []],
    ['[1]', [1]],
    ['[16,1,1] (per channel)', [16, 1, 1]],
    ['[1,16,1,1] (per channel, full rank)', [1, 16, 1, 1]],
    ['[48] (last axis)', [48]],
    ['[16,48,1] (two non-1 axes)', [16, 48, 1]],
    ['the full input shape', NCHW],
    ['[1,1,1,1]', [1, 1, 1, 1]],
  ])('%s on [1,16,48,48] broadcasts', (_, slope) => {
    expect(unidirectional(slope, NCHW)).toEqual({ ok: true });
  });

  it('[16] on [1,16,48,48] does not: it lines up with the last axis (48)', () => {
    const v = unidirectional([16], NCHW);
    expect(v.ok).toBe(false);
    if (v.ok === false) expect(v.why).toBe('slope dim 0 (16) lines up with input axis 3 (48), and 16 is neither 1 nor 48');
  });

  it('[16] on [1,16,48,16] does (C equals the last dim): valid ONNX, not to be "fixed"', () => {
    expect(unidirectional([16], [1, 16, 48, 16])).toEqual({ ok: true });
  });

  it('a two-axis slope with one wrong axis names that axis', () => {
    const v = unidirectional([16, 47, 1], NCHW);
    expect(v.ok).toBe(false);
    if (v.ok === false) expect(v.why).toMatch(/slope dim 1 \(47\) lines up with input axis 2 \(48\)/);
  });

  it('a slope of higher rank than the input never broadcasts one way', () => {
    const v = unidirectional([1, 1, 16, 1, 1], NCHW);
    expect(v).toEqual({ ok: false, why: 'the slope has rank 5 but the input only rank 4' });
  });

  it('rank 2 and rank 3 inputs with per-feature slopes', () => {
    expect(unidirectional([8], [4, 8])).toEqual({ ok: true });
    expect(unidirectional([8, 1], [4, 8, 10])).toEqual({ ok: true });
    expect(unidirectional([8], [4, 8, 10]).ok).toBe(false);
  });

  it('symbolic dims: equal names match, a 1 always matches, anything else is unknown', () => {
    expect(unidirectional([16, 1, 1], ['N', 16, 'H', 'W'])).toEqual({ ok: true });
    expect(unidirectional(['C'], ['N', 'C'])).toEqual({ ok: true });
    expect(unidirectional([16], ['N', 16, 'H', 'W'])).toEqual({ ok: 'unknown', why: 'input axis 3 has no known size' });
    expect(unidirectional([4], [1, null])).toEqual({ ok: 'unknown', why: 'input axis 1 has no known size' });
  });

  it('a known mismatch wins over an unknown axis', () => {
    expect(unidirectional([16, 5], [1, 16, 'H', 4]).ok).toBe(false);
  });
});

describe('broadcastShape (numpy, both ways)', () => {
  it('aligns trailing axes and takes the non-1 size', () => {
    expect(broadcastShape([1, 16, 48, 48], [16, 1, 1])).toEqual([1, 16, 48, 48]);
    expect(broadcastShape([3, 1], [1, 4])).toEqual([3, 4]);
    expect(broadcastShape([], [2, 3])).toEqual([2, 3]);
  });
  it('a higher-rank slope widens the result (why forms check ranks)', () => {
    expect(broadcastShape([4, 8], [8, 1, 1])).toEqual([8, 4, 8]);
  });
  it('refuses known mismatches, leaves unknown ones open', () => {
    expect(broadcastShape([1, 16, 48, 48], [16])).toBeUndefined();
    expect(broadcastShape(['N', 16], [4, 16])).toEqual([null, 16]);
  });
  it('fmtShape writes unknown dims as ?', () => {
    expect(fmtShape([1, 'N', null])).toBe('[1,N,?]');
  });
});
