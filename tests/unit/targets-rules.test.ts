// Each PRelu rule kind on tiny models built here, with the answer worked out by hand from ONNX's
// broadcasting rule and the target facts in ../shared/reference/prelu-targets.md.
import { describe, expect, it } from 'vitest';
import { classifySlope, preluFacts } from '../../src/graph/prelu';
import { allGraphs } from '../../src/graph/scope';
import { checkModel, type Finding } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import type { PreluRule, TargetProfile } from '../../src/targets/types';
import { DT, graph, makeTensor, model, node, preluModel, tensorAttr, valueInfo, type DimSpec } from '../helpers/build';

const values = (n: number, f = (i: number) => 0.1 * (i + 1)) => Array.from({ length: n }, (_, i) => f(i));
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
const m = (xShape: DimSpec[], slopeShape: number[], opset = 16, slope = values(size(slopeShape))) => preluModel({ xShape, slopeShape, slope, opset });
const facts = (mm: ReturnType<typeof preluModel>) => preluFacts(mm, allGraphs(mm)[0]!, 0);

/** A profile with just these PRelu rules, no per-op data. */
const custom = (prelu: PreluRule[], extra: Partial<TargetProfile> = {}): TargetProfile => ({
  id: 'test-target', name: 'Test target', version: '1', description: 'built in a test', sources: ['this test'], unsupportedOps: [], prelu, ...extra,
});
const src = 'this test';
const check = (mm: ReturnType<typeof preluModel>, t: TargetProfile | string): Finding[] => checkModel(mm, typeof t === 'string' ? findTarget(t)! : t);

describe('classifySlope', () => {
  it.each([
    ['[] on NCHW', [1, 16, 4, 5], [], 'scalar'],
    ['[1] on NCHW', [1, 16, 4, 5], [1], 'scalar'],
    ['[1,1,1] on NCHW (gtcrn)', [1, 16, 4, 5], [1, 1, 1], 'scalar'],
    ['[C,1,1] on NCHW (minifasnet)', [1, 16, 4, 5], [16, 1, 1], 'channel'],
    ['[1,C,1,1] on NCHW (face-landmark)', [1, 16, 4, 5], [1, 16, 1, 1], 'channel'],
    ['[C] on [N,C]: axis 1 is also the last axis', [2, 3], [3], 'channel'],
    ['[C,1] on [N,C,L]', [1, 8, 5], [8, 1], 'channel'],
    ['[W] on NCHW', [1, 16, 4, 5], [5], 'last-axis'],
    ['[1,1,1,W] on NCHW', [1, 16, 4, 5], [1, 1, 1, 5], 'last-axis'],
    ['[L] on [N,C,L] (test_prelu_broadcast)', [3, 4, 5], [5], 'last-axis'],
    ['[H,1] on NCHW: one non-1 axis, in the middle', [1, 16, 4, 5], [4, 1], 'elementwise'],
    ['[H,W] on NCHW', [1, 16, 4, 5], [4, 5], 'elementwise'],
    ['[C,H,W] on NCHW', [1, 16, 4, 5], [16, 4, 5], 'elementwise'],
    ['X-shaped slope (test_prelu_example)', [3, 4, 5], [3, 4, 5], 'elementwise'],
  ] as const)('%s → %s', (_, x, s, want) => {
    expect(classifySlope(facts(m([...x], [...s])))).toBe(want);
  });
  it('opset 6: a [C] slope is per channel, as PRelu-6 meant it', () => {
    expect(classifySlope(facts(m([1, 16, 4, 5], [16], 6)))).toBe('channel');
    expect(classifySlope(facts(m([2, 3, 4], [3], 6)))).toBe('channel');
  });
  it('undefined when the slope does not broadcast or the input rank is not known', () => {
    expect(classifySlope(facts(m([1, 16, 4, 5], [16])))).toBeUndefined(); // [16] lines up with W=5
    expect(classifySlope(facts(m([16, 4], [2, 16, 4])))).toBeUndefined(); // rank too high
    const noX = preluModel({ xShape: [1, 16, 4, 5], slopeShape: [16, 1, 1], slope: values(16) });
    noX.graph!.input[0]!.type = undefined;
    expect(classifySlope(facts(noX))).toBeUndefined();
    const noXScalar = preluModel({ xShape: [1, 16, 4, 5], slopeShape: [1, 1, 1], slope: [0.25] });
    noXScalar.graph!.input[0]!.type = undefined;
    expect(classifySlope(facts(noXScalar))).toBe('scalar'); // one value is one value whatever the input
  });
  it('symbolic dims: rank is enough to place the slope', () => {
    expect(classifySlope(facts(m(['N', 16, 'H', 'W'], [16, 1, 1])))).toBe('channel');
    expect(classifySlope(facts(m(['N', 16, 'H', 'W'], [1, 1, 1, 7])))).toBe('last-axis');
  });
});

