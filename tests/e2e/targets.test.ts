// Issue 3 in the browser: one model against two targets side by side (comparison table and its
// Markdown export), and a custom target built in the app, exported, imported again — with the same
// findings in the app and in the CLI, which reads the same file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphReady, incompatibleCount, openApp, startApp, type AppSession } from '../helpers/browser';
import { cli, ensureCli } from '../helpers/cli';
import { SHARED } from '../helpers/paths';

const FACE = join(SHARED, 'onnx/face-landmark.onnx');
let app: AppSession;
beforeAll(async () => {
  ensureCli();
  app = await startApp();
});
afterAll(async () => app?.close());

describe('targets in Chromium', () => {
  it('compares face-landmark on ONNX Runtime and TensorRT 5 side by side, and exports the table', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.getByLabel('Open model').setInputFiles(FACE);
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('face-landmark.onnx');
    await graphReady(page);
    await page.getByRole('tab', { name: 'Compare' }).click();
    await page.locator('.compare-pick summary').click();
    await page.getByRole('checkbox', { name: 'TensorRT 7–8 (ONNX parser)' }).uncheck();
    await page.getByRole('checkbox', { name: 'TensorRT 5.x (ONNX parser)' }).check();

    const table = page.getByRole('table', { name: 'Comparison' });
    const headers = await table.locator('thead tr').first().locator('th').allTextContents();
    expect(headers).toEqual(['op', 'nodes', 'ONNX Runtime (CPU, Web wasm)', 'TensorRT 5.x (ONNX parser)']);
    const prelu = table.locator('tbody tr', { has: page.locator('th', { hasText: /^PRelu$/ }) });
    expect(await prelu.locator('td').allTextContents()).toEqual(['23', '23 supported', '23 unsupported']);
    const conv = table.locator('tbody tr', { has: page.locator('th', { hasText: /^Conv$/ }) });
    expect(await conv.locator('td').allTextContents()).toEqual(['45', '45 supported', '45 unknown']);

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export Markdown' }).click()]);
    const md = readFileSync((await download.path())!, 'utf8');
    expect(md).toContain('| PRelu | 23 | 23 supported | 23 unsupported |');
    expect(md).toContain('## TensorRT 5.x (ONNX parser)');

    // The single-target report: counts per category, and a row that highlights its nodes.
    await page.getByRole('combobox', { name: 'Target' }).selectOption('tensorrt-5');
    await page.getByRole('tab', { name: 'Report' }).click();
    const counts = await page.getByRole('list', { name: 'Nodes per category' }).locator('li').allTextContents();
    expect(counts).toEqual(['23 unsupported', '0 breaks a constraint', '0 runs, but gives different numbers', '75 not known for this target', '0 supported']);
    await page.locator('.report-table tbody tr').first().click(); // worst first: PRelu, unsupported
    await expect.poll(() => page.locator('.filter-chip').textContent()).toContain('Highlighting PRelu · unsupported (23)');
    expect(await page.locator('.react-flow__node.highlighted').count()).toBeGreaterThan(0);
    expect(await page.locator('.react-flow__node.dimmed').count()).toBeGreaterThan(0);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });

  it('builds a custom target, exports it, imports it again, and the findings are the same (also in the CLI)', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.getByLabel('Open model').setInputFiles(FACE);
    await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('face-landmark.onnx');
    await graphReady(page);
    expect(await incompatibleCount(page)).toBe(0);

    await page.getByRole('button', { name: 'Custom target…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Custom target' });
    await dialog.getByLabel('Name').fill('My NPU');
    // This NPU takes only a single shared slope: face-landmark's [1,C,1,1] slopes break that.
    const layouts = dialog.getByRole('group', { name: 'Allowed slope layouts' });
    for (const l of ['channel', 'last-axis', 'elementwise']) await layouts.getByLabel(l).uncheck();
    const [exported] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name: 'Export JSON' }).click()]);
    expect(exported.suggestedFilename()).toBe('custom-my-npu.json');
    const file = (await exported.path())!;
    await dialog.getByRole('button', { name: 'Save and use' }).click();

    expect(await page.getByRole('combobox', { name: 'Target' }).inputValue()).toBe('custom-my-npu');
    expect(await incompatibleCount(page)).toBe(23);
    const reasonsBefore = await page.locator('.finding-group .reason, .finding .reason').allTextContents();

    // Forget it, then import the exported file.
    await page.getByRole('button', { name: 'Custom target…' }).click();
    await dialog.getByRole('button', { name: 'Delete My NPU' }).click();
    expect(await page.getByRole('combobox', { name: 'Target' }).inputValue()).toBe('onnxruntime');
    expect(await page.locator('option[value="custom-my-npu"]').count()).toBe(0);
    await page.getByRole('button', { name: 'Custom target…' }).click();
    await dialog.getByLabel('Import target').setInputFiles(file);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await page.getByRole('combobox', { name: 'Target' }).inputValue()).toBe('custom-my-npu');
    expect(await incompatibleCount(page)).toBe(23);
    expect(await page.locator('.finding-group .reason, .finding .reason').allTextContents()).toEqual(reasonsBefore);

    // The CLI reads the same file and finds the same 23 nodes.
    const r = cli(['inspect', FACE, '--target', file, '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as { target: string; findings: { status: string; reason: string }[] };
    expect(report.target).toBe('custom-my-npu');
    const bad = report.findings.filter((f) => f.status === 'constraint');
    expect(bad).toHaveLength(23);
    expect(reasonsBefore[0]).toBe(bad[0]!.reason);

    // A broken profile file is refused with the bad field named, and nothing is lost.
    await page.getByRole('button', { name: 'Custom target…' }).click();
    const broken = JSON.parse(readFileSync(file, 'utf8'));
    broken.prelu[0].allowed = ['sideways'];
    await dialog.getByLabel('Import target').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(broken)) });
    await expect.poll(() => dialog.getByRole('alert').textContent()).toMatch(/broken\.json.*prelu\[0\]\.allowed/);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await incompatibleCount(page)).toBe(23);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
