// judgeOp with per-op tables, on one-node models built here: op, domain, opset range, the dtypes
// a kernel takes (only where the schema says which input a constraint governs), function bodies,
// absent ops, and each table's own conventions.
import { create } from '@bufbuild/protobuf';
import { FunctionProtoSchema, OperatorSetIdProtoSchema, ValueInfoProtoSchema, type ModelProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { OP_TABLE_IDS, onnxSchema, opTable } from '../../src/targets/op-tables';
import type { TargetProfile } from '../../src/targets/types';
import { DT, graph, graphAttr, model, node, valueInfo } from '../helpers/build';

const ORT = findTarget('onnxruntime')!;
const CPU_SOURCE = opTable('ort-cpu')!.source;

/** A target whose ops come from one table (PRelu left to the table too). */
function tableTarget(table: string, absent: 'unsupported' | 'unknown' = 'unsupported'): TargetProfile {
  return { ...ORT, id: `test-${table}`, name: `test ${table}`, prelu: [], ops: { kind: 'table', table, absent, source: `profile source for ${table}` } };
}

type Io = [string, number | undefined, number[]?];
/** One node; an input or output with dtype undefined gets no declared type (an untyped tensor). */
function oneNode(op: string, opset: number, inputs: Io[], outputs: Io[], o: { domain?: string; domainOpset?: number } = {}): ModelProto {
  const n = node(op, inputs.map((i) => i[0]), outputs.map((x) => x[0]), { name: 'n' });
  if (o.domain) n.domain = o.domain;
  const typed = (list: Io[]) => list.filter((i) => i[0] && i[1] !== undefined).map(([name, dt, shape]) => valueInfo(name, dt!, shape));
  // Untyped inputs are still declared (without a type), so the model stays valid ONNX (src/graph/validate.ts).
  const declared = inputs.filter((i) => i[0]).map(([name, dt, shape]) => (dt === undefined ? create(ValueInfoProtoSchema, { name }) : valueInfo(name, dt, shape)));
  const m = model(graph({ nodes: [n], inputs: declared, outputs: typed(outputs) }), opset);
  if (o.domain) m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: o.domain, version: BigInt(o.domainOpset ?? 1) }));
  return m;
}

const F = DT.FLOAT;
const binary = (op: string, opset: number, a: number | undefined, b = a, out = a) =>
  oneNode(op, opset, [['a', a, [3]], ['b', b, [3]]], [['y', out, [3]]]);

describe('ort-cpu on the onnxruntime target: opset ranges', () => {
  it('Add at opset 6: no kernel, the ranges it does have are named', () => {
    expect(checkModel(binary('Add', 6, F), ORT)).toMatchObject([{
      op: 'Add', status: 'unsupported', source: CPU_SOURCE,
      reason: 'ONNX Runtime CPU has no kernel for Add at opset 6 (its kernels cover opsets 7–12, 13, 14+).',
    }]);
  });
  it('Add at opsets 7, 13, 14 and 21 (resolving to Add-14): runs', () => {
    for (const opset of [7, 13, 14, 21]) expect(checkModel(binary('Add', opset, F), ORT)).toEqual([]);
  });
  it('AveragePool-1 (opset 6): no kernel below 7', () => {
    const m = oneNode('AveragePool', 6, [['x', F, [1, 1, 4, 4]]], [['y', F]]);
    expect(checkModel(m, ORT)).toMatchObject([{ status: 'unsupported', reason: expect.stringMatching(/no kernel for AveragePool at opset 6 \(its kernels cover opsets 7–9, 10, 11–18, 19–21, 22\+\)/) }]);
  });
});

