// Fusion of decomposed PReLU patterns into one PRelu: each variant is recognised and the fused model
// computes what the pattern computed (ONNX Runtime, finite non-zero inputs, where every variant
// is exact); patterns that are not PRelu, or whose intermediates are needed elsewhere, are left
// alone with a reason.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { FunctionProtoSchema, OperatorSetIdProtoSchema, type ModelProto, type NodeProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { writeModel } from '../../src/onnx/model';
import { fuseAll } from '../../src/rewrites/fuse-all';
import { findTarget } from '../../src/targets/registry';
import { DT, allNodes, graph, graphAttr, makeTensor, model, node, tensorAttr, valueInfo } from '../helpers/build';
import { SESSION_OPTIONS } from '../helpers/ort';
import { checkModels } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';

const ORT = findTarget('onnxruntime')!;
const NO_PRELU = findTarget('no-prelu')!;
const scratch = scratchDir('unit-fusion');
const kept: [string, ModelProto][] = [];

const SLOPE = [0.25, -1.5, 2];
const XS = [-2, 3, -0.5, 7, -1e-3, 1e3, -7, 0.25];
const x = Float32Array.from({ length: 3 * XS.length }, (_, i) => XS[i % XS.length]!);
const feeds = () => ({ x: new ort.Tensor('float32', x, [1, 3, XS.length]) });
const want = Array.from(x, (v, i) => Math.fround(v < 0 ? Math.fround(SLOPE[Math.floor(i / XS.length)]! * v) : v));

async function run(m: ModelProto): Promise<number[]> {
  const s = await ort.InferenceSession.create(writeModel(m), SESSION_OPTIONS);
  try {
    return Array.from((await s.run(feeds())).y!.data as Float32Array);
  } finally {
    await s.release();
  }
}

/**
 * A model computing y from x [1,3,8] with the given nodes; constants: slope [3,1] (values SLOPE),
 * nslope (−SLOPE), zero [], minus1 [], alpha (scalar, for Max(αx, x)).
 */
function patternModel(nodes: NodeProto[], opts: { alpha?: number[]; extraOutputs?: string[]; opset?: number; slopeInput?: boolean } = {}): ModelProto {
  const inits = [
    makeTensor('nslope', DT.FLOAT, [3, 1], SLOPE.map((v) => -v)),
    makeTensor('zero', DT.FLOAT, [], [0]),
    makeTensor('minus1', DT.FLOAT, [], [-1]),
    makeTensor('alpha', DT.FLOAT, opts.alpha?.length === 3 ? [3, 1] : [], opts.alpha ?? [0.25]),
  ];
  if (!opts.slopeInput) inits.push(makeTensor('slope', DT.FLOAT, [3, 1], SLOPE));
  return model(
    graph({
      nodes,
      inputs: [valueInfo('x', DT.FLOAT, [1, 3, XS.length]), ...(opts.slopeInput ? [valueInfo('slope', DT.FLOAT, [3, 1])] : [])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 3, XS.length]), ...(opts.extraOutputs ?? []).map((o) => valueInfo(o, DT.FLOAT))],
      initializers: inits,
    }),
    opts.opset ?? 16,
  );
}

const n = (op: string, inputs: string[], out: string, name = '') => node(op, inputs, [out], { name });

