// The local check: each rewritten PRelu's replacement nodes, extracted from the converted model,
// against the original node alone — run by ONNX Runtime (onnxruntime-node here, onnxruntime-web in
// the app). Where ONNX Runtime cannot run the original node, the reference is PRelu's definition
// with the slope read as intended; that reference is itself checked against ONNX's backend tests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import type { ModelProto } from 'onnx-buf';
import { readModel } from '../../src/onnx/model';
import { DT } from '../../src/onnx/dtypes';
import { allGraphs } from '../../src/graph/scope';
import { replaceGraphAt, shallowCopy } from '../../src/graph/edit';
import { preluFacts } from '../../src/graph/prelu';
import { Builder } from '../../src/rewrites/builder';
import { applyRewrites } from '../../src/rewrites/engine';
import { fixAll } from '../../src/rewrites/choose';
import { findTarget } from '../../src/targets/registry';
import { buildLocalPairs, findRewrittenNodes, isPair, referencePrelu, runLocalCheck, type LocalResult } from '../../src/verify/local';
import { mmdnnWrong } from '../../src/verify/teaching';
import type { OrtLike } from '../../src/verify/types';
import { SHARED, backendTest } from '../helpers/paths';
import { readDataSet } from '../helpers/ort';
import { graph, graphAttr, makeTensor, model, node, preluModel, valueInfo } from '../helpers/build';

ort.env.logLevel = 'error';
const ORT = ort as unknown as OrtLike;
const NO_PRELU = findTarget('no-prelu')!;
const load = (p: string) => readModel(new Uint8Array(readFileSync(p)));
const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');

async function checkAll(original: ModelProto, converted: ModelProto, tolerance = 0): Promise<LocalResult[]> {
  const out: LocalResult[] = [];
  for (const p of buildLocalPairs(original, converted)) out.push(await runLocalCheck(ORT, p, { seed: 3, tolerance }));
  return out;
}

describe('local check on minifasnet (33 PRelu, opset 9, slopes [C,1,1])', () => {
  const original = load(MINIFASNET);

  it('finds every rewritten node and the nodes that replaced it', () => {
    const converted = fixAll(original, NO_PRELU).model;
    const nodes = findRewrittenNodes(original, converted);
    expect(nodes).toHaveLength(33);
    expect(nodes.every((n) => n.status === 'rewritten')).toBe(true);
    expect(nodes[0]!.ops).toEqual(['Less', 'Mul', 'Where']);
  });

  it('proves the Where form exact on every node, on edge values, against the original node in ONNX Runtime', async () => {
    const results = await checkAll(original, fixAll(original, NO_PRELU).model);
    expect(results).toHaveLength(33);
    for (const r of results) {
      expect(r.status, `${r.name}: ${r.note}`).toBe('pass');
      expect(r.against).toBe('original-node');
      expect(r.comparison).toMatchObject({ maxAbs: 0, maxRel: 0, nanMismatch: 0, outside: 0 });
      expect(r.comparison!.nanBoth).toBeGreaterThan(0); // the edge values reached the node
    }
    // Where is exact by ONNX's definition, but ONNX Runtime's CPU Where kernel returns +0.0 for a
    // −0.0 it selects from X (microsoft/onnxruntime#32191): slope·x underflowing to −0.0 for the
    // smallest negative subnormal x. The check counts that, within any tolerance, and says so.
    expect(results.some((r) => r.comparison!.signedZero > 0)).toBe(true);
    expect(results.find((r) => r.comparison!.signedZero > 0)!.note).toContain('onnxruntime#32191');
    expect(results[0]!.inputs[0]!.source).toContain('seed 3');
  });

  it('counts −0.0 turned into +0.0 by the Max/Min form, within tolerance', async () => {
    const picks = findRewrittenNodes(original, fixAll(original, NO_PRELU).model).slice(0, 3).map((n) => ({ nodeId: n.nodeId, form: 'max-min' as const }));
    const converted = applyRewrites(original, picks, NO_PRELU).model;
    const results = (await checkAll(original, converted, 1e-6)).filter((r) => r.status !== 'skipped');
    expect(results).toHaveLength(3);
    for (const r of results) {
      expect(r.status).toBe('pass');
      expect(r.comparison!.signedZero).toBeGreaterThan(0);
    }
  });

  it('skips nodes the conversion left alone, saying so', async () => {
    const results = await checkAll(original, original);
    expect(results.every((r) => r.status === 'skipped' && r.note.startsWith('not rewritten'))).toBe(true);
  });
});

