// Every kind of input in ../shared/reference/failure-cases.md, as a tiny model built here, with the
// right answer worked out independently of OpFit's code: written out by hand where it is short, else
// computed by `definition` below (PRelu by the ONNX definition, numpy broadcasting from the last axis
// or, for opset < 7, per channel), never by running our own rewrite. The numbers OpFit's output gives
// come from ONNX Runtime.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { AttributeProtoSchema, FunctionProtoSchema, OperatorSetIdProtoSchema, StringStringEntryProtoSchema, ModelProtoSchema, type ModelProto, type NodeProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { ModelReadError, readModel, writeModel } from '../../src/onnx/model';
import { floatToHalf, halfToFloat, readTensorValues } from '../../src/onnx/tensor';
import { allGraphs, nodeId } from '../../src/graph/scope';
import { applyRewrites } from '../../src/rewrites/engine';
import { fixAll, formsFor } from '../../src/rewrites/choose';
import { fuseAll } from '../../src/rewrites/fuse-all';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import type { FormId } from '../../src/rewrites/types';
import { DT, allNodes, allTensors, graph, graphAttr, makeTensor, model, node, preluModel, tensorAttr, valueInfo } from '../helpers/build';
import { SESSION_OPTIONS } from '../helpers/ort';
import { SHARED } from '../helpers/paths';
import { checkModels } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';

const NO_PRELU = findTarget('no-prelu')!;
const ORT = findTarget('onnxruntime')!;
const DECOMPOSED: FormId[] = ['where', 'max-min', 'relu-neg'];
const scratch = scratchDir('failure-cases');
const forChecker: [string, ModelProto][] = [];

/** PRelu by definition. `perChannel`: the opset < 7 reading of a 1-D slope (axis 1). */
function definition(x: number[], xShape: number[], slope: number[], slopeShape: number[], o: { perChannel?: boolean; round?: (v: number) => number } = {}): number[] {
  const round = o.round ?? Math.fround;
  const rank = xShape.length;
  const strides = xShape.map((_, a) => xShape.slice(a + 1).reduce((p, d) => p * d, 1));
  const s = o.perChannel ? xShape.map((_, a) => (a === 1 ? slopeShape[0]! : 1)) : [...Array<number>(rank - slopeShape.length).fill(1), ...slopeShape];
  const sStrides = s.map((_, a) => s.slice(a + 1).reduce((p, d) => p * d, 1));
  return x.map((v, i) => {
    let k = 0;
    for (let a = 0; a < rank; a++) {
      const coord = Math.floor(i / strides[a]!) % xShape[a]!;
      if (s[a] !== 1) k += coord * sStrides[a]!;
    }
    return v < 0 ? round(slope[k]! * v) : v;
  });
}

const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));
const show = (v: number | undefined) => (Object.is(v, -0) ? '-0' : String(v));
const diff = (got: number[], want: number[]) => want.flatMap((w, i) => (same(got[i]!, w) ? [] : [`[${i}] want ${show(w)}, got ${show(got[i])}`]));

let n = 0;
async function run(m: ModelProto, feeds: Record<string, ort.Tensor>, out = 'y', dir = scratch): Promise<number[]> {
  const file = join(dir, `m${n++}.onnx`);
  writeFileSync(file, writeModel(m));
  const s = await ort.InferenceSession.create(file, SESSION_OPTIONS);
  try {
    const t = (await s.run(feeds))[out]!;
    return t.type === 'float16' ? Array.from(t.data as Uint16Array, halfToFloat) : Array.from(t.data as ArrayLike<number | bigint>, Number);
  } finally {
    await s.release();
  }
}
const f32 = (x: number[], dims: number[]) => ({ x: new ort.Tensor('float32', Float32Array.from(x), dims) });
const seq = (k: number, f: (i: number) => number) => Array.from({ length: k }, (_, i) => f(i));

/** Applies `form` to every PRelu for `target` and keeps the result for the checker. */
function convert(m: ModelProto, form: FormId, target = NO_PRELU, label: string = form): ModelProto {
  const ids = checkModel(m, target).filter((f) => f.op === 'PRelu').map((f) => f.nodeId);
  const all = ids.length ? ids : allGraphs(m).flatMap((sc) => sc.graph.node.flatMap((nd, i) => (nd.opType === 'PRelu' ? [nodeId(sc.path, i)] : [])));
  const out = applyRewrites(m, all.map((nodeId) => ({ nodeId, form })), target).model;
  forChecker.push([`${label}-${forChecker.length}`, out]);
  return out;
}

