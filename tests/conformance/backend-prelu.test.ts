// Acceptance (issue 2): for every PReLU test of the ONNX backend suite (test_PReLU_* at opset 6,
// test_prelu_* at opset 16) and each target onnxruntime and no-prelu, `opfit convert` writes a
// model that ONNX Runtime runs and whose outputs match test_data_set_0 (relative 1e-5).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/onnx/model';
import { CLI, OUT, backendPreluTests, backendTest } from '../helpers/paths';
import { maxRelError, readDataSet, run, toOrt } from '../helpers/ort';
import * as ort from 'onnxruntime-node';

const tests = backendPreluTests();

describe('ONNX backend PReLU tests, converted by the CLI, run in ONNX Runtime', () => {
  it('finds all 8 PReLU backend tests', () => expect(tests).toHaveLength(8));

  for (const target of ['onnxruntime', 'no-prelu']) {
    for (const name of tests) {
      it(`${name} → ${target}`, async () => {
        const dir = join(OUT, 'backend', target);
        mkdirSync(dir, { recursive: true });
        const out = join(dir, `${name}.onnx`);
        execFileSync('node', [CLI, 'convert', join(backendTest(name), 'model.onnx'), '--target', target, '-o', out]);
        const bytes = new Uint8Array(readFileSync(out));
        const model = readModel(bytes);
        const ops = model.graph!.node.map((n) => n.opType);
        if (target === 'no-prelu') expect(ops).not.toContain('PRelu');

        const { inputs, outputs } = readDataSet(join(backendTest(name), 'test_data_set_0'));
        const session = await ort.InferenceSession.create(bytes);
        const feeds = Object.fromEntries(session.inputNames.map((n, i) => [n, toOrt(inputs[i]!)]));
        await session.release();
        const got = await run(bytes, feeds);
        model.graph!.output.forEach((o, i) => {
          expect(maxRelError(got[o.name]!, outputs[i]!.values)).toBeLessThanOrEqual(1e-5);
        });
      });
    }
  }
});
