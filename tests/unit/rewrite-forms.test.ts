// What formsFor says about each form, checked against what the forms do: refusals name the opset
// and the reason in plain words, and each caveat lists exactly the inputs where ONNX Runtime gives
// other numbers than PRelu.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { ModelProto } from 'onnx-buf';
import { writeModel } from '../../src/onnx/model';
import { applyRewrites } from '../../src/rewrites/engine';
import { formsFor } from '../../src/rewrites/choose';
import { findForm } from '../../src/rewrites/registry';
import { findTarget } from '../../src/targets/registry';
import { DT, graph, makeTensor, model, node, preluModel, valueInfo } from '../helpers/build';
import { SESSION_OPTIONS } from '../helpers/ort';

const NO_PRELU = findTarget('no-prelu')!;

describe('why a form is not offered', () => {
  it('opset 8 with another op that changes at 9: "Where needs opset ≥ 9; the model is opset 8, and raising it would change …"', () => {
    const m = model(
      graph({
        nodes: [node('Cast', ['x'], ['c'], { attribute: [] }), node('PRelu', ['c', 'slope'], ['y'], { name: 'p' })],
        inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4]), valueInfo('slope', DT.FLOAT, [3, 1])],
        outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])],
        initializers: [makeTensor('slope', DT.FLOAT, [3, 1], [1, 2, 3])],
      }),
      8,
    );
    const where = formsFor(m, '1', NO_PRELU).find((o) => o.form.id === 'where')!;
    expect(where.available).toBe(false);
    expect(where.why).toBe(
      "Where needs opset ≥ 9; the model is opset 8, and raising it would change the definition of other nodes' ops: Cast (new version at opset 9). " +
        'OpFit does not raise an opset when that could change what other nodes compute.',
    );
    expect(where.reason!.startsWith('needs opset ≥ 9; the model is opset 8')).toBe(true);
    // Max/Min exist at 8 and relu-neg at 7: offered, without a raise.
    const offered = formsFor(m, '1', NO_PRELU).filter((o) => o.available).map((o) => [o.form.id, o.raisesTo]);
    expect(offered).toEqual([['max-min', undefined], ['relu-neg', undefined]]);
  });

  it('bfloat16 names its type: "needs opset ≥ 16 for bfloat16"', () => {
    const m = model(
      graph({
        nodes: [node('Identity', ['x'], ['r']), node('PRelu', ['r', 'slope'], ['y'], { name: 'p' })],
        inputs: [valueInfo('x', DT.BFLOAT16, [1, 3, 4])],
        outputs: [valueInfo('y', DT.BFLOAT16, [1, 3, 4])],
        valueInfo: [valueInfo('r', DT.BFLOAT16, [1, 3, 4])],
        initializers: [makeTensor('slope', DT.BFLOAT16, [3, 1], [1, 2, 3])],
      }),
      14,
    );
    const where = formsFor(m, '1', NO_PRELU).find((o) => o.form.id === 'where')!;
    expect(where.why).toMatch(/^Where needs opset ≥ 16 for bfloat16; the model is opset 14, and raising it would change .*Identity \(new version at opset 16\)/);
  });

  it('a form the target cannot run is "not for" the target, naming the op it would add', () => {
    const m = preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [1, 2, 3] });
    const noWhere = { ...NO_PRELU, name: 'No-Where', unsupportedOps: [...NO_PRELU.unsupportedOps, { op: 'Where', reason: 'no Where here', source: 'test' }] };
    const where = formsFor(m, '0', noWhere).find((o) => o.form.id === 'where')!;
    expect(where.available).toBe(false);
    expect(where.why).toBe('Where is not for No-Where: it would add a Where node, which No-Where cannot run: no Where here');
  });
});