const VARIANTS: [string, NodeProto[], string?][] = [
  ['Where(x < 0, slope·x, x)', [n('Less', ['x', 'zero'], 'c'), n('Mul', ['slope', 'x'], 'm'), n('Where', ['c', 'm', 'x'], 'y', 'p')]],
  ['Where(0 > x, x·slope, x)', [n('Greater', ['zero', 'x'], 'c'), n('Mul', ['x', 'slope'], 'm'), n('Where', ['c', 'm', 'x'], 'y')]],
  ['Where(x > 0, x, slope·x)', [n('Greater', ['x', 'zero'], 'c'), n('Mul', ['slope', 'x'], 'm'), n('Where', ['c', 'x', 'm'], 'y')]],
  ['Where(x ≥ 0, x, slope·x)', [n('GreaterOrEqual', ['x', 'zero'], 'c'), n('Mul', ['slope', 'x'], 'm'), n('Where', ['c', 'x', 'm'], 'y')]],
  ['Where(Less(x, CastLike(0, x)), …) (PRelu-16 body)', [n('CastLike', ['zero', 'x'], 'z'), n('Less', ['x', 'z'], 'c'), n('Mul', ['slope', 'x'], 'm'), n('Where', ['c', 'm', 'x'], 'y')]],
  ['Max(x,0) + slope·Min(x,0)', [n('Max', ['x', 'zero'], 'a'), n('Min', ['x', 'zero'], 'b'), n('Mul', ['slope', 'b'], 'm'), n('Add', ['a', 'm'], 'y')]],
  ['Min(0,x)·slope + Relu(x) (Vela)', [n('Min', ['zero', 'x'], 'b'), n('Mul', ['b', 'slope'], 'm'), n('Relu', ['x'], 'a'), n('Add', ['m', 'a'], 'y')]],
  ['Relu(x) − slope·Relu(−x) (Keras)', [n('Relu', ['x'], 'a'), n('Neg', ['x'], 'nx'), n('Relu', ['nx'], 'b'), n('Mul', ['slope', 'b'], 'm'), n('Sub', ['a', 'm'], 'y')]],
  ['Relu(x) + Relu(x·(−1))·(−α) (MTCNN)', [n('Relu', ['x'], 'a'), n('Mul', ['x', 'minus1'], 'nx'), n('Relu', ['nx'], 'b'), n('Mul', ['b', 'nslope'], 'm'), n('Add', ['a', 'm'], 'y')]],
  ['Relu(x) + Neg(slope)·Relu(−x)', [n('Relu', ['x'], 'a'), n('Neg', ['x'], 'nx'), n('Relu', ['nx'], 'b'), n('Neg', ['slope'], 'ns'), n('Mul', ['ns', 'b'], 'm'), n('Add', ['a', 'm'], 'y')]],
  ['Relu(x) − Neg(slope·Min(x,0))… as Sub(Relu, Neg(Mul))', [n('Relu', ['x'], 'a'), n('Min', ['x', 'zero'], 'b'), n('Mul', ['slope', 'b'], 'm'), n('Neg', ['m'], 'nm'), n('Sub', ['a', 'nm'], 'y')]],
];

describe('each variant fuses into one PRelu that computes the same', () => {
  for (const [label, nodes] of VARIANTS) {
    it(label, async () => {
      const m = patternModel(nodes.map((x) => x));
      expect(await run(m)).toEqual(want);
      const r = fuseAll(m, ORT);
      expect(r.skipped).toEqual([]);
      expect(r.fused).toHaveLength(1);
      const ops = allNodes(r.model).map((x) => x.opType);
      expect(ops).toEqual(['PRelu']);
      const p = allNodes(r.model)[0]!;
      expect(p.output).toEqual(['y']);
      expect(await run(r.model)).toEqual(want);
      // Only what is still used is kept.
      const used = new Set(allNodes(r.model).flatMap((x) => x.input));
      expect(r.model.graph!.initializer.filter((t) => !used.has(t.name)).map((t) => t.name).sort()).toEqual(
        ['alpha', 'minus1', 'nslope', 'slope', 'zero'].filter((t) => !used.has(t) && m.graph!.initializer.some((i) => i.name === t) && !nodes.some((x) => x.input.includes(t))).sort(),
      );
      kept.push([label.replace(/\W+/g, '-'), r.model]);
    });
  }

  it('the fused node keeps the pattern output node\'s name', () => {
    const r = fuseAll(patternModel(VARIANTS[0]![1]), ORT);
    expect(allNodes(r.model)[0]!.name).toBe('p');
  });

  it('a dynamic slope (graph input) entering negated gets a Neg node', async () => {
    const nodes = [n('Relu', ['x'], 'a'), n('Neg', ['x'], 'nx'), n('Relu', ['nx'], 'b'), n('Mul', ['b', 'slope'], 'm'), n('Add', ['a', 'm'], 'y')];
    const m = patternModel(nodes, { slopeInput: true });
    const r = fuseAll(m, ORT);
    expect(allNodes(r.model).map((x) => x.opType)).toEqual(['Neg', 'PRelu']);
    const s = await ort.InferenceSession.create(writeModel(r.model), SESSION_OPTIONS);
    const got = Array.from((await s.run({ ...feeds(), slope: new ort.Tensor('float32', Float32Array.from(SLOPE.map((v) => -v)), [3, 1]) })).y!.data as Float32Array);
    await s.release();
    expect(got).toEqual(want);
  });
});

