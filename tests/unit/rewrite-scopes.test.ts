// The engine reaches PRelu wherever it lives (main graph, If/Loop/Scan bodies, model-local
// functions) and wherever its slope comes from (initializer, initializer listed as input, Constant
// node, graph input, shared, external data). Oracles: onnx.checker (python3-onnx) for validity,
// ONNX Runtime against a reference computed here in JS (x < 0 ? slope·x : x) for numbers.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { FunctionProtoSchema, OperatorSetIdProtoSchema, StringStringEntryProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { writeModel } from '../../src/onnx/model';
import { nodeId, parseNodeId, pathKey, functionStep, type GraphPath } from '../../src/graph/scope';
import { applyRewrites } from '../../src/rewrites/engine';
import { fixAll, formsFor } from '../../src/rewrites/choose';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { DT, allNodes, graph, graphAttr, makeTensor, model, node, tensorAttr, valueInfo } from '../helpers/build';
import { SESSION_OPTIONS } from '../helpers/ort';
import { checkModels } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';

const NO_PRELU = findTarget('no-prelu')!;
const ORT = findTarget('onnxruntime')!;
const scratch = scratchDir('unit-scopes');
const kept: [string, ModelProto][] = [];

const XS = [-2, -0, 0, 3, NaN, Infinity, -Infinity, -0.5, 1e-3, 7, -7, 0.25];
const prelu = (x: number, s: number) => Math.fround(x < 0 ? Math.fround(s * x) : x);
const same = (a: number, b: number) => Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b));

async function runFile(file: string, feeds: Record<string, ort.Tensor>, out = 'y'): Promise<number[]> {
  const s = await ort.InferenceSession.create(file, SESSION_OPTIONS);
  try {
    return Array.from((await s.run(feeds))[out]!.data as Float32Array);
  } finally {
    await s.release();
  }
}
let fileNo = 0;
async function run(m: ModelProto, feeds: Record<string, ort.Tensor>, dir = scratch): Promise<number[]> {
  const f = join(dir, `m${fileNo++}.onnx`);
  writeFileSync(f, writeModel(m));
  return runFile(f, feeds);
}

/** Elements of `got` that are not bit-for-bit `want`, except ORT's Where losing −0 on its first input (see rewrite-engine.test.ts). */
function mismatches(got: number[], want: number[]): string[] {
  return want.flatMap((w, i) => (same(got[i]!, w) ? [] : [`${i}: want ${w}, got ${got[i]}`]));
}

describe('node ids', () => {
  it('round-trip through parseNodeId, with function bodies as "f<index>"', () => {
    const paths: GraphPath[] = [[], [{ node: 0, attr: 'then_branch' }], [{ node: 3, attr: 'branches', index: 2 }, { node: 1, attr: 'body' }], [functionStep(2)], [functionStep(0), { node: 4, attr: 'else_branch' }]];
    for (const p of paths) {
      const id = nodeId(p, 5);
      expect(parseNodeId(id)).toEqual({ path: p, index: 5 });
    }
    expect(nodeId([{ node: 0, attr: 'then_branch' }], 0)).toBe('0.then_branch/0');
    expect(nodeId([functionStep(3)], 1)).toBe('f3/1');
    expect(pathKey([functionStep(3), { node: 2, attr: 'body' }])).toBe('f3/2.body');
    expect(parseNodeId('0.then_branch/f3/1')).toBeUndefined(); // a function is never inside a graph
  });
});