describe('1. a [C] slope on NCHW at opset ≥ 7 with C ≠ W: invalid, fixed by reading it per channel', () => {
  // x [1,2,2,3], slope [2] = [0.5, −1]. Channel 0 scales negatives by 0.5, channel 1 by −1 (by hand).
  const m = preluModel({ xShape: [1, 2, 2, 3], slopeShape: [2], slope: [0.5, -1], opset: 13 });
  const x = [-1, 2, -3, 4, -5, 6, -1, 2, -3, 4, -5, 6];
  const want = [-0.5, 2, -1.5, 4, -2.5, 6, 1, 2, 3, 4, 5, 6];

  it('is a finding for onnxruntime, and ORT itself rejects the model', async () => {
    expect(checkModel(m, ORT)).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/Reshaping the slope to \[2,1,1\]/) }]);
    await expect(run(m, f32(x, [1, 2, 2, 3]))).rejects.toThrow();
  });
  it('fixAll for onnxruntime reshapes the slope to [2,1,1]: per-channel numbers', async () => {
    const r = fixAll(m, ORT);
    expect(r.picks).toEqual([{ nodeId: '0', form: 'reshape-slope' }]);
    expect(allTensors(r.model).map((t) => t.dims.map(Number))).toEqual([[2, 1, 1]]);
    forChecker.push(['case1-reshape', r.model]);
    expect(diff(await run(r.model, f32(x, [1, 2, 2, 3])), want)).toEqual([]);
  });
  for (const form of DECOMPOSED) {
    it(`${form} for no-prelu: the same per-channel numbers`, async () => {
      expect(diff(await run(convert(m, form), f32(x, [1, 2, 2, 3])), want)).toEqual([]);
    });
  }
});

describe('2. a [C] slope where C equals the last axis: valid, last-axis, never reinterpreted', () => {
  // x [1,2,3,2] all negative, slope [2] = [0.5, 2]: ONNX aligns it with the LAST axis (by hand).
  const m = preluModel({ xShape: [1, 2, 3, 2], slopeShape: [2], slope: [0.5, 2], opset: 13 });
  const x = seq(12, (i) => -(i + 1));
  const want = [-0.5, -4, -1.5, -8, -2.5, -12, -3.5, -16, -4.5, -20, -5.5, -24];
  const perChannel = definition(x, [1, 2, 3, 2], [0.5, 2], [2], { perChannel: true });

  it('the two readings really differ on this input', () => {
    expect(diff(perChannel, want).length).toBeGreaterThan(0);
    expect(diff(definition(x, [1, 2, 3, 2], [0.5, 2], [2]), want)).toEqual([]);
  });
  it('no finding for onnxruntime, and reshape-slope is not offered', () => {
    expect(checkModel(m, ORT)).toEqual([]);
    expect(formsFor(m, '0', ORT).find((o) => o.form.id === 'reshape-slope')!.why).toMatch(/already has a shape that broadcasts/);
  });
  for (const form of DECOMPOSED) {
    it(`${form}: last-axis numbers, as ORT's own PRelu gives`, async () => {
      expect(diff(await run(m, f32(x, [1, 2, 3, 2])), want)).toEqual([]);
      expect(diff(await run(convert(m, form), f32(x, [1, 2, 3, 2])), want)).toEqual([]);
    });
  }
});

describe('3. every legal slope shape on the same input', () => {
  const xShape = [1, 2, 2, 3];
  const x = seq(12, (i) => (i % 3 === 0 ? 1 + i : -1 - i));
  const shapes: [string, number[], number[]][] = [
    ['[C,1,1]', [2, 1, 1], [0.5, -2]],
    ['[1,C,1,1]', [1, 2, 1, 1], [0.5, -2]],
    ['scalar []', [], [0.25]],
    ['[1]', [1], [3]],
    ['the full shape of x', [1, 2, 2, 3], seq(12, (i) => (i - 5.5) / 4)],
    ['two non-1 axes [2,1,3]', [2, 1, 3], [0.5, -1, 2, 0, 1.5, -0.25]],
    ['last axis [3]', [3], [0.5, 0.125, -3]],
  ];
  for (const [label, slopeShape, slope] of shapes) {
    for (const form of [...DECOMPOSED, 'leaky'] as FormId[]) {
      if (form === 'leaky' && slope.length !== 1) continue;
      it(`${label}, ${form}`, async () => {
        const m = preluModel({ xShape, slopeShape, slope });
        expect(diff(await run(convert(m, form), f32(x, xShape)), definition(x, xShape, slope, slopeShape))).toEqual([]);
      });
    }
  }
  it('(1,1) on a rank-2 input', async () => {
    const m = preluModel({ xShape: [2, 3], slopeShape: [1, 1], slope: [0.5] });
    const xs = [-1, 2, -3, 4, -5, 6];
    expect(diff(await run(convert(m, 'where'), f32(xs, [2, 3])), [-0.5, 2, -1.5, 4, -2.5, 6])).toEqual([]);
  });
});

