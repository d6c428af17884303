// Acceptance (issue 3): for the 8 PReLU tests of the ONNX backend suite and the 5 fixture models,
// the PReLU finding each target gives, where the sourced facts decide it. Each cell was worked out
// by hand from ../shared/reference/prelu-targets.md and the models' shapes (below), not read off
// the checker. Every PRelu node of a model gets the cell's status ('-' = no PRelu finding).
//
// The models (read with src/graph/prelu.ts):
//   PReLU_1d / _2d / _3d            opset 6, X [2,3,4] / [2,3,4,5] / [2,3,4,5,6], slope [1]
//   PReLU_*_multiparam              the same X, slope [3] (legacy: per channel; values all 0.25)
//   prelu_broadcast                 opset 16, X [3,4,5], slope [5], a graph input
//   prelu_example                   opset 16, X [3,4,5], slope [3,4,5], a graph input
//   face-landmark                   opset 9, 23 × X [1,C,H,W], slope [1,C,1,1] initializer
//   gtcrn-full                      opset 11, 15 × X of unknown shape, slope [1,1,1]
//   gtcrn-s3 / gtcrn-simple         opset 16 / 11, 15 × X [1,16,T,F], slope [1,1,1]
//   minifasnet-v2                   opset 9, 33 × X [1,C,H,W], slope [C,1,1] initializer
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/onnx/model';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { backendPreluTests, backendTest, fixtureModels } from '../helpers/paths';

type Cell = '-' | 'U' | 'C' | 'D' | '?';
const STATUS = { U: 'unsupported', C: 'constraint', D: 'differs', '?': 'unknown' } as const;

// Columns: the models, in this order.
const MODELS = [
  'test_PReLU_1d', 'test_PReLU_1d_multiparam', 'test_PReLU_2d', 'test_PReLU_2d_multiparam', 'test_PReLU_3d', 'test_PReLU_3d_multiparam',
  'test_prelu_broadcast', 'test_prelu_example',
  'face-landmark', 'gtcrn-full', 'gtcrn-s3', 'gtcrn-simple', 'minifasnet-v2',
] as const;

/**
 * One row per target: 13 cells, one per model above, with why.
 * 1d 1dm 2d 2dm 3d 3dm | bcast example | face gtcrn-full gtcrn-s3 gtcrn-simple minifas
 */
