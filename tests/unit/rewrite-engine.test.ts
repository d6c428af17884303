// The rewrite engine and its forms, on tiny models built here. The oracle for "same function" is
// ONNX Runtime running PRelu itself (opset 16, float32), on values that break careless rewrites:
// -2, -0.0, 0, 3, NaN, ±inf, and slopes that are negative, above 1 and infinite.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { ModelProto } from 'onnx-buf';
import { writeModel } from '../../src/onnx/model';
import { readTensorValues } from '../../src/onnx/tensor';
import { applyRewrites, RewriteRefused, type Pick } from '../../src/rewrites/engine';
import { fixAll, formsFor } from '../../src/rewrites/choose';
import { findForm } from '../../src/rewrites/registry';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import type { FormId } from '../../src/rewrites/types';
import { DT, allNodes, allTensors, graph, graphAttr, makeTensor, model, node, preluModel, valueInfo } from '../helpers/build';
import { session } from '../helpers/ort';
import { checkModels } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';

const NO_PRELU = findTarget('no-prelu')!;
const ORT = findTarget('onnxruntime')!;

/** The values every row of x takes. */
const XS = [-2, -0, 0, 3, NaN, Infinity, -Infinity, -0.5, 1e-3];
/** One slope per channel: ordinary, negative, above 1, infinite. */
const SLOPES = [0.25, -1.5, 2, Infinity];
const C = SLOPES.length;

const xData = (channels: number, perChannel = XS.length) => Float32Array.from({ length: channels * perChannel }, (_, i) => XS[i % XS.length]!);

async function runY(m: ModelProto, feeds: Record<string, ort.Tensor>): Promise<Float32Array | Float64Array> {
  const s = await session(writeModel(m));
  try {
    return (await s.run(feeds)).y!.data as Float32Array | Float64Array;
  } finally {
    await s.release();
  }
}

/** The channel of element i, for an x of shape [1, C, ...rest] with `inner` elements per channel. */
const channelOf = (i: number, inner: number) => Math.floor(i / inner);

type Deviation = { x: number; slope: number; want: number; got: number };

/** Elements where `got` is not bit-for-bit `want` (NaN equals NaN; +0 and −0 differ). */
function deviations(got: ArrayLike<number>, want: ArrayLike<number>, xs: ArrayLike<number>, slopeOf: (i: number) => number): Deviation[] {
  const out: Deviation[] = [];
  for (let i = 0; i < want.length; i++) {
    const same = Object.is(got[i], want[i]) || (Number.isNaN(got[i]!) && Number.isNaN(want[i]!));
    if (!same) out.push({ x: xs[i]!, slope: slopeOf(i), want: want[i]!, got: got[i]! });
  }
  return out;
}

const prelu = (x: number, s: number) => (x < 0 ? s * x : x);

const scratch = scratchDir('unit-rewrites');
/** Rewritten models, checked by onnx.checker at the end of this file. */
const kept = new Map<string, ModelProto>();
const keep = (name: string, m: ModelProto) => kept.set(name, m);

