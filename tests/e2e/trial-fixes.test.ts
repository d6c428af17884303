// What a first-time user trial found, in Chromium: the selection follows its node through an edit,
// undo and redo (rewrites insert nodes, so node indices shift); opening a model over undownloaded
// edits asks first; a graph drawn whole stays whole after one rewrite, and the view stays where the
// user left it; the status line summarises Fix all; counts say "1 node".
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { writeModel } from '../../src/onnx/model';
import { DT, graph, graphAttr, model, node, valueInfo } from '../helpers/build';
import { SHARED } from '../helpers/paths';
import { graphReady, incompatibleCount, openApp, startApp, type AppSession } from '../helpers/browser';

const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');
const GTCRN_S3 = join(SHARED, 'onnx/gtcrn-s3.onnx');
const GTCRN_FULL = join(SHARED, 'onnx/gtcrn-full.onnx');
let app: AppSession;
beforeAll(async () => { app = await startApp(); });
afterAll(async () => app?.close());

async function openFixture(page: Page, path: string, name: string) {
  await page.getByLabel('Open model').setInputFiles(path);
  await expect.poll(() => page.locator('.toolbar .file-name').textContent(), { timeout: 60_000 }).toBe(name);
  await graphReady(page);
}

/** Selects a node through the search box (which also centres the canvas on it). */
async function searchSelect(page: Page, name: string) {
  await page.getByRole('searchbox').fill(name);
  await page.getByRole('option', { name: new RegExp(`^\\w+ ${name}\\b`) }).first().click();
  await expect.poll(() => page.locator('.react-flow__node.selected .name').textContent(), { timeout: 20_000 }).toBe(name);
}

const detailsName = (page: Page) => page.locator('.panel.details h2 .muted').textContent();
const selectedName = (page: Page) => page.locator('.react-flow__node.selected .name').textContent();
/** Where the selected node is on the screen, once the canvas has stopped moving (the centring on a search result is animated). */
async function settledViewport(page: Page): Promise<string> {
  const where = async () => JSON.stringify(await page.locator('.react-flow__node.selected').boundingBox().catch(() => null));
  let last = '';
  for (;;) {
    await page.waitForTimeout(400);
    const now = await where();
    if (now === last) return now;
    last = now;
  }
}

