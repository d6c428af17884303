// Issue 6, item 1, in Chromium: real models open and draw without an error message — a spread of
// libonnx-testdata (every group that holds models, evenly through each, plus the ones with
// subgraphs, sequences, functions and training ops) and every fixture in ../shared/fixtures/onnx.
// (The corpus's real/ group holds only download URLs, no models.)
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureModels, testdataModels } from '../helpers/paths';
import { graphReady, openApp, startApp, type AppSession } from '../helpers/browser';

// OPFIT_CORPUS_ALL=1 opens every model (about two minutes) instead of the sample.
const ALL = process.env.OPFIT_CORPUS_ALL === '1';
const PER_GROUP: Record<string, number> = { node: 100, 'pytorch-converted': 25, 'pytorch-operator': 15, simple: 15, real: 4 };
const ALWAYS = ['test_if', 'test_loop11', 'test_scan9_sum', 'test_sequence_map_add_2_sequences_expanded', 'test_range_float_type_positive_delta_expanded', 'test_adagrad', 'test_prelu_broadcast', 'test_PReLU_3d_multiparam'];

const group = (p: string) => basename(dirname(dirname(p)));
const test = (p: string) => basename(dirname(p));

/** Evenly spaced models of each group, plus the named ones. */
function sample(): string[] {
  const all = testdataModels();
  if (ALL) return all;
  const picked = new Set(all.filter((p) => ALWAYS.includes(test(p))));
  for (const [g, n] of Object.entries(PER_GROUP)) {
    const inGroup = all.filter((p) => group(p) === g);
    for (let i = 0; i < Math.min(n, inGroup.length); i++) picked.add(inGroup[Math.floor((i * inGroup.length) / Math.min(n, inGroup.length))]!);
  }
  return [...picked].sort();
}

let app: AppSession;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => app?.close());

describe('real models open in the page', () => {
  const models = sample();
  const fixtures = fixtureModels();

  // Like tests/conformance/testdata-roundtrip.test.ts: a missing corpus fails unless explicitly allowed.
  const allowMissing = models.length === 0 && process.env.OPFIT_ALLOW_MISSING_TESTDATA === '1';
  it.skipIf(allowMissing)('samples at least 50 corpus models from every group that has models (apt-get install libonnx-testdata)', () => {
    expect(models.length).toBeGreaterThanOrEqual(50);
    expect(new Set(models.map(group))).toEqual(new Set(['node', 'pytorch-converted', 'pytorch-operator', 'simple']));
    expect(fixtures.length).toBeGreaterThanOrEqual(5);
  });

  it('each draws its graph with no error message', async () => {
    const { page, pageErrors } = await openApp(app);
    const failed: string[] = [];
    for (const path of [...fixtures, ...models]) {
      const name = path.includes('libonnx-testdata') ? `${group(path)}__${test(path)}.onnx` : basename(path);
      await page.getByLabel('Open model').setInputFiles({ name, mimeType: 'application/octet-stream', buffer: readFileSync(path) });
      try {
        await expect.poll(() => page.locator('.toolbar .file-name').textContent(), { timeout: 20_000 }).toBe(name);
        await graphReady(page);
      } catch {
        failed.push(`${name}: did not draw (${await page.getByRole('alert').allTextContents()})`);
        continue;
      }
      const alerts = await page.getByRole('alert').allTextContents();
      if (alerts.length) failed.push(`${name}: ${alerts.join(' | ')}`);
      else if ((await page.locator('.react-flow__node').count()) === 0) failed.push(`${name}: no node drawn`);
    }
    expect(failed).toEqual([]);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  }, 600_000);
});