describe('each form computes PRelu, checked against ONNX Runtime', () => {
  // y = PRelu(x, slope[C,1]) on x [1,C,9]: every x value meets every slope.
  const m = preluModel({ xShape: [1, C, XS.length], slopeShape: [C, 1], slope: SLOPES, nodeName: 'p' });
  const x = xData(C);
  const feeds = () => ({ x: new ort.Tensor('float32', x, [1, C, XS.length]) });
  const slopeOf = (i: number) => SLOPES[channelOf(i, XS.length)]!;

  it('the oracle itself: ORT PRelu agrees with x < 0 ? slope·x : x (float32), bit for bit', async () => {
    const want = await runY(m, feeds());
    const js = Array.from(x, (v, i) => Math.fround(prelu(v, slopeOf(i))));
    expect(deviations(want, js, x, slopeOf)).toEqual([]);
  });

  it('where: exact, including −0.0, NaN, ±inf and an infinite slope', async () => {
    const out = applyRewrites(m, [{ nodeId: '0', form: 'where' }], NO_PRELU).model;
    keep('where', out);
    expect(allNodes(out).map((n) => n.opType)).toEqual(['Less', 'Mul', 'Where']);
    expect(deviations(await runY(out, feeds()), await runY(m, feeds()), x, slopeOf)).toEqual([]);
    expect(findForm('where')!.caveat).toBe('');
  });

  // max-min and relu-neg are not exact: assert that they agree everywhere except where their
  // documented caveats say they may not, and that those caveats are in the form's own text.
  // What ORT 1.30 actually does on these inputs (recorded here, not required):
  //   max-min:  x = −0.0 → +0 for every finite slope (PRelu keeps −0);
  //             slope = +inf with x ∈ {−0, 0, 3, +inf, 1e-3} → NaN (inf·0).
  //   relu-neg: x = −0.0 → +0 when the slope is negative (−0 − (−1.5·0) = +0), kept otherwise;
  //             slope = +inf with x ∈ {−0, 0, 3, +inf, 1e-3} → NaN (inf·0).
  //   Both keep NaN inputs as NaN in ORT (its Relu, Max and Min propagate NaN).
  for (const form of ['max-min', 'relu-neg'] as const) {
    it(`${form}: equal except where its caveat says (inf·0 → NaN, the sign of zero)`, async () => {
      const out = applyRewrites(m, [{ nodeId: '0', form }], NO_PRELU).model;
      keep(form, out);
      const devs = deviations(await runY(out, feeds()), await runY(m, feeds()), x, slopeOf);
      const infTimesZero = (d: Deviation) => !Number.isFinite(d.slope) && !(d.x < 0) && Number.isNaN(d.got);
      const zeroSign = (d: Deviation) => d.want === 0 && d.got === 0; // +0 vs −0
      expect(devs.filter((d) => !infTimesZero(d) && !zeroSign(d))).toEqual([]);
      // On finite slopes and non-zero x the form is exact.
      expect(devs.filter((d) => Number.isFinite(d.slope) && d.x !== 0)).toEqual([]);
      const caveat = findForm(form)!.caveat;
      if (devs.some(infTimesZero)) expect(caveat).toMatch(/infinite slope.*NaN/);
      if (devs.some(zeroSign)) expect(caveat).toMatch(/−0\.0/);
    });
  }

  it('leaky (single-value slope): exact against PRelu for slopes 0.25, −1.5 and 2', async () => {
    for (const s of [0.25, -1.5, 2]) {
      const one = preluModel({ xShape: [1, 2, XS.length], slopeShape: [1], slope: [s] });
      const out = applyRewrites(one, [{ nodeId: '0', form: 'leaky' }], NO_PRELU).model;
      expect(allNodes(out).map((n) => n.opType)).toEqual(['LeakyRelu']);
      const f = () => ({ x: new ort.Tensor('float32', xData(2), [1, 2, XS.length]) });
      expect(deviations(await runY(out, f()), await runY(one, f()), xData(2), () => s)).toEqual([]);
    }
  });

  it('where, with slope 0: ORT\'s Where kernel drops the sign of −0 on its true branch', async () => {
    // PRelu(−2, 0) = 0·(−2) = −0. The Where form computes Mul(0, −2) = −0 and selects it, but ONNX
    // Runtime 1.30's Where returns +0 for a −0 taken from its first data input. That is the
    // runtime, not the form: ORT's own Mul gives −0, and Where alone shows the loss (below).
    const zero = preluModel({ xShape: [1, 1, XS.length], slopeShape: [1], slope: [0] });
    const out = applyRewrites(zero, [{ nodeId: '0', form: 'where' }], NO_PRELU).model;
    const f = () => ({ x: new ort.Tensor('float32', xData(1), [1, 1, XS.length]) });
    const devs = deviations(await runY(out, f()), await runY(zero, f()), xData(1), () => 0);
    expect(devs.every((d) => d.x < 0 && Number.isFinite(d.x) && Object.is(d.want, -0) && Object.is(d.got, 0))).toBe(true);

    const where = model(
      graph({
        nodes: [node('Where', ['c', 'a', 'b'], ['y'])],
        inputs: [valueInfo('c', DT.BOOL, [2]), valueInfo('a', DT.FLOAT, [2]), valueInfo('b', DT.FLOAT, [2])],
        outputs: [valueInfo('y', DT.FLOAT, [2])],
      }),
      16,
    );
    const y = await runY(where, {
      c: new ort.Tensor('bool', Uint8Array.from([1, 0]), [2]),
      a: new ort.Tensor('float32', Float32Array.from([-0, 5]), [2]),
      b: new ort.Tensor('float32', Float32Array.from([5, -0]), [2]),
    });
    if (devs.length) expect(Object.is(y[0], 0), 'ORT Where turns a selected −0 into +0').toBe(true);
    expect(Object.is(y[1], -0), 'from the second data input −0 survives').toBe(true);
  });
});