describe('trial fixes in Chromium', () => {
  it('the selected node stays selected through Fix all, Undo and Redo, and the view does not jump', async () => {
    const { page, pageErrors } = await openApp(app);
    // The sample is a column 13 nodes tall: a minimap of it would be a thin line, so there is none.
    expect(await page.locator('.react-flow__minimap').count()).toBe(0);
    await openFixture(page, MINIFASNET, 'minifasnet-v2.onnx');
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    await searchSelect(page, 'Conv_9');
    expect(await detailsName(page)).toBe('Conv_9');
    const before = await settledViewport(page);

    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    await graphReady(page);
    expect(await detailsName(page)).toBe('Conv_9');
    await expect.poll(() => selectedName(page)).toBe('Conv_9');
    // The selected node stays where it was on the screen.
    expect(await settledViewport(page)).toBe(before);

    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(33);
    await graphReady(page);
    expect(await detailsName(page)).toBe('Conv_9');
    await expect.poll(() => selectedName(page)).toBe('Conv_9');
    // The selected node stays where it was on the screen.
    expect(await settledViewport(page)).toBe(before);

    // A rewritten PRelu: its heir (the node that writes its output) keeps its name.
    await searchSelect(page, 'PRelu_5');
    await page.getByRole('button', { name: 'Redo' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    await expect.poll(() => detailsName(page)).toBe('PRelu_5');
    expect(await page.locator('.panel.details h2').textContent()).not.toMatch(/^PRelu/);
    // Undo again: the node PRelu_5 is again the PRelu.
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.locator('.panel.details h2').textContent()).toBe('PRelu PRelu_5');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('opening another model over undownloaded edits asks first: Cancel keeps the work, OK opens; after Download it does not ask', async () => {
    const { page, pageErrors } = await openApp(app);
    await openFixture(page, MINIFASNET, 'minifasnet-v2.onnx');
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);

    const asked: string[] = [];
    page.once('dialog', (d) => { asked.push(`${d.type()}: ${d.message()}`); void d.dismiss(); });
    await page.getByLabel('Open model').setInputFiles(GTCRN_S3);
    await expect.poll(() => asked).toEqual(['confirm: Open gtcrn-s3.onnx? Your 1 edit to minifasnet-v2.onnx has not been downloaded and will be lost.']);
    await page.waitForTimeout(500);
    expect(await page.locator('.toolbar .file-name').textContent()).toBe('minifasnet-v2.onnx');
    expect(await page.getByRole('button', { name: 'Undo' }).isEnabled()).toBe(true);
    expect(await incompatibleCount(page)).toBe(0);

    page.once('dialog', (d) => { asked.push(d.type()); void d.accept(); });
    await openFixture(page, GTCRN_S3, 'gtcrn-s3.onnx');
    expect(asked).toHaveLength(2);
    expect(await page.getByRole('button', { name: 'Undo' }).isEnabled()).toBe(false);

    // Edited and downloaded: nothing to lose, no question.
    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Undo' }).isEnabled()).toBe(true);
    await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    page.on('dialog', (d) => { asked.push(d.type()); void d.dismiss(); });
    await openFixture(page, MINIFASNET, 'minifasnet-v2.onnx');
    expect(asked).toHaveLength(2);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('gtcrn-full stays drawn whole after one rewrite, with the view where it was', async () => {
    const { page, pageErrors } = await openApp(app);
    await openFixture(page, GTCRN_FULL, 'gtcrn-full.onnx');
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    expect(await page.locator('.group-tools').count()).toBe(0);
    await searchSelect(page, 'PRelu_140');
    const before = await settledViewport(page);
    await page.getByRole('button', { name: 'Apply max-min' }).click();
    await expect.poll(() => page.locator('.status-bar .notice').textContent()).toMatch(/PRelu_140/);
    await graphReady(page);
    await expect.poll(() => page.locator('.react-flow__node', { hasText: 'PRelu_140/' }).count()).toBeGreaterThan(0);
    expect(await page.locator('.group-tools').count()).toBe(0);
    expect(await settledViewport(page)).toBe(before);
    expect(await detailsName(page)).toBe('PRelu_140');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('Fix all says how many nodes each form rewrote, with a few notes; all of them are behind "All N notes", no tooltip of them', async () => {
    const { page, pageErrors } = await openApp(app);
    await openFixture(page, MINIFASNET, 'minifasnet-v2.onnx');
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    const notice = (await page.locator('.status-bar .notice').textContent())!;
    expect(notice).toMatch(/^Fixed 33 nodes: 33 × PRelu → \S+/);
    expect(notice).toMatch(/… and 30 more$/);
    expect((await page.locator('.status-bar .notice').getAttribute('title'))!.length).toBeLessThan(1000);
    const all = page.locator('.status-bar details.all-notes');
    expect(await all.locator('summary').textContent()).toBe('All 33 notes');
    expect(await all.locator('li').count()).toBe(0); // listed only when opened
    await all.locator('summary').click();
    await expect.poll(() => all.locator('li').count()).toBe(33);
    await page.getByRole('button', { name: 'Undo' }).click();
    await expect.poll(() => page.locator('.status-bar .notice').textContent()).toMatch(/^Undid: Fixed 33 nodes/);
    expect(await all.count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('a one-node branch is "1 node", not "1 nodes"', async () => {
    const thenG = graph({ name: 'then', nodes: [node('Relu', ['x'], ['t1'], { name: 'a' }), node('Neg', ['t1'], ['t_out'], { name: 'b' })], outputs: [valueInfo('t_out', DT.FLOAT, [2])] });
    const elseG = graph({ name: 'else', nodes: [node('Identity', ['x'], ['e_out'], { name: 'c' })], outputs: [valueInfo('e_out', DT.FLOAT, [2])] });
    const bytes = writeModel(model(graph({
      nodes: [node('If', ['cond'], ['y'], { name: 'branch', attribute: [graphAttr('then_branch', thenG), graphAttr('else_branch', elseG)] })],
      inputs: [valueInfo('cond', DT.BOOL, []), valueInfo('x', DT.FLOAT, [2])],
      outputs: [valueInfo('y', DT.FLOAT, [2])],
    }), 13));
    const { page, pageErrors } = await openApp(app);
    await page.getByLabel('Open model').setInputFiles({ name: 'if-plural.onnx', mimeType: 'application/octet-stream', buffer: Buffer.from(bytes) });
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('if-plural.onnx');
    await graphReady(page);
    // A small graph about as wide as tall has its minimap, small and out of the fitted graph's way.
    const map = await page.locator('.react-flow__minimap').boundingBox();
    expect(map!.width).toBeLessThanOrEqual(160);
    for (const n of await page.locator('.react-flow__node').all()) {
      const b = (await n.boundingBox())!;
      expect(b.x + b.width <= map!.x || b.y + b.height <= map!.y, 'a node under the minimap').toBe(true);
    }
    await page.locator('.react-flow__node', { hasText: 'branch' }).click();
    await expect.poll(() => page.locator('.panel.details button', { hasText: 'Open ' }).allTextContents()).toEqual(['Open then_branch (2 nodes)', 'Open else_branch (1 node)']);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