describe('4. rank-2 and rank-3 inputs with per-feature slopes', () => {
  it('[N,C] with a [C] slope', async () => {
    const m = preluModel({ xShape: [2, 3], slopeShape: [3], slope: [0.5, -1, 2] });
    const x = [-2, -2, -2, 4, 4, 4];
    for (const form of DECOMPOSED) expect(diff(await run(convert(m, form), f32(x, [2, 3])), [-1, 2, -4, 4, 4, 4]), form).toEqual([]);
  });
  it('[N,C,L] with a [C,1] slope', async () => {
    const m = preluModel({ xShape: [1, 3, 2], slopeShape: [3, 1], slope: [0.5, -1, 2] });
    const x = [-2, 1, -2, 1, -2, 1];
    for (const form of DECOMPOSED) expect(diff(await run(convert(m, form), f32(x, [1, 3, 2])), [-1, 1, 2, 1, -4, 1]), form).toEqual([]);
  });
});

describe('5. opset 6 and opset 1 PRelu: a [C] slope is per channel', () => {
  // x [1,3,2,2], slope [3] = [0.5, −1, 2] per channel (test_PReLU_*_multiparam semantics).
  const x = seq(12, (i) => (i % 2 ? 3 : -2));
  const want = [-1, 3, -1, 3, 2, 3, 2, 3, -4, 3, -4, 3];
  for (const opset of [6, 1]) {
    const legacy = () => preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3], slope: [0.5, -1, 2], opset });
    it(`opset ${opset}: ORT has no kernel; the reference reading agrees with the hand-computed values`, async () => {
      expect(diff(definition(x, [1, 3, 2, 2], [0.5, -1, 2], [3], { perChannel: true }), want)).toEqual([]);
      await expect(run(legacy(), f32(x, [1, 3, 2, 2]))).rejects.toThrow();
    });
    it(`opset ${opset} → onnxruntime: reshape-slope at opset 7, per channel`, async () => {
      const r = fixAll(legacy(), ORT);
      expect(r.picks.map((p) => p.form)).toEqual(['reshape-slope']);
      expect(r.model.opsetImport[0]!.version).toBe(7n);
      forChecker.push([`case5-opset${opset}`, r.model]);
      expect(diff(await run(r.model, f32(x, [1, 3, 2, 2])), want)).toEqual([]);
    });
    for (const form of DECOMPOSED) {
      it(`opset ${opset} → ${form}: per channel`, async () => {
        expect(diff(await run(convert(legacy(), form), f32(x, [1, 3, 2, 2])), want)).toEqual([]);
      });
    }
  }
});