describe("Vela's Max(α·x, x) is PRelu only when 0 ≤ α ≤ 1 (failure case 6)", () => {
  const nodes = () => [n('Mul', ['alpha', 'x'], 'ax'), n('Max', ['ax', 'x'], 'y')];
  for (const alpha of [[0], [0.25], [1], [0, 0.5, 1]]) {
    it(`α = ${JSON.stringify(alpha)}: fused, same numbers`, async () => {
      const m = patternModel(nodes(), { alpha });
      const r = fuseAll(m, ORT);
      expect(r.fused).toHaveLength(1);
      expect(await run(r.model)).toEqual(await run(m));
      const a = (i: number) => alpha[alpha.length === 3 ? Math.floor(i / XS.length) : 0]!;
      expect(await run(r.model)).toEqual(Array.from(x, (v, i) => Math.fround(v < 0 ? Math.fround(a(i) * v) : v)));
    });
  }
  for (const alpha of [[-0.25], [1.5], [3], [0.5, 1.5, 0]]) {
    it(`α = ${JSON.stringify(alpha)}: left alone, saying why`, () => {
      const r = fuseAll(patternModel(nodes(), { alpha }), ORT);
      expect(r.fused).toEqual([]);
      expect(r.skipped).toMatchObject([{ nodeId: '1', why: expect.stringMatching(/only when every α is in \[0, 1\]; α has .*values outside it/) }]);
    });
  }
});

describe('left alone', () => {
  const where = () => [n('Less', ['x', 'zero'], 'c'), n('Mul', ['slope', 'x'], 'm'), n('Where', ['c', 'm', 'x'], 'y')];
  it('an intermediate tensor that is a graph output', () => {
    const r = fuseAll(patternModel(where(), { extraOutputs: ['m'] }), ORT);
    expect(r.fused).toEqual([]);
    expect(r.skipped[0]!.why).toBe('the intermediate tensor "m" is a graph output, so the pattern\'s nodes must stay');
  });
  it('an intermediate tensor with another user', () => {
    const nodes = [...where(), n('Identity', ['c'], 'c2', 'other')];
    const m = patternModel(nodes, { extraOutputs: ['c2'] });
    const r = fuseAll(m, ORT);
    expect(r.fused).toEqual([]);
    expect(r.skipped[0]!.why).toBe('the intermediate tensor "c" is also used by node other, so the pattern\'s nodes must stay');
  });
  it('an intermediate used inside a subgraph', () => {
    const then = graph({ name: 'then', nodes: [n('Identity', ['m'], 't')], outputs: [valueInfo('t', DT.FLOAT)] });
    const other = graph({ name: 'else', nodes: [n('Identity', ['x'], 'e')], outputs: [valueInfo('e', DT.FLOAT)] });
    const m = patternModel([...where(), node('If', ['cond'], ['z'], { attribute: [graphAttr('then_branch', then), graphAttr('else_branch', other)] })], { extraOutputs: ['z'] });
    m.graph!.input.push(valueInfo('cond', DT.BOOL, []));
    expect(fuseAll(m, ORT).skipped[0]!.why).toMatch(/"m" is also used by a If node/);
  });
  it('a slope that broadcasts only both ways ([3,1,1] on x [3,8] widens the output)', () => {
    const m = model(
      graph({
        nodes: where(),
        inputs: [valueInfo('x', DT.FLOAT, [3, 8])],
        outputs: [valueInfo('y', DT.FLOAT, [3, 3, 8])],
        initializers: [makeTensor('slope', DT.FLOAT, [3, 1, 1], SLOPE), makeTensor('zero', DT.FLOAT, [], [0])],
      }),
      16,
    );
    expect(fuseAll(m, ORT).skipped[0]!.why).toMatch(/^the slope \[3,1,1\] does not broadcast to x \[3,8\] one way/);
  });
  it('a "slope" computed from x is not a slope', () => {
    const nodes = [n('Abs', ['x'], 'ax'), n('Less', ['x', 'zero'], 'c'), n('Mul', ['ax', 'x'], 'm'), n('Where', ['c', 'm', 'x'], 'y')];
    expect(fuseAll(patternModel(nodes), ORT).fused).toEqual([]);
  });
  it('a target without PRelu fuses nothing', () => {
    const r = fuseAll(patternModel(where()), NO_PRELU);
    expect(r.model.graph!.node.map((x) => x.opType)).toEqual(['Less', 'Mul', 'Where']);
    expect(r.notes[0]).toMatch(/has no PRelu/);
  });
  it('a fused PRelu the target would not run stays decomposed, with the reason', () => {
    // TensorRT 8 rejects integer PRelu.
    const m = model(
      graph({
        nodes: where(),
        inputs: [valueInfo('x', DT.INT32, [1, 3, 8])],
        outputs: [valueInfo('y', DT.INT32, [1, 3, 8])],
        initializers: [makeTensor('slope', DT.INT32, [3, 1], [1, 2, 3]), makeTensor('zero', DT.INT32, [], [0])],
      }),
      16,
    );
    const r = fuseAll(m, findTarget('tensorrt-8')!);
    expect(r.fused).toEqual([]);
    expect(r.skipped[0]!.why).toMatch(/^fused, it would be a PRelu TensorRT.* cannot run: /);
    expect(r.model).toBe(m);
  });
});