/** y = PRelu(x, s) where s comes from somewhere other than an initializer. */
function slopeFrom(kind: 'graph-input' | 'constant' | 'computed'): ReturnType<typeof preluModel> {
  const x = valueInfo('x', DT.FLOAT, [1, 3, 4, 4]);
  const y = valueInfo('y', DT.FLOAT, [1, 3, 4, 4]);
  const s = makeTensor('s', DT.FLOAT, [3, 1, 1], [0.1, 0.2, 0.3]);
  if (kind === 'graph-input') {
    return model(graph({ nodes: [node('PRelu', ['x', 's'], ['y'], { name: 'p' })], inputs: [x, valueInfo('s', DT.FLOAT, [3, 1, 1])], outputs: [y] }), 16);
  }
  if (kind === 'constant') {
    return model(graph({ nodes: [node('Constant', [], ['s'], { attribute: [tensorAttr('value', s)] }), node('PRelu', ['x', 's'], ['y'], { name: 'p' })], inputs: [x], outputs: [y] }), 16);
  }
  const half = makeTensor('half', DT.FLOAT, [], [0.5]);
  return model(graph({ nodes: [node('Mul', ['s0', 'half'], ['s']), node('PRelu', ['x', 's'], ['y'], { name: 'p' })], inputs: [x], outputs: [y], initializers: [{ ...s, name: 's0' } as typeof s, half] }), 16);
}

describe('slope-constant', () => {
  const t = custom([{ kind: 'slope-constant', source: src }]);
  it('an initializer or a Constant node passes', () => {
    expect(check(m([1, 3, 4, 4], [3, 1, 1]), t)).toEqual([]);
    expect(check(slopeFrom('constant'), t)).toEqual([]);
  });
  it('a graph input or a computed slope is a constraint that says where the slope comes from', () => {
    expect(check(slopeFrom('graph-input'), t)).toMatchObject([{ op: 'PRelu', status: 'constraint', reason: expect.stringMatching(/"s" is a graph input, fed at run time.*needs the slope as a constant/) }]);
    const computed = check(slopeFrom('computed'), t).filter((f) => f.op === 'PRelu');
    expect(computed).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/computed at run time by a Mul node/) }]);
  });
});

describe('slope-layouts', () => {
  const channelOnly = custom([{ kind: 'slope-layouts', allowed: ['channel'], source: src }]);
  it('names both shapes, the layout found and the layouts allowed', () => {
    const f = check(m([1, 16, 4, 5], [5]), channelOnly);
    expect(f).toMatchObject([{ status: 'constraint' }]);
    expect(f[0]!.reason).toBe('Slope [5] on input [1,16,4,5] is one value per position of the last axis; Test target takes only one value per channel (axis 1).');
  });
  it('a single value gets the LeakyRelu remark', () => {
    expect(check(m([1, 16, 4, 5], [1]), channelOnly)[0]!.reason).toMatch(/is a single value;.*LeakyRelu/);
  });
  it('allowed layouts pass', () => {
    expect(check(m([1, 16, 4, 5], [1, 16, 1, 1]), channelOnly)).toEqual([]);
    expect(check(m([1, 16, 4, 5], [16, 4, 5]), custom([{ kind: 'slope-layouts', allowed: ['elementwise'], source: src }]))).toEqual([]);
  });
  it('a slope that does not broadcast fits no layout; an unknown input shape is unknown', () => {
    expect(check(m([1, 16, 4, 5], [16]), channelOnly)).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/does not broadcast.*\[16,1,1\]/) }]);
    const noX = m([1, 16, 4, 5], [16, 1, 1]);
    noX.graph!.input[0]!.type = undefined;
    expect(check(noX, channelOnly)).toMatchObject([{ status: 'unknown' }]);
  });
});