describe('a per-channel slope that ONNX-7 broadcasting would misread', () => {
  // The intended function: PRelu with the slope as [C,1] (per channel), run by ORT at opset 16.
  const want = () => runY(preluModel({ xShape: [1, C, XS.length], slopeShape: [C, 1], slope: SLOPES }), { x: new ort.Tensor('float32', xData(C), [1, C, XS.length]) });
  const feeds = () => ({ x: new ort.Tensor('float32', xData(C), [1, C, XS.length]) });
  const slopeOf = (i: number) => SLOPES[channelOf(i, XS.length)]!;

  it('opset 6, [C] slope → reshape-slope for onnxruntime: PRelu at opset 7 with a [C,1] slope, exact', async () => {
    const legacy = preluModel({ xShape: [1, C, XS.length], slopeShape: [C], slope: SLOPES, opset: 6 });
    const r = applyRewrites(legacy, [{ nodeId: '0', form: 'reshape-slope' }], ORT);
    keep('legacy-reshape-slope', r.model);
    expect(r.model.opsetImport[0]!.version).toBe(7n);
    const slope = allTensors(r.model).find((t) => t.dims.length === 2);
    expect(slope?.dims).toEqual([BigInt(C), 1n]);
    expect(checkModel(r.model, ORT)).toEqual([]);
    expect(deviations(await runY(r.model, feeds()), await want(), xData(C), slopeOf)).toEqual([]);
  });

  for (const form of ['where', 'max-min', 'relu-neg'] as const) {
    it(`opset 6, [C] slope → ${form} for no-prelu keeps the per-channel meaning`, async () => {
      const legacy = preluModel({ xShape: [1, C, XS.length], slopeShape: [C], slope: SLOPES, opset: 6 });
      const out = applyRewrites(legacy, [{ nodeId: '0', form }], NO_PRELU).model;
      keep(`legacy-${form}`, out);
      const devs = deviations(await runY(out, feeds()), await want(), xData(C), slopeOf);
      if (form === 'where') expect(devs).toEqual([]);
      else expect(devs.filter((d) => Number.isFinite(d.slope) && d.x !== 0)).toEqual([]);
    });
  }

  it('opset 16, [16] slope on [1,16,2,3] (the exporter bug) → reshape-slope [16,1,1], exact', async () => {
    const slopes = Array.from({ length: 16 }, (_, i) => (i % 2 ? -0.5 : 0.25) * (i + 1));
    const bug = preluModel({ xShape: [1, 16, 2, 3], slopeShape: [16], slope: slopes });
    const fixed = preluModel({ xShape: [1, 16, 2, 3], slopeShape: [16, 1, 1], slope: slopes });
    const r = applyRewrites(bug, [{ nodeId: '0', form: 'reshape-slope' }], ORT);
    expect(checkModel(r.model, ORT)).toEqual([]);
    const x = Float32Array.from({ length: 96 }, (_, i) => XS[i % XS.length]!);
    const f = () => ({ x: new ort.Tensor('float32', x, [1, 16, 2, 3]) });
    expect(deviations(await runY(r.model, f()), await runY(fixed, f()), x, (i) => slopes[channelOf(i, 6)]!)).toEqual([]);
  });

  it('reshape-slope refuses a slope that already broadcasts (never "fix" a valid model)', () => {
    const valid = preluModel({ xShape: [1, 16, 48, 16], slopeShape: [16], slope: Array(16).fill(0.1) });
    expect(() => applyRewrites(valid, [{ nodeId: '0', form: 'reshape-slope' }], ORT)).toThrow(/already has a shape that broadcasts/);
  });
});

