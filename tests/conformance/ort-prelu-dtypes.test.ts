// The onnxruntime profile's PRelu type rules against the runtime itself: for every opset 7–22 and
// every type PRelu can have, OpFit flags the node exactly when onnxruntime-node fails to create a
// session for it. (docs/OperatorKernels.md lists float only; the runtime has float16 too, and runs
// other types through PRelu-16's function body at opsets 16–18.)
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { writeModel } from '../../src/onnx/model';
import { checkModel, INCOMPATIBLE } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { DT, preluModel } from '../helpers/build';

// bfloat16 is left out: the Node binding cannot describe bfloat16 tensors, so a failure there says
// nothing about the runtime (see tests/conformance/ort-kernels.test.ts).
const TYPES = { float16: DT.FLOAT16, float32: DT.FLOAT, float64: DT.DOUBLE, int32: DT.INT32, int64: DT.INT64, uint32: DT.UINT32, uint64: DT.UINT64 };
const ort_ = findTarget('onnxruntime')!;

describe('ONNX Runtime PRelu types: OpFit agrees with onnxruntime-node', () => {
  for (let opset = 7; opset <= 22; opset++) {
    for (const [name, dt] of Object.entries(TYPES)) {
      // Integer PRelu exists from opset 9; before that the model itself is invalid.
      if (opset < 9 && name.startsWith('int') || opset < 9 && name.startsWith('uint')) continue;
      it(`opset ${opset}, ${name}`, async () => {
        const model = preluModel({ xShape: [2, 3], slopeShape: [3], slope: [1, 2, 3], opset, dtype: dt });
        let runs = true;
        let why = '';
        try {
          const s = await ort.InferenceSession.create(writeModel(model), { logSeverityLevel: 3 });
          await s.release();
        } catch (e) {
          runs = false;
          why = (e as Error).message;
        }
        const flagged = checkModel(model, ort_).some((f) => INCOMPATIBLE.has(f.status));
        expect({ flagged, why: flagged ? '' : why.slice(0, 120) }).toEqual({ flagged: !runs, why: '' });
      });
    }
  }
});