describe('x-ranks, slope-same-rank, slope-single-axis, slope-uniform', () => {
  it('x-ranks: outside [min,max] is a constraint naming the rank', () => {
    const t = custom([{ kind: 'x-ranks', min: 3, max: 4, source: src }]);
    expect(check(m([2, 3], [3]), t)).toMatchObject([{ status: 'constraint', reason: 'The input [2,3] has rank 2; Test target runs PRelu on inputs of rank 3 to 4 only.' }]);
    expect(check(m([2, 3, 4, 5, 6], [1]), t)).toMatchObject([{ status: 'constraint' }]);
    expect(check(m([2, 3, 4], [1]), t)).toEqual([]);
  });
  it('slope-same-rank: [C,1,1] on rank 4 fails and the full-rank reshape is offered; 1-D and single values pass', () => {
    const t = custom([{ kind: 'slope-same-rank', source: src }]);
    expect(check(m([1, 64, 8, 8], [64, 1, 1]), t)).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/rank 3 but the input \[1,64,8,8\] has rank 4.*\[1,64,1,1\] keeps its meaning/) }]);
    expect(check(m([1, 64, 8, 8], [1, 64, 1, 1]), t)).toEqual([]);
    expect(check(m([1, 64, 8, 8], [8]), t)).toEqual([]);
    expect(check(m([1, 64, 8, 8], [1, 1, 1]), t)).toEqual([]);
  });
  it('slope-single-axis: two non-1 axes fail', () => {
    const t = custom([{ kind: 'slope-single-axis', source: src }]);
    expect(check(m([3, 4, 5], [4, 5]), t)).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/varies along 2 axes/) }]);
    expect(check(m([3, 4, 5], [4, 1]), t)).toEqual([]);
  });
  it('slope-uniform on ranks 3 and 5 only: different values fail there, rank 4 is free', () => {
    const t = custom([{ kind: 'slope-uniform', ranks: [3, 5], source: src }]);
    expect(check(m([1, 3, 7], [3, 1]), t)).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/holds 3 different values.*rank-3 inputs/) }]);
    expect(check(m([1, 3, 7], [3, 1], 16, [0.25, 0.25, 0.25]), t)).toEqual([]);
    expect(check(m([1, 3, 7, 7], [3, 1, 1]), t)).toEqual([]);
  });
});

describe('dtypes by opset, dtypes-rejected, max-opset', () => {
  const int32 = (opset: number) => preluModel({ xShape: [1, 3, 4, 4], slopeShape: [3, 1, 1], slope: [1, 2, 3], opset, dtype: DT.INT32 });
  it('ort-dml: int32 PRelu is a constraint at opset 8 (float only), fine from opset 9', () => {
    expect(check(int32(8), 'ort-dml')).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/int32.*float32, float16 only at opset 8/) }]);
    expect(check(int32(9), 'ort-dml')).toEqual([]);
    expect(check(int32(16), 'ort-dml')).toEqual([]);
  });
  it('tensorrt-6 rejects int32 only', () => {
    expect(check(int32(9), 'tensorrt-6')).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/int32, and TensorRT 6 .* rejects PRelu on int32/) }]);
    expect(check(m([1, 3, 4, 4], [3, 1, 1]), 'tensorrt-6')).toEqual([]);
  });
  it('onnx-opset-N: a newer model is unsupported, PRelu included', () => {
    expect(check(m([1, 3, 4, 4], [3, 1, 1], 16), 'onnx-opset-13')).toMatchObject([{ status: 'unsupported', reason: 'The model uses opset 16; ONNX opset 13 goes up to opset 13.' }]);
    expect(check(m([1, 3, 4, 4], [3, 1, 1], 13), 'onnx-opset-13')).toEqual([]);
    expect(check(m([1, 3, 4, 4], [3], 13), 'onnx-opset-13')).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/does not broadcast/) }]);
  });
});

describe('OpenVINO: a 1-D slope as long as axis 1 is applied per channel (openvino#35958)', () => {
  it('X [1,3,2,3], slope [3]: valid ONNX (last axis), OpenVINO reads it per channel → differs', () => {
    const mm = m([1, 3, 2, 3], [3]);
    expect(check(mm, 'onnxruntime')).toEqual([]);
    const f = check(mm, 'openvino');
    expect(f).toMatchObject([{ op: 'PRelu', status: 'differs', source: expect.stringMatching(/35958/) }]);
    expect(f[0]!.reason).toMatch(/Slope \[3\] on input \[1,3,2,3\]/);
    expect(f[0]!.reason).toMatch(/per channel/);
    expect(f[0]!.reason).toMatch(/\[1,1,1,3\] keeps the ONNX meaning/);
  });
  it('the whole kind: any rank ≥ 3 whose axis 1 and last axis have the slope length', () => {
    expect(check(m([2, 4, 4], [4]), 'openvino')).toMatchObject([{ status: 'differs' }]);
    expect(check(m([1, 5, 2, 3, 5], [5]), 'openvino')).toMatchObject([{ status: 'differs' }]);
  });
  it('no difference: rank 2 (axis 1 is last), a length that is not the channel count, full-rank slopes, opset 6', () => {
    expect(check(m([2, 3], [3]), 'openvino')).toEqual([]);
    expect(check(m([3, 4, 5], [5]), 'openvino')).toEqual([]); // test_prelu_broadcast: 5 ≠ 4
    expect(check(m([1, 3, 2, 3], [1, 1, 1, 3]), 'openvino')).toEqual([]);
    expect(check(m([1, 3, 2, 3], [3, 1, 1]), 'openvino')).toEqual([]);
    expect(check(m([2, 3, 4, 3], [3], 6), 'openvino')).toEqual([]); // opset 6 meant per channel
  });
  it('a last axis of unknown size: unknown, saying when it would differ', () => {
    expect(check(m([1, 3, 'W'], [3]), 'openvino')).toMatchObject([{ status: 'unknown', reason: expect.stringMatching(/If that axis has 3 entries at run time, the two differ/) }]);
  });
  it('a slope that broadcasts neither way is a constraint', () => {
    expect(check(m([1, 3, 5, 6], [4]), 'openvino')).toMatchObject([{ status: 'constraint' }]);
  });
});