describe('a slope that does not broadcast to x is refused, not hidden (failure case 14)', () => {
  // PRelu-7+ needs the slope to broadcast one way; Mul and Where broadcast both ways, so a rewrite
  // would turn the invalid node into a valid-looking one with another output shape ([3,1,1] on
  // [2,3] gives [3,2,3]). ORT 1.30's own PRelu is lenient there; the checker reports the original.
  for (const [xShape, slopeShape] of [[[2, 3], [3, 1, 1]], [[1, 3, 4], [2, 1]]]) {
    const m = preluModel({ xShape, slopeShape, slope: Array<number>(slopeShape.reduce((a, b) => a * b, 1)).fill(0.5) });
    it(`${JSON.stringify(slopeShape)} on ${JSON.stringify(xShape)}`, () => {
      const before = writeModel(m);
      expect(checkModel(m, ORT)).toMatchObject([{ status: 'constraint' }]);
      for (const form of ['where', 'max-min', 'relu-neg'] as const) {
        expect(() => applyRewrites(m, [{ nodeId: '0', form }], NO_PRELU), form).toThrow(/does not broadcast to the input .* invalid as it stands/);
      }
      expect(formsFor(m, '0', ORT).filter((o) => o.available)).toEqual([]);
      for (const target of [ORT, NO_PRELU]) {
        const fix = fixAll(m, target);
        expect(fix.model).toBe(m);
        expect(fix.unfixed).toHaveLength(1);
        expect(fix.unfixed[0]!.why).toContain(`the slope [${slopeShape.join(',')}] does not broadcast to the input [${xShape.join(',')}]`);
      }
      expect(Buffer.from(writeModel(m)).equals(Buffer.from(before))).toBe(true);
    });
  }
});

describe('names', () => {
  // Existing names that the builder's own scheme ("<node name>/<hint>") would pick first.
  const m = (() => {
    const base = preluModel({ xShape: [1, C, 2], slopeShape: [C, 1], slope: SLOPES, nodeName: 'p' });
    const g = base.graph!;
    g.node.unshift(node('Identity', ['x'], ['p/zero'], { name: 'p/Less' }), node('Identity', ['p/zero'], ['p/less'], { name: 'p/Mul' }));
    g.node[2]!.input[0] = 'p/less';
    return base;
  })();

  for (const form of ['where', 'max-min', 'relu-neg'] as const) {
    it(`${form}: new node and tensor names are unique in the model, and the output keeps its name`, () => {
      const before = new Set([...allNodes(m).flatMap((n) => [n.name, ...n.input, ...n.output]), ...allTensors(m).map((t) => t.name)]);
      const out = applyRewrites(m, [{ nodeId: '2', form }], NO_PRELU).model;
      const nodes = allNodes(out);
      const names = nodes.map((n) => n.name);
      expect(new Set(names).size).toBe(names.length);
      const produced = [...nodes.flatMap((n) => n.output), ...out.graph!.initializer.map((t) => t.name)];
      expect(new Set(produced).size, 'every tensor has one producer').toBe(produced.length);
      const fresh = [...names, ...produced].filter((n) => !before.has(n));
      expect(fresh.length).toBeGreaterThan(0);
      for (const n of fresh) expect(n.startsWith('p/'), n).toBe(true);
      // The rewritten node's output is still y, still the graph output, produced by the last new node.
      expect(out.graph!.output.map((o) => o.name)).toEqual(['y']);
      expect(nodes.filter((n) => n.output.includes('y'))).toHaveLength(1);
      expect(nodes.at(-1)!.output).toEqual(['y']);
      // The two Identity nodes are untouched.
      expect(nodes.slice(0, 2).map((n) => n.name)).toEqual(['p/Less', 'p/Mul']);
    });
  }
});