describe('6. max(x, slope·x) is PReLU only when 0 ≤ slope ≤ 1', () => {
  const x = [-2, -0.5, 0.5, 3];
  // The reference lists −0.25 and 0 among the slopes that break it; worked out here, max(x, s·x)
  // equals PRelu for every s ≤ 1 (for x < 0, s·x ≥ x ⟺ s ≤ 1), negative ones included. Fusion still
  // takes only 0 ≤ α ≤ 1 (Vela's own condition): refusing a negative α is safe, fusing α > 1 is not.
  for (const s of [-0.25, 0, 0.5, 1, 1.5, 3]) {
    // By definition: max(x, s·x) vs x < 0 ? s·x : x.
    const maxForm = x.map((v) => Math.max(v, s * v));
    const prelu = x.map((v) => (v < 0 ? s * v : v));
    const agrees = diff(maxForm, prelu).length === 0;
    const fuses = s >= 0 && s <= 1;
    it(`slope ${s}: max form ${agrees ? 'agrees' : 'differs'}, and fusion ${fuses ? 'fuses it' : 'refuses it'}`, async () => {
      expect(agrees).toBe(s <= 1);
      const m = model(
        graph({
          nodes: [node('Mul', ['x', 'alpha'], ['ax']), node('Max', ['ax', 'x'], ['y'])],
          inputs: [valueInfo('x', DT.FLOAT, [4])],
          outputs: [valueInfo('y', DT.FLOAT, [4])],
          initializers: [makeTensor('alpha', DT.FLOAT, [], [s])],
        }),
        13,
      );
      const r = fuseAll(m, ORT);
      expect(r.fused.length).toBe(fuses ? 1 : 0);
      expect(diff(await run(r.model, f32(x, [4])), maxForm)).toEqual([]);
      if (fuses) expect(diff(await run(r.model, f32(x, [4])), prelu)).toEqual([]);
    });
  }
  it('no rewrite form emits Max(x, slope·x)', () => {
    const m = preluModel({ xShape: [4], slopeShape: [1], slope: [1.5] });
    for (const form of DECOMPOSED) {
      const ops = allNodes(convert(m, form)).map((nd) => nd.opType);
      expect(ops.includes('Max') && !ops.includes('Min'), form).toBe(false);
    }
  });
});

describe('7. non-finite and signed-zero inputs, an infinite slope', () => {
  const x = [Number.NaN, Infinity, -Infinity, -0, 0, 3.4e38, -3.4e38, -1e-30, 2].map(Math.fround);
  const slopes = [0.25, -2, Infinity, -Infinity];
  const xShape = [1, 4, x.length];
  const xs = slopes.flatMap(() => x);
  const m = preluModel({ xShape, slopeShape: [4, 1], slope: slopes });
  // By definition, in float32: NaN < 0 is false (NaN passes), −0 < 0 is false (−0 passes), −3.4e38·−2 overflows to +inf.
  const want = definition(xs, xShape, slopes, [4, 1]);
  it('the definition gives what ORT\'s own PRelu gives', async () => {
    expect(diff(await run(m, f32(xs, xShape)), want)).toEqual([]);
    const big = Math.fround(3.4e38);
    const tiny = Math.fround(-1e-30);
    // By hand. Slope 0.25: NaN, ±inf, ±0 pass or scale as they are.
    expect(diff(want.slice(0, 9), [NaN, Infinity, -Infinity, -0, 0, big, Math.fround(-big / 4), Math.fround(tiny / 4), 2])).toEqual([]);
    // Slope −2: −inf·−2 = +inf, −3.4e38·−2 overflows to +inf.
    expect(diff(want.slice(9, 18), [NaN, Infinity, Infinity, -0, 0, big, Infinity, Math.fround(-2 * tiny), 2])).toEqual([]);
    // Slope +inf: every negative x goes to −inf; −0 is not negative, so it stays −0 (no inf·0).
    expect(diff(want.slice(18, 27), [NaN, Infinity, -Infinity, -0, 0, big, -Infinity, -Infinity, 2])).toEqual([]);
  });
  it('where: exact on all of them', async () => {
    expect(diff(await run(convert(m, 'where'), f32(xs, xShape)), want)).toEqual([]);
  });
  for (const form of ['max-min', 'relu-neg'] as const) {
    it(`${form}: differs only where its caveat says (−0, inf·0 at x ≥ 0)`, async () => {
      const got = await run(convert(m, form), f32(xs, xShape));
      const unexplained = want.flatMap((w, i) => {
        if (same(got[i]!, w)) return [];
        const xi = xs[i]!;
        const s = slopes[Math.floor(i / x.length)]!;
        if (Object.is(xi, -0) && Object.is(got[i], 0)) return [];
        if (!Number.isFinite(s) && xi >= 0 && Number.isNaN(got[i]!)) return [];
        if (Number.isNaN(w) && Number.isNaN(got[i]!)) return [];
        return [`x=${xi} slope=${s}: want ${w}, got ${got[i]}`];
      });
      expect(unexplained).toEqual([]);
    });
  }
  it('the default form for no-prelu is where', () => {
    expect(fixAll(m, NO_PRELU).picks).toEqual([{ nodeId: '0', form: 'where' }]);
  });
});

