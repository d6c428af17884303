// model × target → findings, on tiny PRelu models built here, for each built-in target.
import { describe, expect, it } from 'vitest';
import { checkModel, type Finding } from '../../src/targets/check';
import { TARGETS, findTarget } from '../../src/targets/registry';
import { DT, preluModel } from '../helpers/build';

const C = 16;
const NCHW = [1, C, 48, 48];
const slopes = Array.from({ length: C }, (_, i) => 0.01 * (i + 1));
const check = (m: ReturnType<typeof preluModel>, target: string): Finding[] => checkModel(m, findTarget(target)!);

describe('a [16] slope on [1,16,48,48] (opset ≥ 7): the classic exporter bug', () => {
  for (const opset of [7, 9, 16]) {
    const m = preluModel({ xShape: NCHW, slopeShape: [C], slope: slopes, opset });
    for (const target of ['onnxruntime', 'tensorrt-8']) {
      it(`${target}, opset ${opset}: a constraint that names both shapes and the per-channel fix`, () => {
        const f = check(m, target);
        expect(f).toHaveLength(1);
        expect(f[0]).toMatchObject({ nodeId: '0', node: 'prelu', op: 'PRelu', status: 'constraint', index: 0, path: [] });
        expect(f[0]!.reason).toContain('[16]');
        expect(f[0]!.reason).toContain('[1,16,48,48]');
        expect(f[0]!.reason).toMatch(/does not broadcast/);
        expect(f[0]!.reason).toMatch(/Reshaping the slope to \[16,1,1\] keeps its per-channel meaning/);
        expect(f[0]!.source).toBeTruthy();
      });
    }
  }
  it('tensorrt-5 and no-prelu: PRelu is unsupported outright', () => {
    const m = preluModel({ xShape: NCHW, slopeShape: [C], slope: slopes });
    expect(check(m, 'tensorrt-5')).toMatchObject([{ status: 'unsupported', reason: expect.stringMatching(/No importer registered for op: PRelu/) }]);
    expect(check(m, 'no-prelu')).toMatchObject([{ status: 'unsupported', reason: 'This target has no PRelu operator.' }]);
  });
});

describe('slopes that broadcast are fine where PRelu exists', () => {
  it.each([
    ['[C,1,1]', [C, 1, 1]],
    ['[1,C,1,1]', [1, C, 1, 1]],
    ['[1]', [1]],
    ['scalar []', []],
  ])('%s on [1,16,48,48]', (_, shape) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const m = preluModel({ xShape: NCHW, slopeShape: shape, slope: slopes.slice(0, n) });
    expect(check(m, 'onnxruntime')).toEqual([]);
    expect(check(m, 'tensorrt-8')).toEqual([]);
    expect(check(m, 'tensorrt-5')).toMatchObject([{ status: 'unsupported' }]);
    expect(check(m, 'no-prelu')).toMatchObject([{ status: 'unsupported' }]);
  });

  it('[16] on [1,16,48,16]: valid ONNX (last axis), never reported', () => {
    const m = preluModel({ xShape: [1, C, 48, C], slopeShape: [C], slope: slopes });
    expect(check(m, 'onnxruntime')).toEqual([]);
    expect(check(m, 'tensorrt-8')).toEqual([]);
  });

  it('[16] on [N,16,H,W]: cannot be decided, said so (not counted as incompatible)', () => {
    const m = preluModel({ xShape: ['N', C, 'H', 'W'], slopeShape: [C], slope: slopes });
    expect(check(m, 'onnxruntime')).toMatchObject([{ status: 'unknown', reason: expect.stringMatching(/cannot be checked/) }]);
  });
});

