// fixAll and formsFor decide each node's form from the node (src/rewrites/choose.ts). The
// oracle here is the way they decided before: a whole applyRewrites of the model per node and
// form, kept below as it was, on the exported applyRewrites. Both must give the same options, the
// same picks, the same unfixed reasons and notes, and the same saved bytes, on every fixture and
// on hand-made models that reach the corners (functions, subgraphs, legacy opsets, broken models).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { FunctionProtoSchema, OperatorSetIdProtoSchema, type ModelProto, type NodeProto } from 'onnx-buf';
import { readModel, writeModel } from '../../src/onnx/model';
import { allGraphs, nodeId } from '../../src/graph/scope';
import { applyRewrites, RewriteRefused, type Pick } from '../../src/rewrites/engine';
import { fixAll, formsFor, type FixAllResult, type FormOption } from '../../src/rewrites/choose';
import { FORMS } from '../../src/rewrites/registry';
import { rewriteBlockers } from '../../src/graph/validate';
import { checkModel, INCOMPATIBLE } from '../../src/targets/check';
import { findTarget, TARGETS } from '../../src/targets/registry';
import type { TargetProfile } from '../../src/targets/types';
import { DT, graph, graphAttr, makeTensor, model, node, preluModel, tensorAttr, valueInfo } from '../helpers/build';
import { SHARED } from '../helpers/paths';

// ---- the oracle: the exhaustive choice, as engine.ts had it ------------------------------------

function oldFormsFor(model: ModelProto, id: string, target: TargetProfile, alsoRewritten?: ReadonlySet<string>): FormOption[] {
  const opset = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  const from = opset === undefined ? 1 : Number(opset.version);
  const options = FORMS.map((form): FormOption => {
    try {
      const r = applyRewrites(model, [{ nodeId: id, form: form.id }], target, { alsoRewritten });
      const o = r.model.opsetImport.find((i) => i.domain === '' || i.domain === 'ai.onnx');
      const raised = o === undefined ? from : Number(o.version);
      return { form, available: true, raisesTo: raised > from ? raised : undefined };
    } catch (e) {
      if (e instanceof RewriteRefused) return { form, available: false, why: e.message, reason: e.reason };
      throw e;
    }
  });
  return options.sort((a, b) =>
    Number(b.available) - Number(a.available) ||
    Number(a.raisesTo !== undefined) - Number(b.raisesTo !== undefined) ||
    a.form.rank - b.form.rank,
  );
}

function oldFixAll(model: ModelProto, target: TargetProfile): FixAllResult {
  const blocked = rewriteBlockers(model);
  if (blocked) throw new RewriteRefused(blocked);
  const findings = checkModel(model, target).filter((f) => INCOMPATIBLE.has(f.status));
  const prelus = findings.filter((f) => f.op === 'PRelu');
  const all = new Set(prelus.map((f) => f.nodeId));
  const picks: Pick[] = [];
  const unfixed: FixAllResult['unfixed'] = findings.filter((f) => f.op !== 'PRelu').map((f) => ({ nodeId: f.nodeId, node: f.node, why: `no rewrite for ${f.op}: ${f.reason}` }));
  for (const f of prelus) {
    const options = oldFormsFor(model, f.nodeId, target, all);
    const best = options.find((o) => o.available);
    if (best) picks.push({ nodeId: f.nodeId, form: best.form.id });
    else {
      const byReason = new Map<string, string[]>();
      for (const o of options) byReason.set(o.reason ?? '', [...(byReason.get(o.reason ?? '') ?? []), o.form.label]);
      const why = [...byReason].map(([reason, forms]) => `${forms.join(', ')}: ${reason}`).join('; ');
      unfixed.push({ nodeId: f.nodeId, node: f.node, why: `no form is valid for this node on this target (${why})` });
    }
  }
  if (picks.length === 0) return { model, notes: [], picks, unfixed };
  return { ...applyRewrites(model, picks, target, { alsoRewritten: all }), picks, unfixed };
}

// ---- comparing --------------------------------------------------------------------------------

const plain = (options: FormOption[]) => options.map((o) => ({ form: o.form.id, available: o.available, why: o.why, reason: o.reason, raisesTo: o.raisesTo }));

function outcome(run: () => FixAllResult) {
  try {
    const r = run();
    return { picks: r.picks, unfixed: r.unfixed, notes: r.notes, bytes: r.model === undefined ? undefined : Buffer.from(writeModel(r.model)).toString('base64') };
  } catch (e) {
    if (e instanceof RewriteRefused) return { refused: e.message, reason: e.reason };
    throw e;
  }
}

