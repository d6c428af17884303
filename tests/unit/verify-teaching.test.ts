// The teaching view's live table, computed by running each form's tiny model in ONNX Runtime
// (onnxruntime-node here, onnxruntime-web in the app). The expected values are worked out by hand.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { computeTeaching, describeNodes, buildForm, TEACHING_FORMS, mmdnnWrong } from '../../src/verify/teaching';
import { fmtValue } from '../../src/verify/format';
import type { OrtLike } from '../../src/verify/types';

ort.env.logLevel = 'error';
const ORT = ort as unknown as OrtLike;

describe('teaching table', async () => {
  const [t025, tneg, tinf, t0] = await computeTeaching(ORT, [0.25, -1.5, Infinity, 0]);
  const cell = (t: typeof t025, x: number, form: string) => t!.rows.find((r) => Object.is(r.x, x) || (Number.isNaN(x) && Number.isNaN(r.x)))!.values[form];

  it('the MMdnn "scale negatives, then ReLU" form is just ReLU for a positive slope: x = −2 gives 0', () => {
    expect(cell(t025, -2, 'mmdnn-wrong')).toBe(0);
    expect(cell(t025, -0.5, 'mmdnn-wrong')).toBe(0);
    expect(cell(t025, 2, 'mmdnn-wrong')).toBe(2);
    // and right by accident for a negative slope: (−1.5)·(−2) = 3 survives the ReLU
    expect(cell(tneg, -2, 'mmdnn-wrong')).toBe(3);
  });

  it('the Where form gives −2·slope at x = −2, and keeps −0.0, NaN and ±inf', () => {
    expect(cell(t025, -2, 'where')).toBe(-0.5);
    expect(cell(tneg, -2, 'where')).toBe(3);
    expect(cell(tinf, -2, 'where')).toBe(-Infinity);
    expect(Object.is(cell(t025, -0, 'where'), -0)).toBe(true);
    expect(Number.isNaN(cell(t025, NaN, 'where')!)).toBe(true);
    expect(cell(tinf, Infinity, 'where')).toBe(Infinity);
  });

  it('Max/Min and Relu-Neg turn x > 0 into NaN when the slope is infinite (inf·0)', () => {
    expect(Number.isNaN(cell(tinf, 2, 'max-min')!)).toBe(true);
    expect(Number.isNaN(cell(tinf, 2, 'relu-neg')!)).toBe(true);
    expect(cell(tinf, 2, 'where')).toBe(2);
    expect(cell(tinf, 2, 'prelu')).toBe(2);
  });

  it('every column of every table was computed (no form failed to run)', () => {
    for (const t of [t025, tneg, tinf, t0]) {
      expect(t!.notRun).toEqual({});
      for (const r of t!.rows) for (const f of TEACHING_FORMS) expect(r.values[f.id]).not.toBeNull();
    }
  });

  it('the definition column is PRelu\'s formula, and PRelu in ONNX Runtime matches it on every row', () => {
    for (const t of [t025, tneg, tinf]) {
      for (const r of t!.rows) {
        const v = r.values.prelu!;
        expect(Object.is(v, r.definition) || (Number.isNaN(v) && Number.isNaN(r.definition)), `slope ${t!.slope}, x ${r.x}`).toBe(true);
      }
    }
  });

  it('slope 0 shows ONNX Runtime\'s Where dropping the sign of 0·(−2) = −0 (onnxruntime#32191)', () => {
    expect(Object.is(cell(t0, -2, 'prelu'), -0)).toBe(true);
    expect(Object.is(t0!.rows[0]!.definition, -0)).toBe(true);
    expect(Object.is(cell(t0, -2, 'where'), 0)).toBe(true);
  });

  it('lists each form\'s subgraph from the model it built', () => {
    expect(t025!.nodes.where).toEqual(['Less(x, 0) → less', 'Mul(slope, x) → mul', 'Where(less, mul, x) → y']);
    expect(t025!.nodes['mmdnn-wrong']).toEqual(['Less(x, 0) → less', 'Where(less, slope, 1) → where', 'Mul(x, where) → mul', 'Relu(mul) → y']);
    expect(t025!.nodes.leaky).toEqual(['LeakyRelu(x, alpha=0.25) → y']);
    const built = buildForm(mmdnnWrong, 0.25, 4);
    expect(describeNodes(built.nodes, built.initializers)).toHaveLength(4);
  });
});

describe('fmtValue', () => {
  it('shows −0 distinctly from 0, and NaN and ±∞ by name', () => {
    expect(fmtValue(-0)).toBe('−0');
    expect(fmtValue(0)).toBe('0');
    expect(fmtValue(NaN)).toBe('NaN');
    expect(fmtValue(-Infinity)).toBe('−∞');
    expect(fmtValue(-0.5)).toBe('−0.5');
    expect(fmtValue(Math.fround(-3.4028234663852886e38) * 0.25)).toBe('−8.50706e+37');
  });
});