describe('constants take the slope dtype', () => {
  const forms: FormId[] = ['where', 'max-min', 'relu-neg'];
  for (const [label, dtype] of [['float16', DT.FLOAT16], ['double', DT.DOUBLE]] as const) {
    for (const opset of [16, 7]) {
      it(`${label}, opset ${opset}: no float32 tensor appears, for each form`, () => {
        const m = preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [0.25, -1.5, 2], dtype, opset });
        for (const form of forms) {
          const out = applyRewrites(m, [{ nodeId: '0', form }], NO_PRELU).model;
          const tensors = allTensors(out);
          expect(tensors.filter((t) => t.dataType !== dtype), form).toEqual([]);
          if (form !== 'relu-neg') expect(tensors.some((t) => t.dims.length === 0 && readTensorValues(t)![0] === 0), `${form} has a typed zero`).toBe(true);
          if (out.irVersion < 4n) {
            // IR 3: every initializer must also be a graph input, so new constants are Constant nodes.
            const inputs = new Set(out.graph!.input.map((i) => i.name));
            expect(out.graph!.initializer.filter((t) => !inputs.has(t.name)), form).toEqual([]);
            if (form !== 'relu-neg') expect(allNodes(out).some((n) => n.opType === 'Constant'), `${form}: its zero is a Constant node`).toBe(true);
          }
          keep(`${label}-opset${opset}-${form}`, out);
        }
        const one = preluModel({ xShape: [1, 3, 4], slopeShape: [1], slope: [0.25], dtype, opset });
        expect(allTensors(applyRewrites(one, [{ nodeId: '0', form: 'leaky' }], NO_PRELU).model).filter((t) => t.dataType !== dtype)).toEqual([]);
      });
    }
  }

  it('double: the where form runs in ORT and matches x < 0 ? slope·x : x in float64', async () => {
    const slopes = [0.1, -1.5, Infinity];
    const m = preluModel({ xShape: [1, 3, XS.length], slopeShape: [3, 1], slope: slopes, dtype: DT.DOUBLE });
    const out = applyRewrites(m, [{ nodeId: '0', form: 'where' }], NO_PRELU).model;
    const x = Float64Array.from({ length: 3 * XS.length }, (_, i) => XS[i % XS.length]!);
    const got = await runY(out, { x: new ort.Tensor('float64', x, [1, 3, XS.length]) });
    const slopeOf = (i: number) => slopes[channelOf(i, XS.length)]!;
    expect(deviations(got, Array.from(x, (v, i) => prelu(v, slopeOf(i))), x, slopeOf)).toEqual([]);
  });
});

describe('raising the opset', () => {
  /** opset 6: x → Add(x, b) → PRelu(·, slope) → y. Add-7 changed broadcasting, so 6 → 9 is unsafe. */
  const withAdd = (slope: number[]) => {
    const g = graph({
      nodes: [node('Add', ['x', 'b'], ['h'], { name: 'add' }), node('PRelu', ['h', 'slope'], ['y'], { name: 'p' })],
      inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4]), valueInfo('b', DT.FLOAT, [1, 3, 4]), valueInfo('slope', DT.FLOAT, [slope.length])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])],
      initializers: [makeTensor('slope', DT.FLOAT, [slope.length], slope)],
    });
    return model(g, 6, 3);
  };

  it('is refused when another op would change meaning, naming the op', () => {
    const m = withAdd([0.1, 0.2, 0.3]);
    for (const form of ['where', 'max-min', 'relu-neg'] as const) {
      let err: unknown;
      try {
        applyRewrites(m, [{ nodeId: '1', form }], NO_PRELU);
      } catch (e) {
        err = e;
      }
      expect(err, form).toBeInstanceOf(RewriteRefused);
      expect((err as Error).message).toMatch(/needs opset ≥ [789]; the model is opset 6, and raising it would change/);
      expect((err as Error).message).toMatch(/Add \(new version at opset 7\)/);
    }
    const fix = fixAll(m, NO_PRELU);
    expect(fix.model).toBe(m);
    expect(fix.unfixed).toMatchObject([{ nodeId: '1', node: 'p' }]);
    expect(formsFor(m, '1', NO_PRELU).filter((o) => o.available)).toEqual([]);
  });

  it('is not needed for a single-value slope: LeakyRelu exists at opset 6, the Add is untouched', () => {
    const m = withAdd([0.1]);
    const fix = fixAll(m, NO_PRELU);
    expect(fix.picks).toEqual([{ nodeId: '1', form: 'leaky' }]);
    expect(fix.model.opsetImport[0]!.version).toBe(6n);
    expect(allNodes(fix.model).map((n) => n.opType)).toEqual(['Add', 'LeakyRelu']);
  });

  it('is allowed when PRelu is the only node, and says so', () => {
    const m = preluModel({ xShape: [1, 3, 4], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 6 });
    const r = applyRewrites(m, [{ nodeId: '0', form: 'where' }], NO_PRELU);
    expect(r.model.opsetImport[0]!.version).toBe(9n);
    expect(r.model.irVersion).toBe(4n);
    expect(r.notes[0]).toMatch(/Raised the model from opset 6 to 9/);
  });
});