describe('8. types: constants of the slope\'s type, numbers in that type', () => {
  const xs = [-2, -0.5, 3, 0.25, -8, 1];
  const slope = [0.25, -1.5];
  const cases: [string, number, number, ort.Tensor.Type, (v: number) => number][] = [
    ['float16', DT.FLOAT16, 16, 'float16', (v) => halfToFloat(floatToHalf(v))],
    ['double', DT.DOUBLE, 16, 'float64', (v) => v],
    ['double at opset 9', DT.DOUBLE, 9, 'float64', (v) => v],
  ];
  for (const [label, dtype, opset, type, round] of cases) {
    it(label, async () => {
      const m = preluModel({ xShape: [2, 3], slopeShape: [2, 1], slope, dtype, opset });
      for (const form of DECOMPOSED) {
        const out = convert(m, form, NO_PRELU, `case8-${label}-${form}`);
        expect(allTensors(out).filter((t) => t.dataType !== dtype), form).toEqual([]);
        const data = type === 'float16' ? Uint16Array.from(xs, floatToHalf) : Float64Array.from(xs);
        const got = await run(out, { x: new ort.Tensor(type, data, [2, 3]) });
        expect(diff(got, definition(xs, [2, 3], slope, [2, 1], { round })), form).toEqual([]);
      }
    });
  }
  for (const [label, dtype, type] of [['int32', DT.INT32, 'int32'], ['int64', DT.INT64, 'int64']] as const) {
    it(`${label} (opset 9+)`, async () => {
      const m = preluModel({ xShape: [2, 3], slopeShape: [2, 1], slope: [2, -3], dtype, opset: 13 });
      const xi = [-2, 0, 3, -1, 5, -4];
      const out = convert(m, 'where', NO_PRELU, `case8-${label}`);
      expect(allTensors(out).filter((t) => t.dataType !== dtype)).toEqual([]);
      const data = type === 'int32' ? Int32Array.from(xi) : BigInt64Array.from(xi.map(BigInt));
      expect(await run(out, { x: new ort.Tensor(type, data, [2, 3]) })).toEqual([-4, 0, 3, 3, 5, 12]);
    });
  }
  it('bfloat16 (opset 16): typed constants, and the checker accepts it (ORT has no bfloat16 kernels to run)', () => {
    const m = preluModel({ xShape: [2, 3], slopeShape: [2, 1], slope, dtype: DT.BFLOAT16, opset: 16 });
    for (const form of DECOMPOSED) {
      const out = convert(m, form, NO_PRELU, `case8-bf16-${form}`);
      const tensors = allTensors(out);
      expect(tensors.filter((t) => t.dataType !== DT.BFLOAT16)).toEqual([]);
      if (form !== 'relu-neg') expect(tensors.some((t) => readTensorValues(t)?.[0] === 0)).toBe(true);
    }
  });
});

describe('9. the ops a form uses must exist at the model\'s opset and on the target', () => {
  /** opset 8: Cast → PRelu; Cast has a new version at 9, so the model cannot be raised to 9. */
  const at8 = () =>
    model(
      graph({
        nodes: [node('Cast', ['x'], ['c'], { attribute: [create(AttributeProtoSchema, { name: 'to', type: 2, i: 1n })] }), node('PRelu', ['c', 'slope'], ['y'], { name: 'p' })],
        inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4]), valueInfo('slope', DT.FLOAT, [3, 1])],
        outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])],
        initializers: [makeTensor('slope', DT.FLOAT, [3, 1], [0.5, -1, 2])],
      }),
      8,
    );
  it('Where needs opset 9: not offered at opset 8 when raising would change Cast, and the reason says so', () => {
    const w = formsFor(at8(), '1', NO_PRELU).find((o) => o.form.id === 'where')!;
    expect(w.available).toBe(false);
    expect(w.why).toMatch(/^Where needs opset ≥ 9; the model is opset 8, and raising it would change .*Cast \(new version at opset 9\)/);
  });
  it('Max/Min (8) and Relu/Neg (7) exist at opset 8: the default there is max-min, with its numbers', async () => {
    const r = fixAll(at8(), NO_PRELU);
    expect(r.picks).toEqual([{ nodeId: '1', form: 'max-min' }]);
    const x = seq(12, (i) => (i % 2 ? 2 : -4));
    expect(diff(await run(r.model, f32(x, [1, 3, 4])), definition(x, [1, 3, 4], [0.5, -1, 2], [3, 1]))).toEqual([]);
  });
  it('no form emits CastLike (opset 15): constants are typed instead', () => {
    const m = preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [1, 2, 3], opset: 9 });
    for (const form of DECOMPOSED) expect(allNodes(convert(m, form)).map((nd) => nd.opType)).not.toContain('CastLike');
  });
  it('LeakyRelu needs one scalar slope', () => {
    const m = preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [1, 2, 3] });
    expect(formsFor(m, '0', NO_PRELU).find((o) => o.form.id === 'leaky')!.reason).toBe('the slope has 3 values; LeakyRelu has one alpha');
  });
  it('a target that lacks an op a form needs does not get that form', () => {
    const noWhere = { ...NO_PRELU, name: 'No-Where', unsupportedOps: [...NO_PRELU.unsupportedOps, { op: 'Where', reason: 'no Where', source: 'test' }] };
    const m = preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [1, 2, 3] });
    expect(fixAll(m, noWhere).picks).toEqual([{ nodeId: '0', form: 'max-min' }]);
  });
});

