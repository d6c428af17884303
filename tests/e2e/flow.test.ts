// Acceptance (issue 2): the whole flow in a real browser on a real published model — "Open model",
// choose a target, read the count, "Fix all", "Download" — then the downloaded file is checked
// with ONNX Runtime against the original. And the error paths: a truncated ONNX file, a PNG and a
// TFLite file each get a clear message, and the app stays usable.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import * as ort from 'onnxruntime-node';
import { readModel } from '../../src/onnx/model';
import { allGraphs } from '../../src/graph/scope';
import { SHARED } from '../helpers/paths';
import { graphReady, incompatibleCount, openApp, startApp, statusText, type AppSession } from '../helpers/browser';

const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');
let app: AppSession;

beforeAll(async () => {
  ort.env.logLevel = 'error';
  app = await startApp();
});
afterAll(async () => app?.close());

async function openModel(page: Page, file: { name: string; buffer: Buffer } | string) {
  await page.getByLabel('Open model').setInputFiles(typeof file === 'string' ? file : { ...file, mimeType: 'application/octet-stream' });
}

async function randomRun(bytes: Uint8Array, seed: number) {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  let s = seed;
  const feeds: Record<string, ort.Tensor> = {};
  for (const name of session.inputNames) {
    const data = Float32Array.from({ length: 1 * 3 * 80 * 80 }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
    feeds[name] = new ort.Tensor('float32', data, [1, 3, 80, 80]);
  }
  const out = await session.run(feeds);
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
}

describe('the whole flow in Chromium', () => {
  it('opens the first-run sample with its PRelu finding', async () => {
    const { page, pageErrors } = await openApp(app);
    expect(await page.getByRole('combobox', { name: 'Target' }).inputValue()).toBe('onnxruntime');
    expect(await incompatibleCount(page)).toBe(1);
    await expect.poll(() => page.locator('.react-flow__node[data-compat="unsupported"]').count()).toBe(1);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('opens minifasnet, flags 33 PRelu for no-prelu, fixes all, downloads a model ONNX Runtime agrees with', async () => {
    const { page, pageErrors } = await openApp(app);
    await openModel(page, MINIFASNET);
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('minifasnet-v2.onnx');
    await graphReady(page);
    expect(await incompatibleCount(page)).toBe(0);

    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    expect(await incompatibleCount(page)).toBe(33);
    expect(await page.locator('.react-flow__node[data-compat="unsupported"]').count()).toBeGreaterThan(0);

    // A finding centres and selects its node; the details show the slope's values.
    await page.locator('.finding').first().click();
    await expect.poll(() => page.locator('.react-flow__node.selected').count()).toBe(1);
    await expect(page.getByLabel('Node details').getByRole('heading', { level: 2 }).textContent()).resolves.toContain('PRelu');
    expect(await page.getByLabel('Node details').locator('.values').count()).toBeGreaterThan(0);

    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);

    // Undo brings the findings back; redo (Ctrl+Shift+Z) removes them again.
    await page.getByRole('button', { name: 'Undo' }).click();
    expect(await incompatibleCount(page)).toBe(33);
    await page.keyboard.press('Control+Shift+Z');
    expect(await incompatibleCount(page)).toBe(0);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('minifasnet-v2.no-prelu.onnx');
    const saved = new Uint8Array(readFileSync((await download.path())!));
    const converted = readModel(saved);
    const ops = allGraphs(converted).flatMap((g) => g.graph.node.map((n) => n.opType));
    expect(ops).not.toContain('PRelu');
    expect(ops.filter((o) => o === 'Where')).toHaveLength(33);

    const original = await randomRun(new Uint8Array(readFileSync(MINIFASNET)), 7);
    const after = await randomRun(saved, 7);
    for (const [name, values] of Object.entries(original)) {
      const got = after[name]!;
      expect(got).toHaveLength(values.length);
      values.forEach((v, i) => expect(Math.abs(got[i]! - v)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))));
    }
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('names what is wrong with a truncated ONNX file, a PNG and a TFLite file, and keeps the open model', async () => {
    const { page, pageErrors } = await openApp(app);
    const alert = page.getByRole('alert');
    const before = await statusText(page);

    await openModel(page, { name: 'cut.onnx', buffer: readFileSync(MINIFASNET).subarray(0, 100_000) });
    await expect.poll(() => alert.textContent()).toMatch(/cut\.onnx is not a readable ONNX model: reading failed at byte [\d,]+ in graph\.initializer\[\d+\]\.raw_data/);
    expect(await alert.textContent()).toMatch(/truncated/);

    const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000200e2b7d3d40000000049454e44ae426082', 'hex');
    await openModel(page, { name: 'photo.onnx', buffer: png });
    await expect.poll(() => alert.textContent()).toContain('photo.onnx is a PNG image, not an ONNX model');

    await openModel(page, join(SHARED, 'tflite/gtcrn-s3-float32.tflite'));
    await expect.poll(() => alert.textContent()).toContain('is a TensorFlow Lite model');
    expect(await alert.textContent()).toContain('tf2onnx');

    // Nothing was lost, and the app still works: the sample is still open and can be fixed.
    expect(await page.locator('.toolbar .file-name').textContent()).toBe('sample-prelu.onnx');
    expect(await statusText(page)).toBe(before);
    await page.getByRole('button', { name: 'Dismiss message' }).click();
    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