describe('undo: a rewrite never changes the model it was given', () => {
  const cases: [string, () => ModelProto, Pick[], typeof NO_PRELU][] = [
    ['where, main graph', () => preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [1, 2, 3] }), [{ nodeId: '0', form: 'where' }], NO_PRELU],
    ['reshape-slope with opset raise', () => preluModel({ xShape: [1, 3, 4], slopeShape: [3], slope: [1, 2, 3], opset: 6 }), [{ nodeId: '0', form: 'reshape-slope' }], ORT],
    ['relu-neg on an IR 3 model (Constant nodes)', () => preluModel({ xShape: [1, 3, 4], slopeShape: [3, 1], slope: [1, 2, 3], opset: 8 }), [{ nodeId: '0', form: 'relu-neg' }], NO_PRELU],
    ['where inside an If branch', () => ifModel(), [{ nodeId: '0.then_branch/0', form: 'where' }], NO_PRELU],
  ];
  for (const [label, make, picks, target] of cases) {
    it(label, () => {
      const m = make();
      const before = writeModel(m);
      const r = applyRewrites(m, picks, target);
      expect(r.model).not.toBe(m);
      expect(Buffer.from(writeModel(m)).equals(Buffer.from(before))).toBe(true);
      expect(Buffer.from(writeModel(r.model)).equals(Buffer.from(before))).toBe(false);
    });
  }
});

/** y = If(cond) then PRelu(x, slope) else Identity(x); the slope is an outer-scope initializer. */
function ifModel(): ModelProto {
  const then = graph({ name: 'then', nodes: [node('PRelu', ['x', 'slope'], ['t_out'], { name: 'inner_prelu' })], outputs: [valueInfo('t_out', DT.FLOAT, [1, C, XS.length])] });
  const otherwise = graph({ name: 'else', nodes: [node('Identity', ['x'], ['e_out'])], outputs: [valueInfo('e_out', DT.FLOAT, [1, C, XS.length])] });
  return model(
    graph({
      nodes: [node('If', ['cond'], ['y'], { name: 'branch', attribute: [graphAttr('then_branch', then), graphAttr('else_branch', otherwise)] })],
      inputs: [valueInfo('cond', DT.BOOL, []), valueInfo('x', DT.FLOAT, [1, C, XS.length])],
      outputs: [valueInfo('y', DT.FLOAT, [1, C, XS.length])],
      initializers: [makeTensor('slope', DT.FLOAT, [C, 1], SLOPES)],
    }),
    16,
  );
}

describe('PRelu inside an If branch', () => {
  it('is found by the checker with its subgraph nodeId', () => {
    const f = checkModel(ifModel(), NO_PRELU);
    expect(f).toMatchObject([{ nodeId: '0.then_branch/0', node: 'inner_prelu', op: 'PRelu', status: 'unsupported', path: [{ node: 0, attr: 'then_branch' }], index: 0 }]);
    expect(checkModel(ifModel(), ORT)).toEqual([]);
  });

  it('is rewritten by applyRewrites (and fixAll), and computes the same in both branches', async () => {
    const m = ifModel();
    const out = applyRewrites(m, [{ nodeId: '0.then_branch/0', form: 'where' }], NO_PRELU).model;
    keep('if-branch-where', out);
    expect(allNodes(out).map((n) => n.opType)).not.toContain('PRelu');
    expect(checkModel(out, NO_PRELU)).toEqual([]);
    const then = out.graph!.node[0]!.attribute.find((a) => a.name === 'then_branch')!.g!;
    expect(then.node.map((n) => n.opType)).toEqual(['Less', 'Mul', 'Where']);
    expect(then.output.map((o) => o.name)).toEqual(['t_out']);
    expect(then.node.at(-1)!.output).toEqual(['t_out']);

    const fixed = fixAll(m, NO_PRELU);
    expect(fixed.picks).toEqual([{ nodeId: '0.then_branch/0', form: 'where' }]);
    expect(Buffer.from(writeModel(fixed.model)).equals(Buffer.from(writeModel(out)))).toBe(true);

    const slopeOf = (i: number) => SLOPES[channelOf(i, XS.length)]!;
    for (const cond of [1, 0]) {
      const feeds = () => ({ cond: new ort.Tensor('bool', Uint8Array.from([cond]), []), x: new ort.Tensor('float32', xData(C), [1, C, XS.length]) });
      expect(deviations(await runY(out, feeds()), await runY(m, feeds()), xData(C), slopeOf), `cond=${cond}`).toEqual([]);
    }
  });
});