const TABLE: [string, string, string][] = [
  // ORT has no PRelu kernel below opset 7 (OperatorKernels.md); everything else broadcasts and is float32.
  ['onnxruntime', 'U U U U U U  - -  - - - - -', 'no kernel for opset ≤ 6; all other slopes broadcast'],
  ['ort-web-wasm', 'U U U U U U  - -  - - - - -', 'the CPU kernels in wasm'],
  ['ort-web-webgl', 'U U U U U U  - -  - - - - -', 'WebGL PRelu starts at opset 7'],
  ['ort-web-webgpu', 'U U U U U U  U U  U U U U U', 'the JS WebGPU EP has no PRelu at all (falls back to CPU)'],
  ['ort-web-webgpu-native', 'U U U U U U  - -  - - - - -', 'PR #30512: opsets 7+'],
  ['ort-webnn', 'U U U U U U  C C  - - - - -', 'opset 7+; the WebNN CPU backend needs a constant slope (the opset-16 tests feed it)'],
  ['ort-dml', 'U U U U U U  - -  - - - - -', 'opset 7+; float32 everywhere'],
  // TensorRT: no importer in 5; from 6 the slope is broadcast numpy-style whatever the opset, so a legacy [3] slope is misread.
  ['tensorrt-5', 'U U U U U U  U U  U U U U U', 'no PRelu importer'],
  ['tensorrt-6', '- D - D - D  - -  - - - - -', 'legacy [3] misread; single values mean the same'],
  ['tensorrt-8', '- D - D - D  - -  - - - - -', 'as TensorRT 6'],
  ['tensorrt-10', '- D - D - D  - -  - - - - -', 'as TensorRT 7–8, FP32 here'],
  ['tensorrt-10-dla', '- D - D - D  C C  - - - - -', 'and the slope must be a build-time constant'],
  // TFLite family, judged on the ONNX node as an NCHW→NHWC converter carries it.
  ['tflite', '- - - - - -  - -  - - - - -', 'float32 PRELU with numpy broadcasting'],
  ['tflite-gpu', 'C - C - C -  C C  - C C C -', 'constant alpha, per channel (or full HWC): a single value is refused (tensorflow#25579)'],
  ['tflite-xnnpack', 'C - C - C -  C C  - C C C -', 'static slope, per channel only ([1,1,1,1] refused, tensorflow#65976)'],
  ['tflite-micro', '- - - - C C  - -  - ? - - -', 'at most 4-D (BroadcastPrelu4DSlow); gtcrn-full input rank unknown'],
  ['nnapi-api28', 'U U U U U U  U U  U U U U U', 'no PRELU before API 29'],
  ['nnapi-api29', '- - - - - -  - -  - - - - -', 'float32'],
  ['edgetpu', '- - - - - -  C C  - - - - -', 'alpha varies along the innermost (channel) axis at most'],
  ['ethos-u-vela-3.5', 'U U U U U U  U U  U U U U U', 'no PRELU before Vela 3.6'],
  ['ethos-u-vela', '- - - - - -  - -  - - - - -', 'generic constraints only'],
  ['coreml-ios15', 'C - C - C -  C C  - C C C -', 'constant [C] alpha matching axis 1 (single values refused); ranks 3/5 need equal alphas (the multiparam slopes are all 0.25)'],
  // Silent differences.
  ['openvino', '- - - - - -  - -  - - - - -', 'the Caffe heuristic fires only for 1-D slopes as long as axis 1: legacy [3] is per channel anyway; [5] on [3,4,5] is not (5 ≠ 4)'],
  ['tvm-relay', '- D - D - D  - -  - - - - -', 'broadcast_to_like for every opset'],
  ['tvm-relax-2025', '- D - D - D  - C  - - - - C', 'one non-1 axis only ([3,4,5]); lower-rank [C,1,1] refused'],
  ['tvm-relax', '- D - D - D  - -  - - - - -', 'after PRs #18658/#20115/#20149'],
  ['ncnn', '- - - - C C  C C  - ? - - -', 'constant slope; blobs up to 3-D (ONNX rank ≤ 4); per-channel reading matches every constant slope here'],
  ['mnn', '- - - - - -  C C  - - - - -', 'Slope should be Constant node!'],
  ['mnn-2019', 'U U U U U U  U U  U U U U U', 'NOT_SUPPORTED_OP (MNN#9)'],
  ['opencv-dnn', '- - - - - -  C C  - - - - -', 'getBlob needs an initializer'],
  ['rknn-toolkit2', '- - - - - -  C C  - - - - -', 'per-layer or per-channel slopes only'],
  ['webnn', '- - - - - -  - -  - - - - -', 'float32 is allowed'],
  ['caffe', '- - - - - -  C C  - ? - - -', 'learned blob, per channel or shared; gtcrn-full input rank unknown'],
  ['keras', '- - - - - -  C C  - - - - -', 'alpha is a layer weight'],
  ['directml-fl1', 'C C - - C C  C C  - ? - - -', 'feature level 1.0: 4-D only'],
  ['directml-fl5.1', '- - - - - -  - -  - ? - - -', '1-D to 8-D'],
  // Plain ONNX: a model newer than the target's opset is unsupported.
  ['onnx-opset-7', '- - - - - -  U U  U U U U U', 'opset 9, 11 and 16 models are too new'],
  ['onnx-opset-9', '- - - - - -  U U  - U U U -', 'opset 11 and 16 models are too new'],
  ['onnx-opset-11', '- - - - - -  U U  - - U - -', 'opset 16 models are too new'],
  ['onnx-opset-16', '- - - - - -  - -  - - - - -', 'everything is valid at opset 16'],
  ['no-prelu', 'U U U U U U  U U  U U U U U', 'no PRelu'],
];

const paths = new Map<string, string>([
  ...backendPreluTests().map((t) => [t, join(backendTest(t), 'model.onnx')] as const),
  ...fixtureModels().map((p) => [basename(p, '.onnx'), p] as const),
]);
const loaded = new Map<string, ReturnType<typeof readModel>>();
const load = (name: string) => {
  let m = loaded.get(name);
  if (!m) loaded.set(name, (m = readModel(new Uint8Array(readFileSync(paths.get(name)!)), name)));
  return m;
};

describe('fixtures × targets: the PReLU finding the facts decide', () => {
  it('the table covers the 8 backend PReLU tests and the 5 fixture models', () => {
    expect(backendPreluTests()).toHaveLength(8);
    expect(fixtureModels()).toHaveLength(5);
    expect([...paths.keys()].sort()).toEqual([...MODELS].sort());
    expect(dirname(paths.get('minifasnet-v2')!)).toMatch(/fixtures\/onnx$/);
  });

  for (const [id, row, why] of TABLE) {
    const cells = row.split(/\s+/) as Cell[];
    describe(`${id} (${why})`, () => {
      it('is a built-in target and the row has one cell per model', () => {
        expect(findTarget(id), id).toBeDefined();
        expect(cells).toHaveLength(MODELS.length);
      });
      MODELS.forEach((name, i) => {
        const cell = cells[i]!;
        it(`${name}: ${cell === '-' ? 'no PRelu finding' : STATUS[cell as keyof typeof STATUS]}`, () => {
          const model = load(name);
          const prelus = checkModel(model, findTarget(id)!).filter((f) => f.op === 'PRelu');
          if (cell === '-') {
            expect(prelus, prelus[0]?.reason).toEqual([]);
            return;
          }
          const count = model.graph!.node.filter((n) => n.opType === 'PRelu').length;
          expect(prelus.length, `${name} has ${count} PRelu`).toBe(count);
          for (const f of prelus) {
            expect(f.status, f.reason).toBe(STATUS[cell as keyof typeof STATUS]);
            expect(f.source.length, 'every finding cites a source').toBeGreaterThan(10);
          }
        });
      });
    });
  }
});