describe('an opset-6 [C] slope (legacy: per channel)', () => {
  const m = preluModel({ xShape: [1, 3, 4, 5], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 6 });
  it('onnxruntime: unsupported (no kernel below opset 7), explaining the meaning change', () => {
    const f = check(m, 'onnxruntime');
    expect(f).toMatchObject([{ status: 'unsupported', op: 'PRelu' }]);
    expect(f[0]!.reason).toMatch(/no PRelu for opset 6/);
    expect(f[0]!.reason).toMatch(/per channel/);
    expect(f[0]!.reason).toMatch(/\[3,1,1\]/);
    expect(f[0]!.source).toMatch(/OperatorKernels\.md/);
  });
  it('tensorrt-8: differs (it would broadcast the slope from the last axis)', () => {
    const f = check(m, 'tensorrt-8');
    expect(f).toMatchObject([{ status: 'differs' }]);
    expect(f[0]!.reason).toMatch(/always broadcasts the slope from the last axis/);
  });
  it('a single-value opset-6 slope means the same under both rules: onnxruntime still lacks the kernel, tensorrt-8 is fine', () => {
    const one = preluModel({ xShape: [1, 3, 4, 5], slopeShape: [1], slope: [0.1], opset: 6 });
    expect(check(one, 'onnxruntime')).toMatchObject([{ status: 'unsupported', reason: expect.stringMatching(/must move to opset 7 or the node be rewritten/) }]);
    expect(check(one, 'tensorrt-8')).toEqual([]);
  });
});

describe('an int32 PRelu (opset 9)', () => {
  const m = preluModel({ xShape: [1, 3, 4, 4], slopeShape: [3, 1, 1], slope: [1, 2, 3], opset: 9, dtype: DT.INT32 });
  it('tensorrt-8: a dtype constraint naming int32', () => {
    expect(check(m, 'tensorrt-8')).toMatchObject([{ status: 'constraint', reason: 'The input is int32, but TensorRT 7–8 (ONNX parser) runs PRelu on float32, float16, int8 only.' }]);
  });
  it('onnxruntime at opset 9: float32 and float16 only (measured: tests/conformance/ort-prelu-dtypes.test.ts)', () => {
    expect(check(m, 'onnxruntime')).toMatchObject([{ status: 'constraint', reason: expect.stringMatching(/int32.*float32, float16 only/) }]);
  });
  it('float16 is fine on tensorrt-8 and on onnxruntime (which has a float16 kernel its docs do not list)', () => {
    const h = preluModel({ xShape: [1, 3, 4, 4], slopeShape: [3, 1, 1], slope: [1, 2, 3], dtype: DT.FLOAT16 });
    expect(check(h, 'tensorrt-8')).toEqual([]);
    expect(check(h, 'onnxruntime')).toEqual([]);
  });
  it('onnxruntime at opset 16: int32 runs through PRelu-16\'s function body', () => {
    const i16 = preluModel({ xShape: [1, 3, 4, 4], slopeShape: [3, 1, 1], slope: [1, 2, 3], opset: 16, dtype: DT.INT32 });
    expect(check(i16, 'onnxruntime')).toEqual([]);
  });
});

describe('no-prelu', () => {
  it('every PRelu is unsupported, whatever its slope, opset or dtype', () => {
    const models = [
      preluModel({ xShape: NCHW, slopeShape: [C, 1, 1], slope: slopes }),
      preluModel({ xShape: NCHW, slopeShape: [C], slope: slopes, opset: 6 }),
      preluModel({ xShape: [2, 3], slopeShape: [3], slope: [1, 2, 3], opset: 9, dtype: DT.INT64 }),
    ];
    for (const m of models) expect(check(m, 'no-prelu')).toMatchObject([{ status: 'unsupported', op: 'PRelu', source: 'OpFit no-prelu target definition' }]);
  });
});

it('the registry starts with the four original targets, each rule citing sources', () => {
  expect(TARGETS.map((t) => t.id).slice(0, 4)).toEqual(['onnxruntime', 'tensorrt-5', 'tensorrt-8', 'no-prelu']);
  for (const t of TARGETS) for (const r of [...t.prelu, ...t.unsupportedOps]) expect(r.source.length).toBeGreaterThan(10);
});