/** A model calling local.Blk(x) → y twice (h = Blk(x); y = Blk(h)); Blk's PRelu takes its slope from a Constant node in the body. */
function functionModel(opts: { fnOpset?: number; modelOpset?: number; slope?: number[]; calls?: 1 | 2; xType?: number; slopeInput?: boolean } = {}): ModelProto {
  const slope = opts.slope ?? [0.5, -2, 3];
  const fnOpset = opts.fnOpset ?? 16;
  const slopeTensor = makeTensor(opts.slopeInput ? 'slope' : '', opts.xType ?? DT.FLOAT, [slope.length, 1], slope);
  const fn = create(FunctionProtoSchema, {
    name: 'Blk', domain: 'local', input: opts.slopeInput ? ['a', 's'] : ['a'], output: ['b'],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(fnOpset) })],
    node: [
      ...(opts.slopeInput ? [] : [node('Constant', [], ['s'], { attribute: [tensorAttr('value', slopeTensor)] })]),
      node('PRelu', ['a', 's'], ['b'], { name: 'fp' }),
    ],
  });
  const calls = opts.calls ?? 2;
  const extra = opts.slopeInput ? ['slope'] : [];
  const nodes = calls === 2 ? [node('Blk', ['x', ...extra], ['h'], { name: 'c1' }), node('Blk', ['h', ...extra], ['y'], { name: 'c2' })] : [node('Blk', ['x', ...extra], ['y'], { name: 'c1' })];
  for (const n of nodes) n.domain = 'local';
  const m = model(
    graph({ nodes, inputs: [valueInfo('x', opts.xType ?? DT.FLOAT, [1, 3, 4])], outputs: [valueInfo('y', opts.xType ?? DT.FLOAT, [1, 3, 4])], initializers: opts.slopeInput ? [slopeTensor] : [] }),
    opts.modelOpset ?? 16,
    8,
  );
  m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'local', version: 1n }));
  m.functions.push(fn);
  return m;
}