describe('caveats list exactly where ONNX Runtime differs from PRelu', () => {
  const XS = [-0, 0, NaN, Infinity, -Infinity, -2, 3, -1e-30, 3.4e38, -3.4e38];
  const SL = [0.25, -1.5, 0, -0, Infinity, -Infinity, 2, 1e-10];
  const m = preluModel({ xShape: [SL.length, XS.length], slopeShape: [SL.length, 1], slope: SL });
  const x = Float32Array.from({ length: SL.length * XS.length }, (_, i) => XS[i % XS.length]!);
  const run = async (mm: ModelProto) => {
    const s = await ort.InferenceSession.create(writeModel(mm), SESSION_OPTIONS);
    try {
      return Array.from((await s.run({ x: new ort.Tensor('float32', x, [SL.length, XS.length]) })).y!.data as Float32Array);
    } finally {
      await s.release();
    }
  };
  const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
  type Dev = { x: number; s: number; want: number; got: number };
  const devs = async (form: 'where' | 'max-min' | 'relu-neg'): Promise<Dev[]> => {
    const want = await run(m);
    const got = await run(applyRewrites(m, [{ nodeId: '0', form }], NO_PRELU).model);
    return got.flatMap((g, i) => (same(g, want[i]!) ? [] : [{ x: XS[i % XS.length]!, s: SL[Math.floor(i / XS.length)]!, want: want[i]!, got: g }]));
  };
  // The kinds of difference the caveats name.
  const negZeroIn = (d: Dev) => Object.is(d.x, -0) && Object.is(d.want, -0) && Object.is(d.got, 0);
  const zeroSlope = (d: Dev) => Object.is(d.s, 0) && d.x < 0 && Object.is(d.want, -0) && Object.is(d.got, 0);
  const infSlope = (d: Dev) => !Number.isFinite(d.s) && d.x >= 0 && Number.isNaN(d.got);

  it('where: only ORT\'s Where kernel losing −0 (slope +0, x < 0), which its runtimeNote says', async () => {
    const d = await devs('where');
    expect(d.filter((e) => !zeroSlope(e))).toEqual([]);
    expect(findForm('where')!.caveat).toBe('');
    if (d.length) expect(findForm('where')!.runtimeNote).toMatch(/slope of \+0 with x < 0/);
  });

  it('max-min: −0 in → +0 for every slope, slope +0 with x < 0, infinite slope with x ≥ 0; nothing else', async () => {
    const d = await devs('max-min');
    expect(d.filter((e) => !negZeroIn(e) && !zeroSlope(e) && !infSlope(e))).toEqual([]);
    // In ORT, with a per-row slope broadcast over x, every finite slope but −0 turns a −0 input into
    // +0 (with a scalar slope it keeps −0, as the teaching view's live table shows): the caveat says "can".
    expect(new Set(d.filter(negZeroIn).map((e) => e.s)).size).toBe(SL.filter((s) => Number.isFinite(s) && !Object.is(s, -0)).length);
    const c = findForm('max-min')!.caveat;
    expect(c).toMatch(/x = −0\.0, which can come out \+0\.0 where PRelu keeps −0\.0 \(which zero Max\/Min return is up to the runtime/);
    expect(c).toMatch(/a slope of \+0 with x < 0/);
    expect(c).toMatch(/an infinite slope, which gives NaN for every x ≥ 0, ±0 and \+inf included/);
  });

  it('relu-neg: −0 in → +0 only when the slope is negative or −0; slope +0 with x < 0; infinite slope with x ≥ 0', async () => {
    const d = await devs('relu-neg');
    expect(d.filter((e) => !negZeroIn(e) && !zeroSlope(e) && !infSlope(e))).toEqual([]);
    expect(d.filter(negZeroIn).every((e) => e.s < 0 || Object.is(e.s, -0))).toBe(true);
    expect(d.filter(negZeroIn).length).toBeGreaterThan(0);
    expect(findForm('relu-neg')!.caveat).toMatch(/x = −0\.0, which comes out \+0\.0 when the slope is negative or −0/);
  });
});