describe('scopes', () => {
  const where = () => [n('Less', ['xi', 'zero'], 'c'), n('Mul', ['slope', 'xi'], 'm'), n('Where', ['c', 'm', 'xi'], 'yo')];
  it('inside an If branch, with outer-scope constants', async () => {
    const then = graph({ name: 'then', nodes: [n('Identity', ['x'], 'xi'), ...where()], outputs: [valueInfo('yo', DT.FLOAT, [1, 3, XS.length])], valueInfo: [valueInfo('xi', DT.FLOAT, [1, 3, XS.length])] });
    const other = graph({ name: 'else', nodes: [n('Identity', ['x'], 'e')], outputs: [valueInfo('e', DT.FLOAT, [1, 3, XS.length])] });
    const m = patternModel([node('If', ['cond'], ['y'], { attribute: [graphAttr('then_branch', then), graphAttr('else_branch', other)] })]);
    m.graph!.input.push(valueInfo('cond', DT.BOOL, []));
    const r = fuseAll(m, ORT);
    expect(r.fused.map((f) => f.nodeId)).toEqual(['0.then_branch/3']);
    expect(allNodes(r.model).map((x) => x.opType)).toEqual(['If', 'Identity', 'PRelu', 'Identity']);
    kept.push(['if-branch', r.model]);
    const s = await ort.InferenceSession.create(writeModel(r.model), SESSION_OPTIONS);
    const got = Array.from((await s.run({ ...feeds(), cond: new ort.Tensor('bool', Uint8Array.from([1]), []) })).y!.data as Float32Array);
    await s.release();
    expect(got).toEqual(want);
  });

  it('inside a model-local function (zero as a Constant node: no initializers there)', async () => {
    const body = [
      node('Constant', [], ['zero'], { attribute: [tensorAttr('value', makeTensor('', DT.FLOAT, [], [0]))] }),
      node('Constant', [], ['slope'], { attribute: [tensorAttr('value', makeTensor('', DT.FLOAT, [3, 1], SLOPE))] }),
      ...where(),
    ];
    const fn = create(FunctionProtoSchema, { name: 'Act', domain: 'local', input: ['xi'], output: ['yo'], node: body, opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 16n })] });
    const call = node('Act', ['x'], ['y']);
    call.domain = 'local';
    const m = model(graph({ nodes: [call], inputs: [valueInfo('x', DT.FLOAT, [1, 3, XS.length])], outputs: [valueInfo('y', DT.FLOAT, [1, 3, XS.length])] }), 16, 8);
    m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'local', version: 1n }));
    m.functions.push(fn);
    const r = fuseAll(m, ORT);
    expect(r.fused.map((f) => f.nodeId)).toEqual(['f0/4']);
    expect(r.model.functions[0]!.node.map((x) => x.opType)).toEqual(['Constant', 'PRelu']);
    kept.push(['function', r.model]);
    expect(await run(r.model)).toEqual(want);
  });
});

afterAll(() => {
  const files = kept.map(([name, m]) => {
    const f = join(scratch, `${name}.onnx`);
    writeFileSync(f, writeModel(m));
    return f;
  });
  expect(Object.entries(checkModels(files)).filter(([, e]) => e !== null)).toEqual([]);
});