const preluIds = (m: ModelProto) =>
  allGraphs(m).flatMap((s) => s.graph.node.flatMap((n, i) => (n.opType === 'PRelu' ? [nodeId(s.path, i)] : [])));

/** Each model × target: fixAll and formsFor (alone, and as fixAll asks) against the oracle. */
function expectSame(m: ModelProto, targets: readonly TargetProfile[], label: string): void {
  for (const t of targets) {
    const at = `${label} on ${t.id}`;
    expect(outcome(() => fixAll(m, t)), at).toEqual(outcome(() => oldFixAll(m, t)));
    const incompatible = new Set(checkModel(m, t).filter((f) => INCOMPATIBLE.has(f.status) && f.op === 'PRelu').map((f) => f.nodeId));
    for (const id of preluIds(m)) {
      expect(plain(formsFor(m, id, t)), `${at}, node ${id}`).toEqual(plain(oldFormsFor(m, id, t)));
      expect(plain(formsFor(m, id, t, incompatible)), `${at}, node ${id} with the others`).toEqual(plain(oldFormsFor(m, id, t, incompatible)));
    }
  }
}

const target = (id: string) => findTarget(id) ?? (() => { throw new Error(`no target ${id}`); })();
/** The targets the brief names, then a spread of the others (each rule kind and op-data kind). */
const NAMED = ['no-prelu', 'onnxruntime', 'tensorrt-8', 'tflite', 'tflite-gpu', 'tflite-xnnpack', 'coreml-ios15', 'openvino', 'onnx-opset-7', 'onnx-opset-9', 'onnx-opset-13', 'ncnn', 'ort-web-webgl', 'directml-fl1', 'nnapi-api28', 'tensorrt-5', 'mnn-2019', 'webnn', 'caffe', 'keras', 'ethos-u-vela'].map(target);

function onnxFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? onnxFiles(p) : f.endsWith('.onnx') ? [p] : [];
  });
}