describe('10. where the slope comes from', () => {
  const x = seq(12, (i) => (i % 3 ? -3 : 6));
  const want = definition(x, [1, 3, 4], [0.5, -1, 2], [3, 1]);
  const slopeT = (name = 'slope') => makeTensor(name, DT.FLOAT, [3, 1], [0.5, -1, 2]);
  const build = (nodes: NodeProto[], extra: { inputs?: ReturnType<typeof valueInfo>[]; inits?: ReturnType<typeof makeTensor>[]; outputs?: string[] } = {}) =>
    model(
      graph({
        nodes,
        inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4]), ...(extra.inputs ?? [])],
        outputs: (extra.outputs ?? ['y']).map((o) => valueInfo(o, DT.FLOAT, [1, 3, 4])),
        initializers: extra.inits ?? [],
      }),
      13,
    );
  const prelu = (i = 'x', o = 'y', name = 'p') => node('PRelu', [i, 'slope'], [o], { name });
  const cases: [string, ModelProto, Record<string, ort.Tensor>][] = [
    ['an initializer', build([prelu()], { inits: [slopeT()] }), {}],
    ['an initializer also listed as a graph input', build([prelu()], { inits: [slopeT()], inputs: [valueInfo('slope', DT.FLOAT, [3, 1])] }), {}],
    ['a Constant node', build([node('Constant', [], ['slope'], { attribute: [tensorAttr('value', slopeT(''))] }), prelu()]), {}],
    ['a real graph input', build([prelu()], { inputs: [valueInfo('slope', DT.FLOAT, [3, 1])] }), { slope: new ort.Tensor('float32', Float32Array.from([0.5, -1, 2]), [3, 1]) }],
  ];
  for (const [label, m, extra] of cases) {
    it(label, async () => {
      const r = fixAll(m, NO_PRELU);
      expect(r.unfixed).toEqual([]);
      forChecker.push([`case10-${label}`, r.model]);
      expect(diff(await run(r.model, { ...f32(x, [1, 3, 4]), ...extra }), want)).toEqual([]);
    });
  }
  it('one slope shared by two PRelu nodes (y = PRelu(PRelu(x)), z = the first)', async () => {
    const m = build([prelu('x', 'z', 'p1'), prelu('z', 'y', 'p2')], { inits: [slopeT()], outputs: ['y', 'z'] });
    const r = fixAll(m, NO_PRELU);
    expect(r.picks).toHaveLength(2);
    expect(diff(await run(r.model, f32(x, [1, 3, 4]), 'z'), want)).toEqual([]);
    expect(diff(await run(r.model, f32(x, [1, 3, 4]), 'y'), definition(want, [1, 3, 4], [0.5, -1, 2], [3, 1]))).toEqual([]);
  });
});

