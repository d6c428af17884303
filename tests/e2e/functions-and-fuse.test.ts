// A PRelu inside a model-local function is flagged on the node that calls it, opened from its
// finding, and fixed; then "Fuse PReLU" folds the decomposition back for a target that has PRelu.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { FunctionProtoSchema, OperatorSetIdProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { readModel, writeModel } from '../../src/onnx/model';
import { DT, graph, makeTensor, model, node, tensorAttr, valueInfo, allNodes } from '../helpers/build';
import { graphReady, incompatibleCount, openApp, startApp, type AppSession } from '../helpers/browser';

let app: AppSession;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => app?.close());

/** y = local.Blk(x), where Blk(a) = PRelu(a, s) with s a Constant [3,1] in the body. */
function functionModel(): Uint8Array {
  const s = makeTensor('', DT.FLOAT, [3, 1], [0.5, -2, 3]);
  const fn = create(FunctionProtoSchema, {
    name: 'Blk', domain: 'local', input: ['a'], output: ['b'],
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 16n })],
    node: [node('Constant', [], ['s'], { attribute: [tensorAttr('value', s)] }), node('PRelu', ['a', 's'], ['b'], { name: 'fn_prelu' })],
  });
  const call = node('Blk', ['x'], ['y'], { name: 'block_call' });
  call.domain = 'local';
  const m = model(graph({ nodes: [call], inputs: [valueInfo('x', DT.FLOAT, [1, 3, 4])], outputs: [valueInfo('y', DT.FLOAT, [1, 3, 4])] }), 16, 8);
  m.opsetImport.push(create(OperatorSetIdProtoSchema, { domain: 'local', version: 1n }));
  m.functions.push(fn);
  return writeModel(m);
}

async function run(bytes: Uint8Array, x: number[]): Promise<number[]> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from(x), [1, 3, 4]) });
  await s.release();
  return Array.from(out.y!.data as Float32Array);
}

describe('model-local functions and fusion in Chromium', () => {
  it('flags, opens, fixes and fuses a PRelu inside a function', async () => {
    const { page, pageErrors } = await openApp(app);
    const bytes = functionModel();
    await page.getByLabel('Open model').setInputFiles({ name: 'fn-prelu.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('fn-prelu.onnx');
    await graphReady(page);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    expect(await incompatibleCount(page)).toBe(1);
    // The node calling the function says it holds an incompatible node.
    await expect.poll(() => page.locator('.react-flow__node', { hasText: 'block_call' }).textContent()).toContain('1 incompatible inside');

    await page.locator('.finding').first().click();
    await expect.poll(() => page.getByRole('navigation', { name: 'Subgraph path' }).textContent()).toContain('function local.Blk');
    await graphReady(page);
    await expect.poll(() => page.locator('.react-flow__node.selected').textContent()).toContain('fn_prelu');

    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    const [d1] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    const fixed = new Uint8Array(readFileSync((await d1.path())!));
    const fixedModel = readModel(fixed);
    expect(fixedModel.functions[0]!.node.map((n) => n.opType)).not.toContain('PRelu');

    // Back to a target with PRelu: fuse the Where form into PRelu again.
    await page.getByRole('combobox', { name: 'Target' }).selectOption('onnxruntime');
    await page.getByRole('button', { name: 'Fuse PReLU' }).click();
    await expect.poll(() => page.locator('.status-bar .notice').textContent()).toMatch(/Fused 1 decomposed PReLU pattern/);
    const [d2] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    const fused = new Uint8Array(readFileSync((await d2.path())!));
    expect(readModel(fused).functions[0]!.node.map((n) => n.opType)).toContain('PRelu');
    expect(allNodes(readModel(fused)).map((n) => n.opType)).not.toContain('Where');

    const x = [-2, -1, 0, 1, 2, 3, -3, -4, 5, -6, 7, -8];
    const want = await run(bytes, x);
    expect(await run(fixed, x)).toEqual(want);
    expect(await run(fused, x)).toEqual(want);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