describe('ort-cpu: dtypes, only where the schema binds the constraint to an input', () => {
  it('Add-13 on int8: no int8 kernel, with the types it has', () => {
    expect(checkModel(binary('Add', 13, DT.INT8), ORT)).toMatchObject([{
      status: 'unsupported',
      reason: 'ONNX Runtime CPU has no int8 kernel for Add at opset 13: input A is int8, and its types for T are double, float, int32, int64, uint32, uint64.',
    }]);
  });
  it('Add-14 on int8: runs (int8 added in Add-14)', () => expect(checkModel(binary('Add', 14, DT.INT8), ORT)).toEqual([]));
  it('Max-13 on int16 (variadic input): no kernel', () => {
    const m = oneNode('Max', 13, [['a', DT.INT16, [3]], ['b', DT.INT16, [3]]], [['y', DT.INT16, [3]]]);
    expect(checkModel(m, ORT)).toMatchObject([{ reason: expect.stringMatching(/no int16 kernel for Max at opset 13: input data_0 is int16/) }]);
  });
  it('Pow-15 with a uint32 exponent: names the second constraint and its input', () => {
    expect(checkModel(binary('Pow', 15, F, DT.UINT32, F), ORT)).toMatchObject([{
      reason: 'ONNX Runtime CPU has no uint32 kernel for Pow at opset 15: input Y is uint32, and its types for T1 are double, float, int32, int64.',
    }]);
  });
  it('a constraint named after a formal parameter (Reshape "shape=int64") is matched by name', () => {
    const m = oneNode('Reshape', 13, [['x', F, [6]], ['s', DT.INT32, [2]]], [['y', F]]);
    expect(checkModel(m, ORT)).toMatchObject([{ reason: expect.stringMatching(/no int32 kernel for Reshape at opset 13: input shape is int32, and its types for shape are int64/) }]);
  });
  it('an output whose dtype breaks its constraint is caught too', () => {
    const m = oneNode('Sin', 7, [['x', undefined]], [['y', DT.FLOAT16]]);
    expect(checkModel(m, ORT)).toMatchObject([{ reason: expect.stringMatching(/no float16 kernel for Sin at opset 7: output output is float16/) }]);
  });
  it('type lists with parentheses keep their commas (map(int64,float))', () => {
    const zipMap = opTable('ort-cpu')!.ops.get('ai.onnx.ml')!.get('ZipMap')![0]!;
    expect(zipMap.constraints.T).toEqual(['seq(map(int64,float))', 'seq(map(string,float))']);
  });
  it('unknown dtypes are not guessed: an untyped int tensor gets no finding', () => {
    expect(checkModel(binary('Add', 13, undefined), ORT)).toEqual([]);
  });
  it('an absent optional input is skipped', () => {
    const m = oneNode('Clip', 13, [['x', F, [3]], ['', undefined], ['max', F, []]], [['y', F, [3]]]);
    expect(checkModel(m, ORT)).toEqual([]);
  });
});

describe('ort-cpu: domains', () => {
  it('an op of a domain ONNX Runtime does not have (training): unsupported, domain named', () => {
    const m = oneNode('Adagrad', 17, [['r', F, []], ['t', DT.INT64, []], ['x', F, [3]], ['g', F, [3]], ['h', F, [3]]], [['x2', F], ['h2', F]], { domain: 'ai.onnx.preview.training' });
    expect(checkModel(m, ORT)).toMatchObject([{ status: 'unsupported', reason: 'ONNX Runtime CPU has no kernel for Adagrad (domain ai.onnx.preview.training).' }]);
  });
  it('com.microsoft ops: matched against the table with the model\'s com.microsoft opset', () => {
    expect(checkModel(oneNode('FusedConv', 13, [['x', F, [1, 1, 3, 3]], ['w', F, [1, 1, 1, 1]]], [['y', F]], { domain: 'com.microsoft' }), ORT)).toEqual([]);
    expect(checkModel(oneNode('NoSuchContribOp', 13, [['x', F, [3]]], [['y', F]], { domain: 'com.microsoft' }), ORT))
      .toMatchObject([{ status: 'unsupported', reason: 'ONNX Runtime CPU has no kernel for NoSuchContribOp (domain com.microsoft).' }]);
  });
  it('a contrib op has no ONNX schema, so its dtypes are not checked', () => {
    expect(checkModel(oneNode('Gelu', 13, [['x', DT.INT32, [3]]], [['y', DT.INT32]], { domain: 'com.microsoft' }), ORT)).toEqual([]);
  });
  it("'ai.onnx' is the default domain", () => {
    const m = binary('Add', 6, F);
    m.graph!.node[0]!.domain = 'ai.onnx';
    expect(checkModel(m, ORT)).toMatchObject([{ status: 'unsupported' }]);
  });
});

