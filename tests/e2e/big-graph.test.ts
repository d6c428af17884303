// Big models in Chromium (issue 5): a generated 10,000-node graph opens and the page answers
// clicks while it is being laid out; it opens collapsed to its name scopes, whose groups open and
// close, and search and findings open the groups around the node they jump to; a big file is read with a progress bar and can be cancelled,
// leaving the open model as it was.
import { truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convPreluModel, wideGraphModel } from '../../scripts/bench/models';
import { scratchDir } from '../helpers/scratch';
import { writeModel } from '../../src/onnx/model';
import { DT, graph, graphAttr, model, node, valueInfo } from '../helpers/build';
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
    // A click on a drawn node selects it (the graph opens collapsed; the finding opened its stage and block).
    await page.getByRole('button', { name: 'Close group block0' }).waitFor({ timeout: 20_000 });
    const node = page.locator('.react-flow__node-onnx', { hasText: 'Relu' }).first();
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

  it('a 10,000-node graph opens as group boxes; groups open and close; search and findings open the groups around a node', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    await page.getByLabel('Open model').setInputFiles(graph10k);
    await expect.poll(() => page.locator('.toolbar .file-name').textContent(), { timeout: 60_000 }).toBe('graph-10k.onnx');
    await graphReady(page);
    // A few dozen boxes at most: the 25 stages (names stage{k}/block{i}/…), each with its PRelu count.
    const boxes = page.locator('.react-flow__node[data-group]');
    expect(await boxes.count()).toBeGreaterThan(3);
    expect(await boxes.count()).toBeLessThanOrEqual(27);
    expect(await page.locator('.react-flow__node-onnx').count()).toBeLessThanOrEqual(2); // the graph's input and output
    const stage0 = page.locator('.react-flow__node[data-group]', { hasText: 'stage0' });
    await expect.poll(() => stage0.textContent()).toContain('400 nodes');
    expect(await stage0.textContent()).toContain('100 incompatible inside');
    expect(await page.locator('.group-tools').textContent()).toContain('10,000 nodes in 2,525 groups');

    // Open a stage (▸): its 100 blocks appear; open a block (double-click): its 4 nodes.
    await page.getByRole('button', { name: 'Open group stage1', exact: true }).click();
    await page.getByRole('button', { name: 'Open group block100', exact: true }).waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Close group stage1' }).waitFor();
    await page.locator('.react-flow__node[data-group]', { hasText: 'block101' }).dblclick();
    await page.locator('.react-flow__node-onnx', { hasText: 'stage1/block101/prelu' }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.react-flow__node-onnx[data-compat="unsupported"]', { hasText: 'stage1/block101/prelu' }).count()).toBe(1);
    // Closing the stage folds it back into one box.
    await page.getByRole('button', { name: 'Close group stage1' }).click();
    await page.getByRole('button', { name: 'Open group stage1', exact: true }).waitFor({ timeout: 20_000 });
    expect(await page.locator('.react-flow__node-onnx', { hasText: 'stage1/block101' }).count()).toBe(0);

    // Search by name, deep inside a collapsed stage: "/" focuses the box, Enter jumps.
    await page.locator('.react-flow__pane').click();
    await page.keyboard.press('/');
    const box = page.getByRole('searchbox', { name: /Search nodes/ });
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('role'))).toBe('searchbox');
    await page.keyboard.type('STAGE20/block2017/PRelu');
    await expect.poll(() => page.getByRole('listbox', { name: 'Search results' }).getByRole('option').allTextContents()).toEqual(['PRelu stage20/block2017/prelu']);
    await page.keyboard.press('Enter');
    await page.locator('.panel.details h2', { hasText: 'stage20/block2017/prelu' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('.react-flow__node.selected').textContent(), { timeout: 20_000 }).toContain('stage20/block2017/prelu');
    await page.getByRole('button', { name: 'Close group stage20' }).waitFor();

    // By op type: a count and the first 50.
    await box.fill('relu');
    await expect.poll(() => page.locator('.search-count').textContent()).toBe('50 of 5,000 matches');
    expect(await page.getByRole('listbox', { name: 'Search results' }).getByRole('option').count()).toBe(50);
    // By tensor name: the node that writes it and the one that reads it; a click jumps.
    await box.fill('b1234.sum');
    await expect.poll(() => page.getByRole('listbox', { name: 'Search results' }).getByRole('option').allTextContents()).toEqual(['Add stage12/block1234/add tensor b1234.sum', 'Relu stage12/block1234/relu tensor b1234.sum']);
    await page.getByRole('option', { name: /Relu stage12\/block1234\/relu/ }).click();
    await page.locator('.panel.details h2', { hasText: 'stage12/block1234/relu' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('.react-flow__node.selected').textContent(), { timeout: 20_000 }).toContain('stage12/block1234/relu');

    // The side panel lists the first 200 of the 2,500 PRelu findings, and more on request.
    expect(await page.locator('.group-nodes .finding').count()).toBe(200);
    await page.getByRole('button', { name: /^Show 200 more \(2,300 not shown/ }).click();
    await expect.poll(() => page.locator('.group-nodes .finding').count()).toBe(400);
    // A finding there: its stage and block open, the node is selected and drawn.
    await page.getByRole('button', { name: 'stage3/block350/prelu', exact: true }).click();
    await page.getByRole('button', { name: 'Close group stage3' }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.locator('.react-flow__node.selected').textContent(), { timeout: 20_000 }).toContain('stage3/block350/prelu');
    await page.locator('.panel.details h2', { hasText: 'stage3/block350/prelu' }).waitFor();

    // Collapse all: the stages again.
    await page.getByRole('button', { name: 'Collapse all' }).click();
    await expect.poll(() => page.getByRole('button', { name: /^Close group/ }).count(), { timeout: 20_000 }).toBe(0);
    expect(await page.locator('[data-graph-ready="true"]').count()).toBe(1);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('search reaches the nodes of subgraphs: a result enters its If branch and selects the node', async () => {
    const x = valueInfo('x', DT.FLOAT, [1, 4]);
    const branch = (n: string) => graph({ nodes: [node('Relu', ['x'], [`${n}_out`], { name: `inner_${n}` })], outputs: [valueInfo(`${n}_out`, DT.FLOAT, [1, 4])] });
    const m = model(graph({
      nodes: [node('Identity', ['c'], ['cc'], { name: 'cond_id' }), node('If', ['cc'], ['y'], { name: 'branch', attribute: [graphAttr('then_branch', branch('then')), graphAttr('else_branch', branch('else'))] })],
      inputs: [x, valueInfo('c', DT.BOOL, [])], outputs: [valueInfo('y', DT.FLOAT, [1, 4])],
    }), 13);
    const { page, pageErrors } = await openApp(app);
    await page.getByLabel('Open model').setInputFiles({ name: 'if-search.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(writeModel(m)) });
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('if-search.onnx');
    await graphReady(page);
    await page.getByRole('searchbox').fill('inner_else');
    await expect.poll(() => page.getByRole('listbox', { name: 'Search results' }).getByRole('option').allTextContents()).toEqual(['Relu inner_else in a subgraph']);
    await page.getByRole('searchbox').press('Enter');
    await expect.poll(() => page.locator('.react-flow__node.selected').textContent(), { timeout: 20_000 }).toContain('inner_else');
    expect(await page.locator('.breadcrumb').textContent()).toContain('else_branch');
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