describe('11. PRelu inside If, Loop and Scan bodies and a model-local function', () => {
  const x = seq(12, (i) => (i % 2 ? -4 : 1));
  const want = definition(x, [1, 3, 4], [0.5, -1, 2], [3, 1]);
  const slope = () => makeTensor('slope', DT.FLOAT, [3, 1], [0.5, -1, 2]);
  const ty = (nme: string, shape = [1, 3, 4]) => valueInfo(nme, DT.FLOAT, shape);
  const bodies: [string, () => ModelProto, Record<string, ort.Tensor>][] = [
    ['If branch', () => model(graph({
      nodes: [node('If', ['cond'], ['y'], { attribute: [graphAttr('then_branch', graph({ nodes: [node('PRelu', ['x', 'slope'], ['t'])], outputs: [ty('t')] })), graphAttr('else_branch', graph({ nodes: [node('Identity', ['x'], ['e'])], outputs: [ty('e')] }))] })],
      inputs: [valueInfo('cond', DT.BOOL, []), ty('x')], outputs: [ty('y')], initializers: [slope()],
    }), 13), { cond: new ort.Tensor('bool', Uint8Array.from([1]), []) }],
    ['Loop body (one trip)', () => model(graph({
      nodes: [node('Loop', ['trips', '', 'x'], ['y'], { attribute: [graphAttr('body', graph({ nodes: [node('Identity', ['c'], ['co']), node('PRelu', ['xi', 'slope'], ['xo'])], inputs: [valueInfo('i', DT.INT64, []), valueInfo('c', DT.BOOL, []), ty('xi')], outputs: [valueInfo('co', DT.BOOL, []), ty('xo')] }))] })],
      inputs: [ty('x')], outputs: [ty('y')], initializers: [slope(), makeTensor('trips', DT.INT64, [], [1])],
    }), 13), {}],
    ['Scan body', () => {
      const scan = node('Scan', ['x'], ['y'], { attribute: [graphAttr('body', graph({ nodes: [node('PRelu', ['xi', 'slope'], ['yo'])], inputs: [ty('xi', [3, 4])], outputs: [ty('yo', [3, 4])] }))] });
      scan.attribute.push(create(AttributeProtoSchema, { name: 'num_scan_inputs', type: 2, i: 1n }));
      return model(graph({ nodes: [scan], inputs: [ty('x')], outputs: [ty('y')], initializers: [slope()] }), 13);
    }, {}],
    ['model-local function', () => {
      const fn = create(FunctionProtoSchema, { name: 'F', domain: 'local', input: ['a', 's'], output: ['b'], node: [node('PRelu', ['a', 's'], ['b'])], opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })] });
      const call = node('F', ['x', 'slope'], ['y']);
      call.domain = 'local';
      const m = model(graph({ nodes: [call], inputs: [ty('x')], outputs: [ty('y')], initializers: [slope()] }), 13, 8);
      m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'local', version: 1n }));
      m.functions.push(fn);
      return m;
    }, {}],
  ];
  for (const [label, make, extra] of bodies) {
    it(`${label}: found, rewritten (no PRelu left anywhere), same numbers`, async () => {
      const m = make();
      expect(diff(await run(m, { ...f32(x, [1, 3, 4]), ...extra }), want)).toEqual([]);
      const r = fixAll(m, NO_PRELU);
      expect(r.picks).toHaveLength(1);
      expect([...allNodes(r.model), ...r.model.functions.flatMap((f) => f.node)].map((nd) => nd.opType)).not.toContain('PRelu');
      forChecker.push([`case11-${label}`, r.model]);
      expect(diff(await run(r.model, { ...f32(x, [1, 3, 4]), ...extra }), want)).toEqual([]);
    });
  }
});

describe('12. a slope stored as external data', () => {
  const dir = join(scratch, 'ext');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'w.bin'), Buffer.from(Float32Array.from([0.5, -1, 2]).buffer));
  const ext = makeTensor('slope', DT.FLOAT, [3], []);
  ext.dataLocation = 1;
  ext.externalData = [create(StringStringEntryProtoSchema, { key: 'location', value: 'w.bin' })];
  // [3] on x [1,3,4] at opset 13: the exporter bug (cannot broadcast to 4), read per channel.
  const m = model(graph({ nodes: [node('PRelu', ['x', 'slope'], ['y'])], inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4])], outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])], initializers: [ext] }), 13);
  const x = seq(12, (i) => (i % 2 ? -4 : 1));
  const want = definition(x, [1, 3, 4], [0.5, -1, 2], [3], { perChannel: true });
  for (const [label, target] of [['onnxruntime (reshape-slope)', ORT], ['no-prelu (where)', NO_PRELU]] as const) {
    it(`${label}: the slope stays external (never read), the numbers are per channel`, async () => {
      const r = fixAll(m, target);
      const slopes = r.model.graph!.initializer.filter((t) => t.externalData.length > 0);
      expect(slopes.length).toBe(1);
      expect(slopes.every((t) => t.dataLocation === 1 && t.rawData.length === 0)).toBe(true);
      expect(slopes.map((t) => t.externalData[0]!.value)).toEqual(['w.bin']);
      const file = join(dir, `${target.id}.onnx`);
      writeFileSync(file, writeModel(r.model));
      expect(checkModels([file])[file]).toBeNull();
      expect(diff(await run(r.model, f32(x, [1, 3, 4]), 'y', dir), want)).toEqual([]);
    });
  }
});