describe('ort-cpu: ops without a kernel that ONNX Runtime runs as their function body', () => {
  it('HardSwish-14: its body (HardSigmoid, Mul) has kernels, so it runs', () => {
    expect(onnxSchema('ai.onnx', 'HardSwish', 14)?.functionOps).toEqual(['HardSigmoid', 'Mul']);
    expect(checkModel(oneNode('HardSwish', 14, [['x', F, [3]]], [['y', F, [3]]]), ORT)).toEqual([]);
  });
  it('a body built per node (SoftmaxCrossEntropyLoss) or newer than ONNX 1.12 (Mish-18): unknown, not unsupported', () => {
    const sce = oneNode('SoftmaxCrossEntropyLoss', 13, [['s', F, [2, 3]], ['l', DT.INT64, [2]]], [['y', F]]);
    expect(checkModel(sce, ORT)).toMatchObject([{ status: 'unknown', reason: expect.stringMatching(/function body/) }]);
    expect(checkModel(oneNode('Mish', 18, [['x', F, [3]]], [['y', F, [3]]]), ORT)).toMatchObject([{ status: 'unknown' }]);
  });
  it('CastLike: no kernel, but its body is one Cast (an override with its note)', () => {
    expect(checkModel(oneNode('CastLike', 21, [['x', F, [3]], ['like', DT.INT8, [1]]], [['y', DT.INT8]]), ORT)).toEqual([]);
  });
  it('Constant needs no kernel (an override with its note)', () => {
    expect(checkModel(oneNode('Constant', 13, [], [['c', F]]), ORT)).toEqual([]);
    expect(opTable('ort-cpu')!.ops.get('ai.onnx')!.get('Constant')![0]!.notes).toMatch(/^OpFit override: no kernel needed/);
  });
});

describe('graph structure', () => {
  it('a node inside an If branch is judged, with types from the enclosing graph', () => {
    const branch = (name: string) => graph({ name, nodes: [node('Add', ['a', 'b'], [`${name}_y`])], outputs: [valueInfo(`${name}_y`, DT.INT8, [3])] });
    const iff = node('If', ['c'], ['y'], { name: 'if', attribute: [graphAttr('then_branch', branch('t')), graphAttr('else_branch', branch('e'))] });
    const inputs = [valueInfo('c', DT.BOOL, []), valueInfo('a', DT.INT8, [3]), valueInfo('b', DT.INT8, [3])];
    const m = model(graph({ nodes: [iff], inputs, outputs: [valueInfo('y', DT.INT8, [3])] }), 13);
    expect(checkModel(m, ORT).map((f) => [f.nodeId, f.op, f.status])).toEqual([
      ['0.then_branch/0', 'Add', 'unsupported'],
      ['0.else_branch/0', 'Add', 'unsupported'],
    ]);
  });
  it('a call to a function the model defines: unknown (its body is what runs)', () => {
    const m = binary('MyAdd', 13, F);
    m.graph!.node[0]!.domain = 'local';
    m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'local', version: 1n }));
    m.functions.push(create(FunctionProtoSchema, { name: 'MyAdd', domain: 'local', input: ['a', 'b'], output: ['y'], node: [node('Add', ['a', 'b'], ['y'])] }));
    expect(checkModel(m, ORT)).toMatchObject([{ status: 'unknown', reason: expect.stringMatching(/function this model defines/) }]);
  });
});

describe('profiles: absent status, unknown table', () => {
  it("absent: 'unknown' reports an op the table lacks as unknown", () => {
    const m = oneNode('Adagrad', 17, [['x', F, [3]]], [['y', F]], { domain: 'ai.onnx.preview.training' });
    expect(checkModel(m, tableTarget('ort-cpu', 'unknown'))).toMatchObject([{ status: 'unknown', reason: expect.stringMatching(/no kernel for Adagrad .*not known/) }]);
  });
  it('a profile naming a table OpFit does not have: unknown, with the profile\'s source', () => {
    expect(checkModel(binary('Add', 13, F), tableTarget('no-such-table'))).toMatchObject([{ status: 'unknown', source: 'profile source for no-such-table' }]);
  });
});