describe('local check when ONNX Runtime cannot run the original node', () => {
  it('a [C] slope on NCHW under opset 9: compared with the per-channel meaning, and says so', async () => {
    const original = preluModel({ xShape: [1, 3, 2, 4], slopeShape: [3], slope: [0.1, -0.5, 2], opset: 9 });
    const converted = fixAll(original, NO_PRELU).model;
    const [r] = await checkAll(original, converted);
    expect(r!.status).toBe('pass');
    expect(r!.against).toBe('intended-meaning');
    expect(r!.originalError).toMatch(/broadcast/i);
    expect(r!.note).toContain('ONNX Runtime cannot run the original node');
    expect(r!.note).toContain('[3,1,1]');
  });

  it('the opset-6 backend tests (per-channel [C] slopes, no ONNX Runtime kernel): rewritten nodes match the intended meaning', async () => {
    for (const name of ['test_PReLU_1d_multiparam', 'test_PReLU_2d_multiparam', 'test_PReLU_3d_multiparam', 'test_PReLU_2d']) {
      const original = load(join(backendTest(name), 'model.onnx'));
      const results = await checkAll(original, fixAll(original, NO_PRELU).model);
      expect(results).toHaveLength(1);
      expect(results[0]!.status, `${name}: ${results[0]!.note}`).toBe('pass');
      expect(results[0]!.against).toBe('intended-meaning');
    }
  });

  it('the reference itself reproduces the expected outputs of ONNX\'s backend tests (legacy per-channel slopes)', () => {
    for (const name of ['test_PReLU_1d_multiparam', 'test_PReLU_2d_multiparam', 'test_PReLU_3d_multiparam']) {
      const m = load(join(backendTest(name), 'model.onnx'));
      const scope = allGraphs(m)[0]!;
      const f = preluFacts(m, scope, 0);
      const slope = f.slopeValues!;
      const { inputs, outputs } = readDataSet(join(backendTest(name), 'test_data_set_0'));
      const x = inputs[0]!;
      const c = slope.length;
      const dims = [c, ...Array<number>(x.dims.length - 2).fill(1)];
      const y = referencePrelu({ dtype: DT.FLOAT, dims: x.dims, data: Float32Array.from(x.values) }, { dims, values: slope });
      Array.from(y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(outputs[0]!.values[i]!, 6));
    }
  });

  it('the reference on hand-worked values: NaN, ±inf and −0.0 pass through as PRelu says', () => {
    const x = { dtype: DT.FLOAT, dims: [2, 3], data: Float32Array.of(-2, NaN, -0, Infinity, -Infinity, 4) };
    const y = referencePrelu(x, { dims: [3], values: [0.25, -1.5, 3] }).data as Float32Array;
    // slope per last axis: [0.25, −1.5, 3, 0.25, −1.5, 3]
    expect(Array.from(y)).toEqual([-0.5, NaN, -0, Infinity, Infinity, 4]);
    expect(Object.is(y[2], -0)).toBe(true);
  });
});

describe('local check on slopes from elsewhere and nodes in subgraphs', () => {
  it('a slope that is a graph input (test_prelu_example) is fed the same random values on both sides', async () => {
    const original = load(join(backendTest('test_prelu_example'), 'model.onnx'));
    const pairs = buildLocalPairs(original, fixAll(original, NO_PRELU).model);
    expect(isPair(pairs[0]!) && pairs[0]!.feeds.map((f) => f.role)).toEqual(['x', 'slope']);
    const r = await runLocalCheck(ORT, pairs[0]!, { seed: 1, tolerance: 0 });
    expect(r.status).toBe('pass');
    expect(r.against).toBe('original-node');
  });

  it('a PRelu inside an If branch, its slope in the main graph', async () => {
    const branch = (name: string, op: string) => graph({
      name, nodes: op === 'PRelu' ? [node('PRelu', ['x', 'slope'], ['b_out'], { name: 'inner_prelu' })] : [node('Identity', ['x'], ['e_out'])],
      outputs: [valueInfo(op === 'PRelu' ? 'b_out' : 'e_out', DT.FLOAT, [1, 4, 3, 3])],
    });
    const original = model(graph({
      nodes: [node('If', ['cond'], ['y'], { name: 'if', attribute: [graphAttr('then_branch', branch('then', 'PRelu')), graphAttr('else_branch', branch('else', 'Identity'))] })],
      inputs: [valueInfo('cond', DT.BOOL, []), valueInfo('x', DT.FLOAT, [1, 4, 3, 3])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 4, 3, 3])],
      initializers: [makeTensor('slope', DT.FLOAT, [4, 1, 1], [0.1, 0.2, -0.3, 1.5])],
    }), 13);
    const converted = fixAll(original, NO_PRELU).model;
    const nodes = findRewrittenNodes(original, converted);
    expect(nodes).toEqual([expect.objectContaining({ nodeId: '0.then_branch/0', name: 'inner_prelu', status: 'rewritten', ops: ['Less', 'Mul', 'Where'] })]);
    const [r] = await checkAll(original, converted);
    expect(r!.status).toBe('pass');
    expect(r!.comparison!.count).toBe(36);
  });
});

describe('a wrong rewrite is caught, not passed', () => {
  it('the MMdnn "scale negatives, then ReLU" form in place of a PRelu fails with the error it makes', async () => {
    const original = preluModel({ xShape: [1, 4, 3, 3], slopeShape: [4, 1, 1], slope: [0.25, 0.1, 0.5, 0.2], opset: 13 });
    const scope = allGraphs(original)[0]!;
    const b = new Builder(new Set(['x', 'slope', 'y', 'prelu']), true, 'prelu');
    mmdnnWrong.emit(preluFacts(original, scope, 0), b);
    const converted = replaceGraphAt(original, [], (g) => shallowCopy(g, { node: b.nodes, initializer: [...g.initializer, ...b.initializers] }));
    const [r] = await checkAll(original, converted, 1e-3);
    expect(r!.status).toBe('fail');
    expect(r!.ops).toEqual(['Less', 'Where', 'Mul', 'Relu']);
    expect(r!.comparison!.maxAbs).toBeGreaterThan(0.1);
    expect(r!.comparison!.worst!.original).toBeLessThan(0); // where PRelu is negative, ReLU gives 0
    expect(r!.comparison!.worst!.converted).toBe(0);
  });
});