describe('13. files that are not what they claim', () => {
  const good = writeModel(preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [1, 2, 3] }));
  const expectRead = (bytes: Uint8Array, format: string | RegExp) => {
    try {
      readModel(bytes, 'f');
    } catch (e) {
      expect(e).toBeInstanceOf(ModelReadError);
      const err = e as ModelReadError;
      expect(err.detectedFormat).toMatch(format);
      expect(err.message).not.toMatch(/File format is not onnx.ModelProto/);
      expect(err.message.length).toBeGreaterThan(40);
      return err.message;
    }
    throw new Error('read as a model');
  };
  it('a truncated model', () => expect(expectRead(good.slice(0, good.length - 5), 'corrupt-onnx')).toMatch(/truncated|byte/));
  it('a length prefix pointing past the end', () => {
    const b = Uint8Array.from(good);
    // The graph field (7, wire type 2): make its length claim more than the file holds.
    const at = b.indexOf(0x3a);
    b[at + 1] = 0x7f;
    expectRead(b.slice(0, at + 20), 'corrupt-onnx');
  });
  it('a wrong wire type', () => {
    const b = Uint8Array.from(good);
    b[b.indexOf(0x3a)] = (7 << 3) | 7; // the graph field (7) with wire type 7, which protobuf does not have
    expect(expectRead(b, 'corrupt-onnx')).toMatch(/wire type 7/);
  });
  it('a PyTorch zip, a TFLite flatbuffer, a Caffe model, an image', () => {
    const zip = Buffer.concat([Buffer.from([0x50, 0x4b, 3, 4, 20, 0]), Buffer.alloc(20), Buffer.from([16, 0, 0, 0]), Buffer.from('archive/data.pkl')]);
    expect(expectRead(new Uint8Array(zip), 'pytorch')).toMatch(/PyTorch/);
    expect(expectRead(new Uint8Array(readFileSync(join(SHARED, 'tflite/gtcrn-s3-float32.tflite'))), 'tflite')).toMatch(/TensorFlow Lite/);
    expect(expectRead(new Uint8Array(readFileSync(join(SHARED, 'caffe/mtcnn-det1.caffemodel'))), 'caffemodel')).toMatch(/Caffe/);
    expect(expectRead(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'png')).toMatch(/PNG/);
  });
  it('a valid model still reads', () => expect(readModel(toBinary(ModelProtoSchema, readModel(good)))).toBeTruthy());
});

describe('14. a model ORT itself rejects is reported, not "converted"', () => {
  // A [C,1,1] slope on a rank-2 FC output: it broadcasts to rank 3 and breaks the next Reshape.
  const m = model(
    graph({
      nodes: [node('PRelu', ['x', 'slope'], ['h'], { name: 'p' }), node('Reshape', ['h', 'shape'], ['y'])],
      inputs: [valueInfo('x', DT.FLOAT, [2, 3])],
      outputs: [valueInfo('y', DT.FLOAT, [6])],
      initializers: [makeTensor('slope', DT.FLOAT, [3, 1, 1], [1, 2, 3]), makeTensor('shape', DT.INT64, [1], [6])],
    }),
    13,
  );
  it('is a finding on the original, and no form is applied', async () => {
    expect(checkModel(m, ORT).filter((f) => f.op === 'PRelu')).toMatchObject([{ status: 'constraint' }]);
    await expect(run(m, f32([1, 2, 3, 4, 5, 6], [2, 3]))).rejects.toThrow();
    for (const target of [ORT, NO_PRELU]) {
      const r = fixAll(m, target);
      expect(r.model).toBe(m);
      expect(r.unfixed.map((u) => u.why).join()).toMatch(/does not broadcast to the input \[2,3\]/);
    }
  });
});

afterAll(() => {
  const files = forChecker.map(([name, m]) => {
    const f = join(scratch, `${name.replace(/\W+/g, '-')}.onnx`);
    writeFileSync(f, writeModel(m));
    return f;
  });
  expect(Object.entries(checkModels(files)).filter(([, e]) => e !== null)).toEqual([]);
});
