// Regression (found by a trial user): input [N,16,H,W] with a [16] slope at opset 13 is valid when
// W = 16 at run time (the slope then broadcasts over the last axis). A rewrite must keep that
// meaning, never "fix" it to per channel; ONNX Runtime runs both and must agree.
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { writeModel } from '../../src/onnx/model';
import { fixAll } from '../../src/rewrites/choose';
import { findTarget } from '../../src/targets/registry';
import { checkModel } from '../../src/targets/check';
import { preluModel } from '../helpers/build';

const slope = Array.from({ length: 16 }, (_, i) => 0.1 + 0.02 * i);
const model = preluModel({ xShape: ['N', 16, 'H', 'W'], slopeShape: [16], slope, opset: 13 });

async function run(bytes: Uint8Array, x: Float32Array): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', x, [1, 16, 2, 16]) });
  await s.release();
  return Array.from(out.y!.data as Float32Array);
}

describe('a [C] slope on an input whose last axis is symbolic', () => {
  it('is "unknown" for onnxruntime, not a constraint', () => {
    const f = checkModel(model, findTarget('onnxruntime')!);
    expect(f.map((x) => x.status)).toEqual(['unknown']);
  });

  for (const target of ['no-prelu', 'tensorrt-5']) {
    it(`keeps last-axis broadcasting when rewritten for ${target}`, async () => {
      const r = fixAll(model, findTarget(target)!);
      expect(r.picks).toHaveLength(1);
      expect(r.notes.join(' ')).not.toMatch(/per channel/);
      const x = Float32Array.from({ length: 16 * 2 * 16 }, (_, i) => -1 - (i % 7));
      expect(await run(writeModel(r.model), x)).toEqual(await run(writeModel(model), x));
    });
  }
});
