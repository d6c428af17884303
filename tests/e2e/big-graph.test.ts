// Big models in Chromium (issue 5): a generated 10,000-node graph opens and the page answers
// clicks while it is being laid out; a big file is read with a progress bar and can be cancelled,
// leaving the open model as it was.
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convPreluModel, wideGraphModel } from '../../scripts/bench/models';
import { scratchDir } from '../helpers/scratch';
import { graphReady, incompatibleCount, openApp, startApp, statusText, type AppSession } from '../helpers/browser';

const dir = scratchDir('e2e-big');
let app: AppSession;
let graph10k: string;
beforeAll(async () => {
  graph10k = wideGraphModel(dir, 'graph-10k.onnx', 10_000);
  app = await startApp();
});
afterAll(async () => app?.close());

describe('big models in the browser', () => {
  it('a 10,000-node graph opens; clicks are answered while it loads and is laid out, and on its drawn nodes', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    await page.getByLabel('Open model').setInputFiles(graph10k);
    // As soon as the new model's findings are listed, click one: the details panel must answer,
    // whether or not the graph is still being laid out (the layout runs in a worker).
    await expect.poll(() => page.locator('.toolbar .file-name').textContent(), { timeout: 60_000 }).toBe('graph-10k.onnx');
    const layingOut = (await page.locator('[data-graph-ready="true"]').count()) === 0;
    let t = Date.now();
    await page.locator('.finding').first().click();
    await page.locator('.panel.details', { hasText: /block\d+\/prelu/ }).waitFor({ timeout: 20_000 });
    const duringLoad = Date.now() - t;
    await graphReady(page);
    // A click on a drawn node selects it.
    const node = page.locator('.react-flow__node', { hasText: 'Relu' }).first();
    const name = (await node.locator('.name').textContent())!;
    t = Date.now();
    await node.click();
    await page.locator('.panel.details', { hasText: name }).waitFor({ timeout: 20_000 });
    const onNode = Date.now() - t;
    console.log(`graph-10k: finding click answered in ${duringLoad} ms (layout ${layingOut ? 'still running' : 'already done'}), node click in ${onNode} ms`);
    // Measured ~0.5 s and ~0.1–0.3 s on this machine (docs/benchmarks.md); the bounds leave room for
    // parallel test files on 2 CPUs and fail on hangs (Netron's failure on graphs this size).
    expect(duringLoad).toBeLessThan(5_000);
    expect(onNode).toBeLessThan(5_000);
    expect(await incompatibleCount(page)).toBe(2_500);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('a big file is read with a progress bar; Cancel stops it and keeps the open model', async () => {
    const { page, pageErrors } = await openApp(app);
    const before = await statusText(page);
    const huge = join(dir, 'huge.onnx');
    writeFileSync(huge, new Uint8Array(0));
    truncateSync(huge, 3 << 29); // 1.5 GB, sparse: no disk used, slow enough to cancel
    await page.getByLabel('Open model').setInputFiles(huge);
    await page.getByRole('progressbar', { name: 'Reading huge.onnx' }).waitFor({ timeout: 30_000 });
    expect(await page.locator('[data-graph-ready="true"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('.notice').first().textContent()).toBe('Cancelled opening huge.onnx');
    expect(await page.getByRole('progressbar').count()).toBe(0);
    await graphReady(page);
    expect(await page.locator('.toolbar .file-name').textContent()).toBe('sample-prelu.onnx');
    expect(await statusText(page)).toBe(before);

    // A real 100 MB model: the bar shows, then the graph.
    const model = convPreluModel(dir, 'prelu-100mb.onnx', 100e6, 512);
    await page.getByLabel('Open model').setInputFiles(model);
    await expect.poll(() => page.locator('.toolbar .file-name').textContent(), { timeout: 60_000 }).toBe('prelu-100mb.onnx');
    await graphReady(page);
    expect(await page.getByRole('progressbar').count()).toBe(0);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    expect(await incompatibleCount(page)).toBe(11);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