describe('PRelu inside a model-local function', () => {
  const x = Float32Array.from(XS);
  const feeds = () => ({ x: new ort.Tensor('float32', x, [1, 3, 4]) });
  const slope = [0.5, -2, 3];
  const once = Array.from(x, (v, i) => prelu(v, slope[Math.floor(i / 4)]!));
  const twice = once.map((v, i) => prelu(v, slope[Math.floor(i / 4)]!));

  it('is found by the checker with id f0/1', () => {
    expect(checkModel(functionModel(), NO_PRELU).filter((f) => f.op === 'PRelu')).toMatchObject([{ nodeId: 'f0/1', node: 'fp', status: 'unsupported', path: [{ fn: 0 }], index: 1 }]);
  });

  for (const form of ['where', 'max-min', 'relu-neg'] as const) {
    it(`${form}: the body is rewritten with Constant nodes (a function has no initializers), and both calls compute PRelu`, async () => {
      const m = functionModel();
      expect(await run(m, feeds())).toEqual(twice);
      const out = applyRewrites(m, [{ nodeId: 'f0/1', form }], NO_PRELU).model;
      kept.push([`fn-${form}`, out]);
      const body = out.functions[0]!;
      expect(body.node.map((n) => n.opType)).not.toContain('PRelu');
      expect(body.node.at(-1)!.output).toEqual(['b']);
      expect(body.node.at(-1)!.name).toBe('fp');
      expect(out.graph!.initializer).toEqual([]);
      expect(checkModel(out, NO_PRELU).filter((f) => f.op !== 'Blk')).toEqual([]);
      const got = await run(out, feeds());
      if (form === 'where') expect(mismatches(got, twice)).toEqual([]);
      else expect(mismatches(got, twice).length).toBeLessThanOrEqual(6); // −0 and inf·0 cases only; exact elsewhere
      expect(got.filter((v, i) => Number.isFinite(x[i]!) && x[i] !== 0 && !same(v, twice[i]!))).toEqual([]);
    });
  }

  it("fixAll finds it; the body's Constant slope stays (Mul uses it)", () => {
    const r = fixAll(functionModel(), NO_PRELU);
    expect(r.picks).toEqual([{ nodeId: 'f0/1', form: 'where' }]);
    expect(r.model.functions[0]!.node.filter((n) => n.output.includes('s'))).toHaveLength(1);
  });

  it('a function at opset 8 in an opset-8 model: both move to opset 9 for Where', async () => {
    const m = functionModel({ fnOpset: 8, modelOpset: 8, slopeInput: true });
    const r = applyRewrites(m, [{ nodeId: 'f0/0', form: 'where' }], NO_PRELU);
    kept.push(['fn-opset8-where', r.model]);
    expect(r.model.opsetImport.find((o) => o.domain === '')!.version).toBe(9n);
    expect(r.model.functions[0]!.opsetImport[0]!.version).toBe(9n);
    expect(r.notes.join(' ')).toMatch(/Raised the model from opset 8 to 9.*Raised function Blk from opset 8 to 9/);
    expect(mismatches(await run(r.model, feeds()), twice)).toEqual([]);
  });

  it('raising a function whose other ops change definition is refused, naming them', () => {
    // Constant has a new version at opset 9, so moving this body from 8 to 9 is refused.
    const m = functionModel({ fnOpset: 8, modelOpset: 8 });
    const opt = formsFor(m, 'f0/1', NO_PRELU).find((o) => o.form.id === 'where')!;
    expect(opt.available).toBe(false);
    expect(opt.reason).toBe("needs opset ≥ 9; function Blk is opset 8, and raising it would change the definition of other nodes' ops: Constant (new version at opset 9). OpFit does not raise an opset when that could change what other nodes compute.");
  });

  it('a function at opset 13 in an opset-16 model moves up to 16 with its rewrite (its ops must resolve alike)', () => {
    const r = applyRewrites(functionModel({ fnOpset: 13 }), [{ nodeId: 'f0/1', form: 'where' }], NO_PRELU);
    kept.push(['fn-opset13-where', r.model]);
    expect(r.model.functions[0]!.opsetImport[0]!.version).toBe(16n);
  });

  it('one call site: the body is typed from it (float64), and constants take that type', async () => {
    const m = functionModel({ calls: 1, xType: DT.DOUBLE, slope: [0.5, -2, 3] });
    // The Constant slope must have the input's type too.
    m.functions[0]!.node[0]!.attribute[0]!.t = makeTensor('', DT.DOUBLE, [3, 1], [0.5, -2, 3]);
    const out = applyRewrites(m, [{ nodeId: 'f0/1', form: 'where' }], NO_PRELU).model;
    kept.push(['fn-double-where', out]);
    const consts = out.functions[0]!.node.filter((n) => n.opType === 'Constant').map((n) => n.attribute[0]!.t!.dataType);
    expect(consts.every((t) => t === DT.DOUBLE)).toBe(true);
    const xd = Float64Array.from(XS);
    const f = join(scratch, 'fn-double.onnx');
    writeFileSync(f, writeModel(out));
    const s = await ort.InferenceSession.create(f, SESSION_OPTIONS);
    const got = Array.from((await s.run({ x: new ort.Tensor('float64', xd, [1, 3, 4]) })).y!.data as Float64Array);
    await s.release();
    const want = Array.from(xd, (v, i) => (v < 0 ? [0.5, -2, 3][Math.floor(i / 4)]! * v : v));
    expect(mismatches(got, want)).toEqual([]);
  });

  it('called with float32 at one site and float64 at another, the zero cannot be typed: refused, saying why', () => {
    const m = functionModel({ calls: 1, slopeInput: true });
    const g = m.graph!;
    g.node.push(Object.assign(node('Blk', ['xd', 'slope_d'], ['yd'], { name: 'c2' }), { domain: 'local' }));
    g.initializer.push(makeTensor('slope_d', DT.DOUBLE, [3, 1], [1, 2, 3]));
    g.input.push(valueInfo('xd', DT.DOUBLE, [1, 3, 4]));
    g.output.push(valueInfo('yd', DT.DOUBLE, [1, 3, 4]));
    const opts = formsFor(m, 'f0/0', NO_PRELU);
    expect(opts.find((o) => o.form.id === 'where')).toMatchObject({ available: false });
    expect(opts.find((o) => o.form.id === 'where')!.why).toMatch(/element type .* not known/);
  });
});