describe('PRelu in the main graph and in a branch, each with its own legacy slope', () => {
  /**
   * h = PRelu(x, s_main); y = If(cond) then PRelu(h, s_branch) else h. s_branch is an initializer of
   * the branch itself. Legacy (opset 6) slopes are [3], per channel; `modern` builds the same
   * function at opset 16 with [3,1] slopes, for ORT to evaluate.
   */
  const nested = (modern: boolean) => {
    const shape = modern ? [3, 1] : [3];
    const then = graph({
      name: 'then',
      nodes: [node('PRelu', ['h', 's_branch'], ['t_out'], { name: 'bp' })],
      outputs: [valueInfo('t_out', DT.FLOAT, [1, 3, 4])],
      initializers: [makeTensor('s_branch', DT.FLOAT, shape, [0.1, -2, 3])],
    });
    const otherwise = graph({ name: 'else', nodes: [node('Identity', ['h'], ['e_out'])], outputs: [valueInfo('e_out', DT.FLOAT, [1, 3, 4])] });
    return model(
      graph({
        nodes: [
          node('PRelu', ['x', 's_main'], ['h'], { name: 'mp' }),
          node('If', ['cond'], ['y'], { name: 'if', attribute: [graphAttr('then_branch', then), graphAttr('else_branch', otherwise)] }),
        ],
        inputs: [valueInfo('cond', DT.BOOL, []), valueInfo('x', DT.FLOAT, [1, 3, 4])],
        outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])],
        valueInfo: [valueInfo('h', DT.FLOAT, [1, 3, 4])],
        initializers: [makeTensor('s_main', DT.FLOAT, shape, [0.5, -0.25, 4])],
      }),
      modern ? 16 : 6,
      modern ? 8 : 4,
    );
  };

  it('both are rewritten, the old slopes are dropped from their own graphs, and the function is kept', async () => {
    const m = nested(false);
    expect(checkModel(m, NO_PRELU).map((f) => f.nodeId)).toEqual(['0', '1.then_branch/0']);
    const fix = fixAll(m, NO_PRELU);
    expect(fix.unfixed).toEqual([]);
    const out = fix.model;
    keep('nested-legacy', out);
    expect(allNodes(out).map((n) => n.opType)).not.toContain('PRelu');
    // Each graph keeps only what it uses: no [3] slope is left behind, in the branch or outside.
    const names = allTensors(out).map((t) => `${t.name}:[${t.dims.join(',')}]`);
    expect(names.filter((n) => n.startsWith('s_'))).toEqual([]);
    expect(names.filter((n) => n.endsWith(':[3]'))).toEqual([]);

    const x = Float32Array.from({ length: 12 }, (_, i) => XS[i % XS.length]!);
    for (const cond of [1, 0]) {
      const feeds = () => ({ cond: new ort.Tensor('bool', Uint8Array.from([cond]), []), x: new ort.Tensor('float32', x, [1, 3, 4]) });
      const got = await runY(out, feeds());
      const want = await runY(nested(true), feeds());
      expect(deviations(got, want, x, () => NaN), `cond=${cond}`).toEqual([]);
    }
  });
});

it('every rewritten model above passes onnx.checker.check_model (python3-onnx)', () => {
  expect(kept.size).toBeGreaterThanOrEqual(15);
  const dir = scratch;
  const files = [...kept].map(([name, m]) => {
    const f = join(dir, `${name}.onnx`);
    writeFileSync(f, writeModel(m));
    return f;
  });
  const result = checkModels(files);
  expect(Object.entries(result).filter(([, err]) => err !== null)).toEqual([]);
});
