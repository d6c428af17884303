// A PRelu inside an If branch is found, reachable from its node, and fixed; and dropping a file
// anywhere on the page opens it (the other way in besides "Open model").
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { writeModel, readModel } from '../../src/onnx/model';
import { DT, graph, graphAttr, makeTensor, model, node, valueInfo, allNodes } from '../helpers/build';
import { SHARED } from '../helpers/paths';
import { graphReady, incompatibleCount, openApp, startApp, type AppSession } from '../helpers/browser';

let app: AppSession;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => app?.close());

/** y = If(cond) then PRelu(x, slope) else Identity(x); the slope lives in the outer graph. */
function ifModel(): Uint8Array {
  const thenG = graph({ name: 'then', nodes: [node('PRelu', ['x', 'slope'], ['t_out'], { name: 'inner_prelu' })], outputs: [valueInfo('t_out', DT.FLOAT, [2, 3])] });
  const elseG = graph({ name: 'else', nodes: [node('Identity', ['x'], ['e_out'], { name: 'inner_identity' })], outputs: [valueInfo('e_out', DT.FLOAT, [2, 3])] });
  return writeModel(model(graph({
    nodes: [node('If', ['cond'], ['y'], { name: 'branch', attribute: [graphAttr('then_branch', thenG), graphAttr('else_branch', elseG)] })],
    inputs: [valueInfo('cond', DT.BOOL, []), valueInfo('x', DT.FLOAT, [2, 3])],
    outputs: [valueInfo('y', DT.FLOAT, [2, 3])],
    initializers: [makeTensor('slope', DT.FLOAT, [3], [0.5, 2, -1])],
  }), 13));
}

describe('subgraphs and drag-and-drop in Chromium', () => {
  it('finds a PRelu in an If branch, opens the branch from the finding, fixes it, and the download computes PRelu', async () => {
    const { page, pageErrors } = await openApp(app);
    const bytes = ifModel();
    await page.getByLabel('Open model').setInputFiles({ name: 'if-prelu.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('if-prelu.onnx');
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    expect(await incompatibleCount(page)).toBe(1);
    await expect(page.locator('.finding').first().textContent()).resolves.toContain('in a subgraph');

    await page.locator('.finding').first().click();
    await expect.poll(() => page.getByRole('navigation', { name: 'Subgraph path' }).textContent()).toContain('then_branch');
    await graphReady(page);
    await expect.poll(() => page.locator('.react-flow__node.selected').textContent()).toContain('inner_prelu');

    // Back to the main graph, then into the else branch from the If node's details.
    await page.getByRole('button', { name: 'main graph' }).click();
    await graphReady(page);
    await page.locator('.react-flow__node', { hasText: 'branch' }).click();
    await page.getByRole('button', { name: /Open else_branch/ }).click();
    await graphReady(page);
    await expect.poll(() => page.locator('.react-flow__node').allTextContents()).toContainEqual(expect.stringContaining('inner_identity'));

    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('if-prelu.no-prelu.onnx');
    const saved = new Uint8Array(readFileSync((await download.path())!));
    expect(allNodes(readModel(saved)).map((n) => n.opType)).not.toContain('PRelu');

    const session = await ort.InferenceSession.create(saved, { logSeverityLevel: 3 });
    const x = [-2, -0.5, 3, 4, -1, -8];
    for (const cond of [true, false]) {
      const out = await session.run({ cond: new ort.Tensor('bool', [cond], []), x: new ort.Tensor('float32', Float32Array.from(x), [2, 3]) });
      const slope = [0.5, 2, -1];
      const want = x.map((v, i) => (cond && v < 0 ? v * slope[i % 3]! : v));
      expect(Array.from(out.y!.data as Float32Array)).toEqual(want);
    }
    await session.release();
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('opens a model dropped anywhere on the page', async () => {
    const { page, pageErrors } = await openApp(app);
    const base64 = readFileSync(join(SHARED, 'onnx/face-landmark.onnx')).toString('base64');
    await page.evaluate((data) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], 'face-landmark.onnx'));
      const target = document.querySelector('.panel.details')!;
      for (const type of ['dragenter', 'dragover', 'drop']) target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, base64);
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('face-landmark.onnx');
    await graphReady(page);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('tensorrt-5');
    expect(await incompatibleCount(page)).toBe(23);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
