// "Verify" end to end on real models with onnxruntime-node: the same core the app's worker runs
// with onnxruntime-web. The original and the converted model get the same inputs; every output is
// compared. An original ONNX Runtime cannot run is reported as such, never as a pass.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { readModel, writeModel } from '../../src/onnx/model';
import { DT } from '../../src/onnx/dtypes';
import { fixAll } from '../../src/rewrites/choose';
import { findTarget } from '../../src/targets/registry';
import { InputError } from '../../src/verify/inputs';
import { verifyModels, type Progress } from '../../src/verify/verify';
import type { OrtLike } from '../../src/verify/types';
import { SHARED } from '../helpers/paths';
import { preluModel, valueInfo } from '../helpers/build';

ort.env.logLevel = 'error';
const ORT = ort as unknown as OrtLike;
const NO_PRELU = findTarget('no-prelu')!;
const MINIFASNET = new Uint8Array(readFileSync(join(SHARED, 'onnx/minifasnet-v2.onnx')));

describe('verify', () => {
  const converted = writeModel(fixAll(readModel(MINIFASNET), NO_PRELU).model);

  it('minifasnet against its no-prelu conversion: every output agrees, errors 0, progress reported', async () => {
    const steps: Progress[] = [];
    const r = await verifyModels(ORT, MINIFASNET, converted, { mode: 'random', seed: 7, tolerance: 1e-5 }, (p) => steps.push(p));
    expect(r.status).toBe('pass');
    expect(r.inputs).toEqual([{ name: 'input.1', dtype: 'float32', dims: [1, 3, 80, 80], source: 'random, seed 7' }]);
    expect(r.outputs.length).toBeGreaterThan(0);
    for (const o of r.outputs) expect(o).toMatchObject({ pass: true, maxAbs: 0, maxRel: 0 });
    expect(steps.map((s) => s.label)).toEqual(['Preparing inputs', 'Running the original model', 'Running the converted model', 'Comparing outputs', 'Done']);
    expect(r.summary).toMatch(/^(All \d+ outputs agree|The output agrees) within tolerance 1e-5/);
  });

  it('edge inputs: NaN spreads through the convolutions to every output value, so nothing is proved: inconclusive, not pass', async () => {
    const r = await verifyModels(ORT, MINIFASNET, converted, { mode: 'edge', seed: 7, tolerance: 1e-5 });
    expect(r.status).toBe('inconclusive');
    expect(r.outputs[0]!.nanBoth).toBe(r.outputs[0]!.count);
    expect(r.summary).toMatch(/^Not a pass: every value of .* is NaN in both models/);
  });

  it('a changed function fails, with the error figures', async () => {
    const a = preluModel({ xShape: [2, 8], slopeShape: [8], slope: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8], opset: 13 });
    const b = preluModel({ xShape: [2, 8], slopeShape: [8], slope: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.81], opset: 13 });
    const r = await verifyModels(ORT, writeModel(a), writeModel(b), { mode: 'random', seed: 1, tolerance: 1e-4 });
    expect(r.status).toBe('fail');
    expect(r.outputs[0]!.pass).toBe(false);
    expect(r.outputs[0]!.maxAbs).toBeGreaterThan(1e-4);
    expect(r.outputs[0]!.maxRel).toBeCloseTo(0.01 / 0.8, 3);
    expect(r.summary).toBe('1 of 1 output differs beyond tolerance 1e-4: y.');
  });

  it('an original ONNX Runtime rejects ([C] slope on NCHW, opset 9): says it cannot run and why, and does not pass', async () => {
    const a = preluModel({ xShape: [1, 3, 4, 5], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 9 });
    const b = fixAll(a, NO_PRELU).model;
    const r = await verifyModels(ORT, writeModel(a), writeModel(b), { mode: 'random', seed: 1, tolerance: 1e-5 });
    expect(r.status).toBe('original-cannot-run');
    expect(r.originalError).toMatch(/broadcast/i);
    expect(r.originalWhy!.join(' ')).toContain('prelu (PRelu)');
    expect(r.summary).toContain('The original model cannot run in ONNX Runtime');
    expect(r.summary).toContain('local check');
    expect(r.outputs).toEqual([]);
  });

  it('a converted model that does not run is a failure of the conversion', async () => {
    const a = preluModel({ xShape: [2, 3], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 13 });
    const broken = preluModel({ xShape: [2, 3], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 13 });
    broken.graph!.node[0]!.opType = 'NoSuchOp';
    const r = await verifyModels(ORT, writeModel(a), writeModel(broken), { mode: 'random', seed: 1, tolerance: 1e-5 });
    expect(r.status).toBe('converted-cannot-run');
    expect(r.convertedError).toContain('NoSuchOp');
  });

  it('refuses two models with different inputs, and sizes symbolic dimensions as asked', async () => {
    const a = preluModel({ xShape: ['N', 3], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 13 });
    const b = preluModel({ xShape: ['N', 3], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 13 });
    b.graph!.input[0] = valueInfo('x', DT.DOUBLE, ['N', 3]);
    await expect(verifyModels(ORT, writeModel(a), writeModel(b), { mode: 'random', seed: 1, tolerance: 0 })).rejects.toThrow(InputError);
    const r = await verifyModels(ORT, writeModel(a), writeModel(a), { mode: 'random', seed: 1, tolerance: 0, sizes: { N: 5 } });
    expect(r.inputs[0]!.dims).toEqual([5, 3]);
    expect(r.outputs[0]!.shape).toEqual([5, 3]);
  });
});