/** y = Loop(2, true, x0) with body x_out = PRelu(x_in, slope) (outer-scope slope); y is the final carried value. */
function loopModel(): ModelProto {
  const body = graph({
    name: 'body',
    nodes: [node('Identity', ['cond_in'], ['cond_out']), node('PRelu', ['x_in', 'slope'], ['x_out'], { name: 'lp' })],
    inputs: [valueInfo('i', DT.INT64, []), valueInfo('cond_in', DT.BOOL, []), valueInfo('x_in', DT.FLOAT, [1, 3, 4])],
    outputs: [valueInfo('cond_out', DT.BOOL, []), valueInfo('x_out', DT.FLOAT, [1, 3, 4])],
  });
  return model(
    graph({
      nodes: [node('Loop', ['trips', 'go', 'x'], ['y'], { name: 'loop', attribute: [graphAttr('body', body)] })],
      inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])],
      initializers: [makeTensor('trips', DT.INT64, [], [2]), makeTensor('go', DT.BOOL, [], [1]), makeTensor('slope', DT.FLOAT, [3, 1], [0.5, -2, 3])],
    }),
    16,
  );
}

/** y = Scan(x) over axis 0 of x [2,3,4], body yo = PRelu(xi, slope_b) with the slope a Constant node of the body. */
function scanModel(): ModelProto {
  const body = graph({
    name: 'scan_body',
    nodes: [
      node('Constant', [], ['slope_b'], { attribute: [tensorAttr('value', makeTensor('', DT.FLOAT, [4], [0.5, -2, 3, 0]))] }),
      node('PRelu', ['xi', 'slope_b'], ['yo'], { name: 'sp' }),
    ],
    inputs: [valueInfo('xi', DT.FLOAT, [3, 4])],
    outputs: [valueInfo('yo', DT.FLOAT, [3, 4])],
  });
  const scan = node('Scan', ['x'], ['y'], { name: 'scan', attribute: [graphAttr('body', body)] });
  scan.attribute.push(Object.assign(graphAttr('num_scan_inputs', body), { type: 2, i: 1n, g: undefined }));
  return model(graph({ nodes: [scan], inputs: [valueInfo('x', DT.FLOAT, [2, 3, 4])], outputs: [valueInfo('y', DT.FLOAT, [2, 3, 4])] }), 16);
}

describe('PRelu in Loop and Scan bodies', () => {
  it('Loop body with an outer-scope slope: found, rewritten, same numbers after two trips', async () => {
    const m = loopModel();
    expect(checkModel(m, NO_PRELU).map((f) => f.nodeId)).toEqual(['0.body/1']);
    const r = fixAll(m, NO_PRELU);
    kept.push(['loop-where', r.model]);
    expect(allNodes(r.model).map((n) => n.opType)).not.toContain('PRelu');
    const x = Float32Array.from(XS);
    const s = [0.5, -2, 3];
    const want = Array.from(x, (v, i) => prelu(prelu(v, s[Math.floor(i / 4)]!), s[Math.floor(i / 4)]!));
    expect(mismatches(await run(m, { x: new ort.Tensor('float32', x, [1, 3, 4]) }), want)).toEqual([]);
    expect(mismatches(await run(r.model, { x: new ort.Tensor('float32', x, [1, 3, 4]) }), want)).toEqual([]);
    // The outer slope is still there: the body uses it.
    expect(r.model.graph!.initializer.map((t) => t.name)).toContain('slope');
  });

  it('Scan body with a Constant-node slope: found, rewritten, same numbers', async () => {
    const m = scanModel();
    expect(checkModel(m, NO_PRELU).map((f) => f.nodeId)).toEqual(['0.body/1']);
    const r = fixAll(m, NO_PRELU);
    kept.push(['scan-where', r.model]);
    const body = r.model.graph!.node[0]!.attribute.find((a) => a.name === 'body')!.g!;
    expect(body.node.map((n) => n.opType)).toEqual(['Constant', 'Less', 'Mul', 'Where']); // the Constant slope feeds Mul
    const x = Float32Array.from([...XS, ...XS.map((v) => -v)]);
    const s = [0.5, -2, 3, 0];
    const want = Array.from(x, (v, i) => prelu(v, s[i % 4]!));
    expect(mismatches(await run(m, { x: new ort.Tensor('float32', x, [2, 3, 4]) }), want)).toEqual([]);
    const got = await run(r.model, { x: new ort.Tensor('float32', x, [2, 3, 4]) });
    // ORT's Where drops the sign of a −0 taken from its first input (slope 0, x < 0): see rewrite-engine.test.ts.
    expect(got.filter((v, i) => !same(v, want[i]!) && !(Object.is(want[i], -0) && Object.is(v, 0)))).toEqual([]);
  });
});

