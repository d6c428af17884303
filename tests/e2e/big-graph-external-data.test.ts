// External data in Chromium (issue 5, item 3): the .onnx is picked or dropped together with its
// data file; values a check needs are read from the data file in the page; the download keeps the
// references (and runs in ONNX Runtime beside the data file); without the data file, the page
// names the file the model expects and still draws the graph. The external model is written by
// Debian's python3-onnx from a published fixture.
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import * as ort from 'onnxruntime-node';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema } from 'onnx-buf';
import { readModel, writeModel } from '../../src/onnx/model';
import { shallowCopy } from '../../src/graph/edit';
import { preluModel } from '../helpers/build';
import { allModelTensors, externalRef } from '../../src/onnx/external';
import { SHARED } from '../helpers/paths';
import { PYTHON } from '../helpers/python';
import { maxRelError, randomFeeds, SESSION_OPTIONS } from '../helpers/ort';
import { scratchDir } from '../helpers/scratch';
import { graphReady, incompatibleCount, openApp, startApp, statusText, type AppSession } from '../helpers/browser';

const dir = scratchDir('e2e-external');
const DATA = 'face-landmark.weights';
const MODEL = join(dir, 'face-landmark.onnx');

let app: AppSession;
beforeAll(async () => {
  execFileSync(PYTHON, ['-c', `
import onnx, sys
onnx.save_model(onnx.load(sys.argv[1]), sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location=sys.argv[3], size_threshold=100)
`, join(SHARED, 'onnx', 'face-landmark.onnx'), MODEL, DATA]);
  app = await startApp();
});
afterAll(async () => app?.close());

const file = (path: string, name: string) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(path) });

async function fileName(page: Page): Promise<string | null> {
  return page.locator('.toolbar .file-name').textContent();
}

describe('a model with external data in the browser', () => {
  it('picked with its data file: checked, fixed, downloaded with its references, and the download runs beside the data file', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.getByLabel('Open model').setInputFiles([file(MODEL, 'face-landmark.onnx'), file(join(dir, DATA), DATA)]);
    await expect.poll(() => fileName(page)).toBe('face-landmark.onnx');
    await graphReady(page);
    expect(await page.getByRole('alert').count()).toBe(0);
    await expect.poll(() => page.locator('.notice').first().textContent()).toContain(`with ${DATA}`);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    expect(await incompatibleCount(page)).toBe(23);
    await page.getByRole('button', { name: 'Fix all' }).click();
    await expect.poll(() => incompatibleCount(page)).toBe(0);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
    expect(download.suggestedFilename()).toBe('face-landmark.no-prelu.onnx');
    await expect.poll(() => page.locator('.notice').first().textContent()).toContain(`reads its weights from ${DATA}: keep that file beside it`);

    const out = join(dir, 'face-landmark.no-prelu.onnx');
    copyFileSync((await download.path())!, out);
    const saved = readModel(new Uint8Array(readFileSync(out)));
    const refs = allModelTensors(saved).map(externalRef).filter(Boolean);
    expect(refs.length).toBeGreaterThan(50);
    expect(new Set(refs.map((r) => r!.location))).toEqual(new Set([DATA]));
    const feeds = randomFeeds(saved, 3);
    const run = async (p: string) => {
      const s = await ort.InferenceSession.create(p, SESSION_OPTIONS);
      try { return Object.fromEntries(Object.entries(await s.run(feeds)).map(([k, v]) => [k, Array.from(v.data as Float32Array)])); } finally { await s.release(); }
    };
    const [want, got] = [await run(MODEL), await run(out)];
    for (const k of Object.keys(want)) expect(maxRelError(got[k]!, want[k]!), k).toBeLessThan(1e-5);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('dropped together with its data file, it opens with no message', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.evaluate(([m, d, dataName]) => {
      const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes(d!)], dataName!));
      dt.items.add(new File([bytes(m!)], 'face-landmark.onnx'));
      for (const type of ['dragenter', 'dragover', 'drop']) document.body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }, [readFileSync(MODEL).toString('base64'), readFileSync(join(dir, DATA)).toString('base64'), DATA]);
    await expect.poll(() => fileName(page)).toBe('face-landmark.onnx');
    await graphReady(page);
    expect(await page.getByRole('alert').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('picked alone: the message names the data file the model expects, and the graph is drawn', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.getByLabel('Open model').setInputFiles([file(MODEL, 'face-landmark.onnx')]);
    await expect.poll(() => fileName(page)).toBe('face-landmark.onnx');
    await graphReady(page);
    const alert = await page.getByRole('alert').textContent();
    expect(alert).toContain(`face-landmark.onnx keeps`);
    expect(alert).toContain(`in the external data file "${DATA}", which was not opened with it: open the .onnx together with ${DATA} (select both in the file dialog, or drop them together).`);
    expect(await page.locator('.react-flow__node').count()).toBeGreaterThan(5);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
    expect(await statusText(page)).toMatch(/^23 nodes are incompatible/);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});

describe('slope values read from the data file in the page', () => {
  /** PRelu on x [1,3,5] with a [3,1] slope kept in slope.bin; coreml-ios15 needs equal values on rank 3. */
  function uniformModel(slope: number[]): { onnx: Buffer; data: Buffer } {
    const m = preluModel({ xShape: [1, 3, 5], slopeShape: [3, 1], slope, opset: 16 });
    const g = m.graph!;
    const t = g.initializer[0]!;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    const ext = shallowCopy(t, { rawData: new Uint8Array(0), dataLocation: 1, externalData: [entry('location', 'slope.bin'), entry('offset', '0'), entry('length', '12')] });
    return { onnx: Buffer.from(writeModel(shallowCopy(m, { graph: shallowCopy(g, { initializer: [ext] }) }))), data: Buffer.from(t.rawData) };
  }

  it('with the data file, a rule that needs the values is decided; without it, it is "could not be checked"', async () => {
    const { onnx, data } = uniformModel([0.25, 0.5, 0.75]);
    const { page, pageErrors } = await openApp(app);
    await page.getByRole('combobox', { name: 'Target' }).selectOption('coreml-ios15');
    const pick = (files: { name: string; buffer: Buffer }[]) => page.getByLabel('Open model').setInputFiles(files.map((f) => ({ ...f, mimeType: 'application/octet-stream' })));
    await pick([{ name: 'uniform.onnx', buffer: onnx }, { name: 'slope.bin', buffer: data }]);
    await expect.poll(() => fileName(page)).toBe('uniform.onnx');
    await expect.poll(() => statusText(page)).toMatch(/^1 node is incompatible with Core ML[^.]*\.$/);
    await pick([{ name: 'uniform.onnx', buffer: onnx }]);
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('"slope.bin", which was not opened with it');
    await expect.poll(() => statusText(page)).toMatch(/^0 nodes are incompatible with .*\. 1 could not be checked\.$/);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