describe('fixAll and formsFor choose as the exhaustive way did', () => {
  const files = onnxFiles(SHARED).sort();
  it('finds the fixtures', () => expect(files.length).toBeGreaterThan(10));
  for (const file of files) {
    it(file.slice(SHARED.length + 1), () => {
      const m = readModel(new Uint8Array(readFileSync(file)));
      // Every target for the small models; the named ones for the big published ones.
      expectSame(m, statSync(file).size < 100_000 ? TARGETS : NAMED, file);
    });
  }

  it('PRelu in model-local functions, at the model\'s opset and at others', () => {
    for (const fnOpset of [7, 8, 9, 13, 16]) {
      for (const modelOpset of [8, 9, 13, 16]) {
        for (const calls of [1, 2] as const) {
          expectSame(functionModel({ fnOpset, modelOpset, calls }), NAMED, `function opset ${fnOpset}, model ${modelOpset}, ${calls} call(s)`);
        }
      }
    }
    expectSame(functionModel({ xType: DT.DOUBLE, calls: 1 }), NAMED, 'function, float64');
    expectSame(functionModel({ slopeInput: true }), NAMED, 'function, slope as a formal input');
    expectSame(functionModel({ withRelu: true, fnOpset: 9, modelOpset: 9 }), NAMED, 'function with a Relu, opset 9');
    expectSame(functionModel({ withRelu: true, fnOpset: 9, modelOpset: 9, bf16Main: true }), NAMED, 'function with a Relu and a bfloat16 PRelu in the main graph');
  });

  it('PRelu in If, Loop and Scan bodies, and a body output that shadows an outer name', () => {
    expectSame(ifModel(), NAMED, 'If');
    expectSame(ifModel({ shadow: true }), NAMED, 'If, shadowing');
    expectSame(loopModel(), NAMED, 'Loop');
    expectSame(scanModel(), NAMED, 'Scan');
  });

  it('legacy opsets, raises, element types and slope shapes', () => {
    const cases: [string, ModelProto][] = [
      ['opset 6, [C] slope', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3], slope: [0.5, -2, 3], opset: 6 })],
      ['opset 6, single slope', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [1], slope: [0.5], opset: 6 })],
      ['opset 8, [C,1,1] slope', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3, 1, 1], slope: [0.5, -2, 3], opset: 8 })],
      ['opset 16, the exporter bug', preluModel({ xShape: [1, 16, 2, 3], slopeShape: [16], slope: Array.from({ length: 16 }, (_, i) => i / 4 - 2), opset: 16 })],
      ['opset 16, a slope that does not broadcast', preluModel({ xShape: [1, 5, 2, 3], slopeShape: [4], slope: [1, 2, 3, 4], opset: 16 })],
      ['bfloat16 at opset 13', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3, 1, 1], slope: [0.5, -2, 3], opset: 13, dtype: DT.BFLOAT16 })],
      ['int32 at opset 9', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3, 1, 1], slope: [1, -2, 3], opset: 9, dtype: DT.INT32 })],
      ['uint32 at opset 16', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3, 1, 1], slope: [1, 2, 3], opset: 16, dtype: DT.UINT32 })],
      ['float64, symbolic dims', preluModel({ xShape: ['n', 3, 'h', 'w'], slopeShape: [3, 1, 1], slope: [0.5, -2, 3], opset: 16, dtype: DT.DOUBLE })],
      ['unnamed', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [1], slope: [0.25], opset: 16, nodeName: '' })],
      ['named "model"', preluModel({ xShape: [1, 3, 2, 2], slopeShape: [1], slope: [0.25], opset: 16, nodeName: 'model' })],
      ['opset 6 with an Add', withNodes(preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3], slope: [0.5, -2, 3], opset: 6 }), [node('Add', ['y', 'y'], ['z'], { name: 'add' })])],
      ['opset 8 with a Relu', withNodes(preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3, 1, 1], slope: [0.5, -2, 3], opset: 8 }), [node('Relu', ['y'], ['z'], { name: 'relu' })])],
    ];
    for (const [label, m] of cases) expectSame(m, TARGETS, label);
  });

  it('models that are broken already: names shared, inputs missing, outputs missing, too many findings', () => {
    const twoNamedP = preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3, 1, 1], slope: [0.5, -2, 3], opset: 16, nodeName: 'p' });
    twoNamedP.graph!.node.push(node('PRelu', ['y', 'slope'], ['y2'], { name: 'p' }));
    expectSame(twoNamedP, NAMED, 'two PRelu named p');
    const missingX = preluModel({ xShape: [1, 3, 2, 2], slopeShape: [1], slope: [0.5], opset: 16 });
    missingX.graph!.node[0]!.input[0] = 'nowhere';
    expectSame(missingX, NAMED, 'x produced by nothing');
    const model = preluModel({ xShape: [1, 3, 2, 2], slopeShape: [1], slope: [0.5], opset: 16, nodeName: 'model' });
    model.graph!.output.push(valueInfo('ghost', DT.FLOAT, [1]));
    expectSame(model, NAMED, 'a PRelu named "model" and a graph output produced by nothing');
    const many = preluModel({ xShape: [1, 3, 2, 2], slopeShape: [3, 1, 1], slope: [0.5, -2, 3], opset: 16 });
    for (let i = 0; i < 199; i++) many.graph!.node.unshift(node('NoSuchOp', ['x'], [`junk${i}`], { name: `junk${i}` }));
    expectSame(many, [target('no-prelu'), target('onnxruntime'), target('tflite')], 'near the cap on model-level findings');
  });
});

describe('fixAll on a generated model', () => {
  it('picks a form for each of 2,000 PRelu', () => {
    const m = wideModel(2000);
    const r = fixAll(m, target('no-prelu'));
    expect(r.unfixed).toEqual([]);
    expect(r.picks).toHaveLength(2000);
    expect(new Set(r.picks.map((p) => p.form))).toEqual(new Set(['where']));
    expect(checkModel(r.model, target('no-prelu')).filter((f) => INCOMPATIBLE.has(f.status))).toEqual([]);
  });

  it('a 60-PRelu model: the same as the exhaustive way on several targets', () => {
    expectSame(wideModel(60), [target('no-prelu'), target('tflite'), target('coreml-ios15'), target('onnx-opset-7')], 'wide');
  });
});

// ---- models -----------------------------------------------------------------------------------

/** Conv 1×1 → PRelu([C,1,1]) → Add → Relu blocks, as scripts/bench/models.ts wideGraphModel, in memory. */
function wideModel(prelus: number): ModelProto {
  const c = 4;
  const nodes: NodeProto[] = [];
  const inits = [];
  let prev = 'x';
  for (let i = 0; i < prelus; i++) {
    const p = `b${i}`;
    inits.push(makeTensor(`${p}.w`, DT.FLOAT, [c, c, 1, 1], Array.from({ length: c * c }, (_, k) => ((k * 7 + i) % 5) / 10)));
    inits.push(makeTensor(`${p}.slope`, DT.FLOAT, [c, 1, 1], Array.from({ length: c }, (_, k) => 0.25 + k / 8)));
    const stage = `stage${Math.floor(i / 100)}/block${i}`;
    nodes.push(node('Conv', [prev, `${p}.w`], [`${p}.conv`], { name: `${stage}/conv` }));
    nodes.push(node('PRelu', [`${p}.conv`, `${p}.slope`], [`${p}.act`], { name: `${stage}/prelu` }));
    nodes.push(node('Add', [`${p}.act`, prev], [`${p}.sum`], { name: `${stage}/add` }));
    nodes.push(node('Relu', [`${p}.sum`], [`${p}.out`], { name: `${stage}/relu` }));
    prev = `${p}.out`;
  }
  return model(graph({ nodes, inputs: [valueInfo('x', DT.FLOAT, [1, c, 4, 4])], outputs: [valueInfo(prev, DT.FLOAT, [1, c, 4, 4])], initializers: inits }), 17, 8);
}