describe('slope sources', () => {
  const x = Float32Array.from(XS);
  const feeds = () => ({ x: new ort.Tensor('float32', x, [1, 3, 4]) });
  const s = [0.5, -2, 3];
  const want = Array.from(x, (v, i) => prelu(v, s[Math.floor(i / 4)]!));

  /** y = PRelu(x, slope), z = PRelu(w, slope) when shared; slope per channel [3,1] unless `legacy`. */
  const sourced = (kind: 'initializer' | 'init-input' | 'constant' | 'input' | 'shared', legacy = false) => {
    const shape = legacy ? [3] : [3, 1];
    const t = makeTensor(kind === 'constant' ? '' : 'slope', DT.FLOAT, shape, s);
    const nodes = [node('PRelu', ['x', 'slope'], ['y'], { name: 'p1' })];
    if (kind === 'constant') nodes.unshift(node('Constant', [], ['slope'], { attribute: [tensorAttr('value', t)] }));
    if (kind === 'shared') nodes.push(node('PRelu', ['y', 'slope'], ['z'], { name: 'p2' }));
    const inputs = [valueInfo('x', DT.FLOAT, [1, 3, 4])];
    if (kind === 'init-input' || kind === 'input') inputs.push(valueInfo('slope', DT.FLOAT, shape));
    const outputs = [valueInfo('y', DT.FLOAT, [1, 3, 4])];
    if (kind === 'shared') outputs.push(valueInfo('z', DT.FLOAT, [1, 3, 4]));
    return model(graph({ nodes, inputs, outputs, initializers: kind === 'constant' || kind === 'input' ? [] : [t] }), legacy ? 6 : 16, legacy ? 3 : 8);
  };

  for (const kind of ['initializer', 'init-input', 'constant', 'input', 'shared'] as const) {
    it(`${kind}: where form, same numbers; the slope is kept when still used or part of the interface`, async () => {
      const m = sourced(kind);
      const r = fixAll(m, NO_PRELU);
      kept.push([`source-${kind}`, r.model]);
      expect(r.unfixed).toEqual([]);
      const f = { ...feeds(), ...(kind === 'input' ? { slope: new ort.Tensor('float32', Float32Array.from(s), [3, 1]) } : {}) };
      expect(mismatches(await run(r.model, f), want)).toEqual([]);
      const g = r.model.graph!;
      if (kind === 'init-input' || kind === 'input') expect(g.input.map((i) => i.name)).toContain('slope');
      if (kind === 'initializer' || kind === 'shared') expect(g.initializer.map((t) => t.name)).toContain('slope');
      if (kind === 'constant') expect(g.node.filter((n) => n.opType === 'Constant' && n.output[0] === 'slope')).toHaveLength(1);
    });
  }

  it('shared by two legacy PRelu nodes: one reshaped copy, the old slope dropped', () => {
    const m4 = sourced('shared', true);
    m4.irVersion = 4n;
    const r4 = fixAll(m4, ORT);
    expect(r4.picks.map((p) => p.form)).toEqual(['reshape-slope', 'reshape-slope']);
    const copies = r4.model.graph!.initializer;
    expect(copies.map((t) => t.dims.map(Number))).toEqual([[3, 1]]);
    expect(allNodes(r4.model).map((n) => n.input[1])).toEqual([copies[0]!.name, copies[0]!.name]);
    kept.push(['shared-legacy-reshape', r4.model]);
  });
});