describe('ncnn: the slope is indexed by channel (or by row of a 2-D blob), whatever its shape', () => {
  it('ncnn#6056: X [1,64,32] (a 2-D blob h=64, w=32), slope [32] → differs, naming the shapes', () => {
    const f = check(m([1, 64, 32], [32]), 'ncnn');
    expect(f).toMatchObject([{ status: 'differs', source: expect.stringMatching(/prelu\.cpp/) }]);
    expect(f[0]!.reason).toMatch(/Slope \[32\] on input \[1,64,32\]/);
    expect(f[0]!.reason).toMatch(/indexed by its rows/);
    expect(f[0]!.reason).toMatch(/reads 64 slope values \(one per channel\) from a slope of 32/);
  });
  it('rank 3 and rank 4 with a last-axis or elementwise slope differ', () => {
    expect(check(m([1, 8, 8], [8]), 'ncnn')).toMatchObject([{ status: 'differs' }]); // equal lengths: still a different function
    expect(check(m([1, 16, 4, 5], [5]), 'ncnn')).toMatchObject([{ status: 'differs' }]);
    expect(check(m([1, 16, 4, 5], [16, 4, 5]), 'ncnn')).toMatchObject([{ status: 'differs' }]);
  });
  it('per-channel and single-value slopes match ONNX; [N,C] with [C] too (axis 1 is the last axis)', () => {
    expect(check(m([1, 8, 5], [8, 1]), 'ncnn')).toEqual([]);
    expect(check(m([1, 16, 4, 5], [16, 1, 1]), 'ncnn')).toEqual([]);
    expect(check(m([1, 16, 4, 5], [1, 1, 1]), 'ncnn')).toEqual([]);
    expect(check(m([2, 3], [3]), 'ncnn')).toEqual([]);
  });
  it('a rank-5 input is outside the layer (a 4-D blob)', () => {
    expect(check(m([1, 2, 3, 4, 5], [2, 1, 1, 1]), 'ncnn')).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/rank 5; ncnn .* rank 1 to 4 only/) }]);
  });
});

describe('undecidable rules do not hide decidable ones', () => {
  it('unknown input rank, single-value slope on Core ML: the layout rule still decides', () => {
    const mm = m([1, 16, 4, 5], [1, 1, 1]);
    mm.graph!.input[0]!.type = undefined;
    expect(check(mm, 'coreml-ios15')).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/single value/) }]);
  });
  it('and when nothing else is broken, the unknown is reported', () => {
    const mm = m([1, 16, 4, 5], [1, 16, 1, 1]);
    mm.graph!.input[0]!.type = undefined;
    expect(check(mm, 'tflite-micro')).toMatchObject([{ status: 'unknown', reason: expect.stringMatching(/rank is not known/) }]);
  });
});

describe('allowOps', () => {
  const relu = () => model(graph({ nodes: [node('Relu', ['x'], ['r']), node('Sigmoid', ['r'], ['y'])], inputs: [valueInfo('x', DT.FLOAT, [2])], outputs: [valueInfo('y', DT.FLOAT, [2])] }), 16);
  it('an allowed op runs whatever ops says; the others stay unknown', () => {
    const t = custom([{ kind: 'supported', source: src }], { ops: { kind: 'none' }, allowOps: [{ op: 'Relu' }] });
    expect(checkModel(relu(), t).map((f) => [f.op, f.status])).toEqual([['Sigmoid', 'unknown']]);
  });
  it('unsupportedOps still wins, and the domain must match', () => {
    const t = custom([], {
      ops: { kind: 'none' },
      allowOps: [{ op: 'Relu' }, { op: 'Sigmoid', domain: 'com.example' }],
      unsupportedOps: [{ op: 'Relu', reason: 'forbidden here', source: src }],
    });
    expect(checkModel(relu(), t).map((f) => [f.op, f.status])).toEqual([['Relu', 'unsupported'], ['Sigmoid', 'unknown']]);
  });
});