describe('the other tables', () => {
  it('every table id loads and cites its source line', () => {
    expect([...OP_TABLE_IDS].sort()).toEqual(['openvino', 'ort-cpu', 'ort-dml', 'ort-web-webgl', 'ort-web-webgpu', 'ort-web-webnn', 'tensorrt-10.1', 'tensorrt-10.15'].sort());
    for (const id of OP_TABLE_IDS) {
      const t = opTable(id)!;
      expect(t.source).toMatch(/^\S+\/\S+ \S+/);
      expect(t.ops.get('ai.onnx')!.size, id).toBeGreaterThan(80);
    }
    expect(opTable('tensorrt-10.1')!.source).toMatch(/onnx\/onnx-tensorrt docs\/operators\.md 96e78110/);
  });
  it('WebGL: an op listed as not supported, and a range gap', () => {
    const webgl = tableTarget('ort-web-webgl');
    expect(checkModel(oneNode('CumSum', 14, [['x', F, [3]], ['ax', DT.INT32, []]], [['y', F]]), webgl))
      .toMatchObject([{ status: 'unsupported', reason: 'ONNX Runtime Web (WebGL) does not support CumSum.', source: opTable('ort-web-webgl')!.source }]);
    expect(checkModel(oneNode('Abs', 5, [['x', F, [3]]], [['y', F]]), webgl))
      .toMatchObject([{ reason: 'ONNX Runtime Web (WebGL) has no kernel for Abs at opset 5 (its kernels cover opsets 6–12, 13+).' }]);
    // Override: the doc says Constant is unsupported; onnxjs's graph loader turns it into a value.
    expect(checkModel(oneNode('Constant', 13, [], [['c', F]]), webgl)).toEqual([]);
  });
  it('TensorRT: no per-op versions; restrictions kept as notes; "supported=N" rows and their reason', () => {
    const trt = tableTarget('tensorrt-10.1');
    expect(checkModel(oneNode('CumSum', 14, [['x', F, [3]], ['ax', DT.INT32, []]], [['y', F]]), trt)).toEqual([]);
    expect(opTable('tensorrt-10.1')!.ops.get('ai.onnx')!.get('CumSum')![0]).toMatchObject({ types: 'FP32,FP16,BF16', notes: 'supported=Y; axis must be an initializer', supported: true });
    expect(checkModel(oneNode('Bernoulli', 15, [['x', F, [3]]], [['y', F]]), trt)).toMatchObject([{ status: 'unsupported', reason: 'TensorRT 10.1 ONNX parser does not support Bernoulli.' }]);
    // TensorRT's types are not named per input: never checked against a node's dtypes.
    expect(checkModel(binary('Add', 13, DT.INT8), trt)).toEqual([]);
  });
  it('OpenVINO: start versions only, each range ends where the next begins', () => {
    const ov = tableTarget('openvino');
    expect(checkModel(oneNode('Abs', 5, [['x', F, [3]]], [['y', F]]), ov)).toEqual([]);
    expect(checkModel(oneNode('LpPool', 11, [['x', F, [1, 1, 4, 4]]], [['y', F]]), ov)).toMatchObject([{ status: 'unsupported', reason: 'OpenVINO ONNX frontend does not support LpPool.' }]);
  });
  it('DirectML: overlapping open rows, the most specific wins (LpPool-18 takes the 18+ row)', () => {
    const dml = tableTarget('ort-dml');
    expect(checkModel(oneNode('LpPool', 18, [['x', F, [1, 1, 4, 4]]], [['y', F]]), dml)).toEqual([]);
    expect(checkModel(oneNode('LpPool', 18, [['x', DT.DOUBLE, [1, 1, 4, 4]]], [['y', DT.DOUBLE]]), dml)).toEqual([]); // LpPool-18 is newer than ONNX 1.12: types not checked
    expect(checkModel(oneNode('LpPool', 11, [['x', DT.DOUBLE, [1, 1, 4, 4]]], [['y', DT.DOUBLE]]), dml))
      .toMatchObject([{ reason: expect.stringMatching(/^ONNX Runtime DirectML has no double kernel for LpPool at opset 11/) }]);
  });
});