describe('a slope stored as external data', () => {
  const dir = join(scratch, 'external');
  mkdirSync(dir, { recursive: true });
  const s = [0.5, -2, 3];
  writeFileSync(join(dir, 'slope.bin'), Buffer.from(Float32Array.from(s).buffer));
  const external = (dims: number[]): TensorProto => {
    const t = makeTensor('slope', DT.FLOAT, dims, []);
    t.dataLocation = 1;
    t.externalData = [
      create(StringStringEntryProtoSchema, { key: 'location', value: 'slope.bin' }),
      create(StringStringEntryProtoSchema, { key: 'length', value: '12' }),
    ];
    return t;
  };
  /** x [1,3,2,3]... here [1,3,4] with a [3] slope at opset 16: the exporter bug, read per channel. */
  const m = model(
    graph({ nodes: [node('PRelu', ['x', 'slope'], ['y'], { name: 'p' })], inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4])], outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])], initializers: [external([3])] }),
    16,
  );
  const x = Float32Array.from(XS);
  const want = Array.from(x, (v, i) => prelu(v, s[Math.floor(i / 4)]!));

  it('reshape-slope: the reshaped copy points at the same external bytes, which are never read', async () => {
    const r = applyRewrites(m, [{ nodeId: '0', form: 'reshape-slope' }], ORT);
    const inits = r.model.graph!.initializer;
    expect(inits).toHaveLength(1);
    expect(inits[0]!.dims).toEqual([3n, 1n]);
    expect(inits[0]!.dataLocation).toBe(1);
    expect(inits[0]!.externalData.map((e) => [e.key, e.value])).toEqual([['location', 'slope.bin'], ['length', '12']]);
    expect(inits[0]!.rawData.length).toBe(0);
    const f = join(dir, 'reshaped.onnx');
    writeFileSync(f, writeModel(r.model));
    expect(mismatches(await runFile(f, { x: new ort.Tensor('float32', x, [1, 3, 4]) }), want)).toEqual([]);
    expect(checkModels([f])[f]).toBeNull();
  });

  it('where: same numbers from the external slope; LeakyRelu, which needs the value, says so', async () => {
    const ok = model(
      graph({ nodes: [node('PRelu', ['x', 'slope'], ['y'], { name: 'p' })], inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4])], outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])], initializers: [external([3, 1])] }),
      16,
    );
    const r = applyRewrites(ok, [{ nodeId: '0', form: 'where' }], NO_PRELU);
    const f = join(dir, 'where.onnx');
    writeFileSync(f, writeModel(r.model));
    expect(mismatches(await runFile(f, { x: new ort.Tensor('float32', x, [1, 3, 4]) }), want)).toEqual([]);
    const one = model(
      graph({ nodes: [node('PRelu', ['x', 'slope'], ['y'], { name: 'p' })], inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4])], outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])], initializers: [Object.assign(external([1]), { externalData: external([1]).externalData.map((e) => (e.key === 'length' ? Object.assign(e, { value: '4' }) : e)) })] }),
      16,
    );
    expect(formsFor(one, '0', NO_PRELU).find((o) => o.form.id === 'leaky')!.why).toMatch(/external data/);
  });
});

afterAll(() => {
  const files = kept.map(([name, m]) => {
    const f = join(scratch, `${name}.onnx`);
    writeFileSync(f, writeModel(m));
    return f;
  });
  const result = checkModels(files);
  expect(Object.entries(result).filter(([, err]) => err !== null)).toEqual([]);
});