function withNodes(m: ModelProto, nodes: NodeProto[]): ModelProto {
  m.graph!.node.push(...nodes);
  m.graph!.output.push(...nodes.map((n) => valueInfo(n.output[0]!, DT.FLOAT)));
  return m;
}

/** local.Blk(x) → y, called once or twice; its PRelu's slope is a Constant node of the body or a formal input. */
function functionModel(opts: { fnOpset?: number; modelOpset?: number; calls?: 1 | 2; xType?: number; slopeInput?: boolean; withRelu?: boolean; bf16Main?: boolean } = {}): ModelProto {
  const dtype = opts.xType ?? DT.FLOAT;
  const slope = makeTensor(opts.slopeInput ? 'slope' : '', dtype, [3, 1], [0.5, -2, 3]);
  const body: NodeProto[] = [
    ...(opts.slopeInput ? [] : [node('Constant', [], ['s'], { attribute: [tensorAttr('value', slope)] })]),
    node('PRelu', ['a', 's'], [opts.withRelu ? 'r' : 'b'], { name: 'fp' }),
    ...(opts.withRelu ? [node('Relu', ['r'], ['b'], { name: 'fr' })] : []),
  ];
  const fn = create(FunctionProtoSchema, {
    name: 'Blk', domain: 'local', input: opts.slopeInput ? ['a', 's'] : ['a'], output: ['b'],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opts.fnOpset ?? 16) })],
    node: body,
  });
  const extra = opts.slopeInput ? ['slope'] : [];
  const nodes = (opts.calls ?? 2) === 2
    ? [node('Blk', ['x', ...extra], ['h'], { name: 'c1' }), node('Blk', ['h', ...extra], ['y'], { name: 'c2' })]
    : [node('Blk', ['x', ...extra], ['y'], { name: 'c1' })];
  for (const n of nodes) n.domain = 'local';
  const inits = opts.slopeInput ? [slope] : [];
  const outputs = [valueInfo('y', dtype, [1, 3, 4])];
  if (opts.bf16Main) {
    inits.push(makeTensor('bslope', DT.BFLOAT16, [3, 1], [0.5, -2, 3]));
    nodes.push(node('PRelu', ['bx', 'bslope'], ['by'], { name: 'bp' }));
    outputs.push(valueInfo('by', DT.BFLOAT16, [1, 3, 4]));
  }
  const inputs = [valueInfo('x', dtype, [1, 3, 4]), ...(opts.bf16Main ? [valueInfo('bx', DT.BFLOAT16, [1, 3, 4])] : [])];
  const m = model(graph({ nodes, inputs, outputs, initializers: inits }), opts.modelOpset ?? 16, 8);
  m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'local', version: 1n }));
  m.functions.push(fn);
  return m;
}

function ifModel(opts: { shadow?: boolean } = {}): ModelProto {
  const out = opts.shadow ? 'slope2' : 't_out';
  const then = graph({ name: 'then', nodes: [node('PRelu', ['x', 'slope'], [out], { name: 'inner_prelu' })], outputs: [valueInfo(out, DT.FLOAT, [1, 4, 3])] });
  const otherwise = graph({ name: 'else', nodes: [node('Identity', ['x'], ['e_out'])], outputs: [valueInfo('e_out', DT.FLOAT, [1, 4, 3])] });
  return model(
    graph({
      nodes: [node('If', ['cond'], ['y'], { name: 'branch', attribute: [graphAttr('then_branch', then), graphAttr('else_branch', otherwise)] })],
      inputs: [valueInfo('cond', DT.BOOL, []), valueInfo('x', DT.FLOAT, [1, 4, 3])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 4, 3])],
      initializers: [makeTensor('slope', DT.FLOAT, [4, 1], [0.25, -1.5, 2, 3]), ...(opts.shadow ? [makeTensor('slope2', DT.FLOAT, [1], [1])] : [])],
    }),
    16,
  );
}

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
