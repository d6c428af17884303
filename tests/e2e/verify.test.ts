// Acceptance (issue 4, "Verify in the browser"): in Chromium, on the built app, Verify runs the
// original and the converted model with onnxruntime-web (WebAssembly, in a worker) and the page
// shows pass/fail and the error figures; the local check proves one node on its own; an original
// ONNX Runtime cannot run is said to be so, never passed; Cancel stops a run.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { SHARED } from '../helpers/paths';
import { graphReady, incompatibleCount, openApp, startApp, type AppSession } from '../helpers/browser';
import { PYTHON } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';

const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');
let app: AppSession;

beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => app?.close());

async function fixedMinifasnet(page: Page) {
  await page.getByLabel('Open model').setInputFiles(MINIFASNET);
  await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('minifasnet-v2.onnx');
  await graphReady(page);
  await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
  expect(await incompatibleCount(page)).toBe(33);
  await page.getByRole('button', { name: 'Fix all' }).click();
  await expect.poll(() => incompatibleCount(page)).toBe(0);
}

const panel = (page: Page) => page.getByRole('dialog', { name: 'Verify' });

describe('Verify in Chromium', () => {
  it('minifasnet after Fix all for no-prelu: every output passes, with the error figures and the seed on the page', async () => {
    const { page, pageErrors } = await openApp(app);
    const wasm: string[] = [];
    page.on('request', (r) => { if (/\.wasm$|ort.*\.mjs$/.test(r.url())) wasm.push(r.url()); });
    await fixedMinifasnet(page);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await panel(page).getByLabel('Seed').fill('7');
    await panel(page).getByRole('button', { name: 'Run verify' }).click();
    const verdict = panel(page).locator('[data-verify-status]');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await verdict.getAttribute('data-verify-status')).toBe('pass');
    expect(await verdict.textContent()).toMatch(/^PASS The output agrees within tolerance 1e-5\./);
    const row = panel(page).locator('tr[data-output]');
    expect(await row.count()).toBe(1);
    expect(await row.locator('.max-abs').textContent()).toBe('0');
    expect(await row.locator('.max-rel').textContent()).toBe('0');
    expect(await row.locator('.result .verdict').textContent()).toBe('pass');
    expect(await panel(page).locator('.verify-used').textContent()).toContain('input.1 float32 [1,3,80,80]: random, seed 7');
    // ONNX Runtime came from the app itself, never from a CDN.
    expect(wasm.length).toBeGreaterThan(0);
    for (const u of wasm) expect(u.startsWith(app.url + 'ort/')).toBe(true);

    // Edge values: NaN spreads through the convolutions to every output value in both models, so
    // nothing is proved — the page says INCONCLUSIVE, never PASS (a trial user caught the old PASS).
    await panel(page).getByLabel(/Edge values/).check();
    await panel(page).getByRole('button', { name: 'Run verify' }).click();
    await expect.poll(() => panel(page).locator('.verify-used').textContent(), { timeout: 90_000 }).toContain('edge values');
    expect(await verdict.getAttribute('data-verify-status')).toBe('inconclusive');
    expect(await verdict.textContent()).toMatch(/^INCONCLUSIVE Not a pass: every value of .* is NaN in both models/);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('the local check proves one rewritten node on its own', async () => {
    const { page, pageErrors } = await openApp(app);
    await fixedMinifasnet(page);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const row = panel(page).locator('tr[data-node="PRelu_3"]');
    expect(await row.locator('td').nth(1).textContent()).toBe('Less, Mul, Where');
    await panel(page).getByRole('button', { name: 'Check PRelu_3', exact: true }).click();
    await expect.poll(() => row.locator('.result').textContent(), { timeout: 90_000 }).toBe('pass');
    expect(await row.locator('td.num').nth(0).textContent()).toBe('0');
    expect(await row.locator('td.num').nth(1).textContent()).toBe('0');
    expect(await row.locator('.result').getAttribute('title')).toContain('against the original PRelu node, both run by ONNX Runtime');
    // Only that node was checked.
    expect(await panel(page).locator('tr.r-pass[data-node]').count()).toBe(1);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('an original ONNX Runtime cannot run (the sample\'s [16] slope on NCHW) is said to be so, then proved node by node against its meaning', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await panel(page).getByRole('button', { name: 'Run verify' }).click();
    const verdict = panel(page).locator('[data-verify-status]');
    await verdict.waitFor({ timeout: 90_000 });
    expect(await verdict.getAttribute('data-verify-status')).toBe('original-cannot-run');
    expect(await verdict.textContent()).toMatch(/^NOT COMPARED The original model cannot run in ONNX Runtime/);
    const box = panel(page).locator('.verify-cannot');
    expect(await box.textContent()).toContain('this is not a pass');
    expect(await box.textContent()).toMatch(/broadcast/i);
    expect(await panel(page).locator('tr[data-output]').count()).toBe(0);

    await box.getByRole('button', { name: /Run the local check/ }).click();
    const row = panel(page).locator('tr[data-node]').first();
    await expect.poll(() => row.locator('.result').textContent(), { timeout: 90_000 }).toBe('pass*');
    expect(await panel(page).locator('.verify-notes').textContent()).toContain('ONNX Runtime cannot run the original node, so the rewritten nodes were compared with what it means');
    expect(await row.locator('.result').getAttribute('title')).toContain('[16,1,1]');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('shows progress, keeps the page responsive, and Cancel stops the worker; a new run then works', async () => {
    const { page, pageErrors } = await openApp(app);
    await fixedMinifasnet(page);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await panel(page).getByRole('button', { name: 'Run verify' }).click();
    await panel(page).locator('progress').waitFor();
    // The main thread answers while the worker works.
    const t0 = Date.now();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(null))));
    expect(Date.now() - t0).toBeLessThan(1000);
    await panel(page).getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => panel(page).locator('.verify-progress').textContent()).toContain('Cancelled: the worker was stopped.');
    expect(await panel(page).locator('[data-verify-status]').count()).toBe(0);
    await panel(page).getByRole('button', { name: 'Run verify' }).click();
    await panel(page).locator('[data-verify-status="pass"]').waitFor({ timeout: 90_000 });
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('a .npy file written by NumPy fed to the input; a clear message for a file of the wrong shape', async () => {
    const { page, pageErrors } = await openApp(app);
    await fixedMinifasnet(page);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await panel(page).getByLabel('From .npy / .pb files').check();
    await panel(page).getByLabel('File for input.1').setInputFiles(join(SHARED, 'onnx-backend/test_prelu_broadcast/test_data_set_0/input_0.pb'));
    await expect.poll(() => panel(page).locator('.error-inline').first().textContent()).toContain('has shape [3,4,5], but input input.1 has rank 4');
    expect(await panel(page).getByRole('button', { name: 'Run verify' }).isDisabled()).toBe(true);

    const npy = join(scratchDir('e2e-verify'), 'face.npy');
    execFileSync(PYTHON, ['-c', 'import sys, numpy as np; np.save(sys.argv[1], np.random.default_rng(3).uniform(-1, 1, (1, 3, 80, 80)).astype(np.float32))', npy]);
    await panel(page).getByLabel('File for input.1').setInputFiles(npy);
    await expect.poll(() => panel(page).locator('.verify-inputs .ok-text').textContent()).toBe(' face.npy: float32 [1,3,80,80]');
    await panel(page).getByRole('button', { name: 'Run verify' }).click();
    await panel(page).locator('[data-verify-status="pass"]').waitFor({ timeout: 90_000 });
    expect(await panel(page).locator('.verify-used').textContent()).toContain('input.1 float32 [1,3,80,80]: face.npy');
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('a model whose weights are in an external data file: verified whole and node by node, the data file given to ONNX Runtime', async () => {
    const dir = scratchDir('e2e-verify-external');
    execFileSync(PYTHON, ['-c', `
import onnx, sys
onnx.save_model(onnx.load(sys.argv[1]), sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location='face.weights', size_threshold=100)
`, join(SHARED, 'onnx', 'face-landmark.onnx'), join(dir, 'face.onnx')]);
    const file = (name: string) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(join(dir, name)) });
    const { page, pageErrors } = await openApp(app);
    await page.getByLabel('Open model').setInputFiles([file('face.onnx'), file('face.weights')]);
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('face.onnx');
    await graphReady(page);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    await expect.poll(() => incompatibleCount(page)).toBe(23);
    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await panel(page).getByRole('button', { name: 'Run verify' }).click();
    await panel(page).locator('[data-verify-status]').waitFor({ timeout: 90_000 });
    expect(await panel(page).locator('[data-verify-status]').getAttribute('data-verify-status')).toBe('pass');
    expect(await panel(page).locator('tr[data-output]').count()).toBeGreaterThan(0);

    await panel(page).getByRole('button', { name: /Check all 23 rewritten/ }).click();
    await expect.poll(() => panel(page).locator('tr.r-pass[data-node]').count(), { timeout: 90_000 }).toBe(23);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
