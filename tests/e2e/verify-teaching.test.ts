// Acceptance (issue 4, "Teaching view"): for a PRelu, the forms side by side and a live table
// computed by onnxruntime-web in the page's worker. The wrong MMdnn form gives 0 at x = −2 (it is
// just ReLU), the Where form gives −2·slope, and −0.0 shows as −0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { openApp, startApp, type AppSession } from '../helpers/browser';

let app: AppSession;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => app?.close());

const cell = (page: Page, x: string, form: string) => page.locator(`table.teach-table tr[data-x="${x}"] td[data-form="${form}"]`);

describe('teaching view in Chromium', () => {
  it('opens from a PRelu\'s details and fills the live table from ONNX Runtime', async () => {
    const { page, pageErrors } = await openApp(app);
    await page.locator('.finding').first().click();
    await page.getByRole('button', { name: /How the forms differ/ }).click();
    const dialog = page.getByRole('dialog', { name: 'PRelu forms side by side' });
    // It opens at the node's own slope (the sample's prelu_1: first value 0.2323588…, float32).
    const own = dialog.getByRole('button', { name: /^this node’s first slope = 0\.2323/ });
    expect(await own.getAttribute('aria-pressed')).toBe('true');
    await dialog.locator(`table[data-slope="${Math.fround(0.23235885798931122)}"]`).waitFor({ timeout: 90_000 });
    await dialog.getByRole('button', { name: '0.25', exact: true }).click();
    await dialog.locator('table[data-slope="0.25"]').waitFor();

    // The wrong form is marked as wrong, in its card and its column.
    expect(await dialog.getByRole('article', { name: /^WRONG/ }).locator('.kind-badge').textContent()).toBe('WRONG');
    expect(await dialog.locator('th[data-form="mmdnn-wrong"]').textContent()).toBe('WRONG (MMdnn)');

    // slope 0.25: MMdnn's form zeroes x = −2; Where gives −2·0.25; PRelu itself agrees with Where.
    expect(await cell(page, '-2', 'mmdnn-wrong').textContent()).toBe('0');
    expect(await cell(page, '-2', 'mmdnn-wrong').getAttribute('class')).toBe('differs');
    expect(await cell(page, '-2', 'where').textContent()).toBe('−0.5');
    expect(await cell(page, '-2', 'prelu').textContent()).toBe('−0.5');
    // −0.0 is shown as −0, distinct from 0.
    expect(await cell(page, '-0', 'where').textContent()).toBe('−0');
    expect(await cell(page, '0', 'where').textContent()).toBe('0');
    expect(await cell(page, 'NaN', 'where').textContent()).toBe('NaN');

    // slope −1.5: Where gives −2·(−1.5) = 3.
    await dialog.getByRole('button', { name: '−1.5' }).click();
    await dialog.locator('table[data-slope="-1.5"]').waitFor();
    expect(await cell(page, '-2', 'where').textContent()).toBe('3');

    // slope ∞: the Max/Min and two-ReLU forms turn x = 2 into NaN (inf·0); Where keeps 2.
    await dialog.getByRole('button', { name: '∞' }).click();
    await dialog.locator('table[data-slope="Infinity"]').waitFor();
    expect(await cell(page, '2', 'max-min').textContent()).toBe('NaN');
    expect(await cell(page, '2', 'relu-neg').textContent()).toBe('NaN');
    expect(await cell(page, '2', 'where').textContent()).toBe('2');
    expect(await cell(page, '-2', 'where').textContent()).toBe('−∞');

    // Each form's subgraph is listed from the model that was run.
    expect(await dialog.getByRole('article', { name: 'Where' }).locator('ol li').allTextContents()).toEqual(['Less(x, 0) → less', 'Mul(slope, x) → mul', 'Where(less, mul, x) → y']);

    await page.keyboard.press('Escape');
    expect(await dialog.count()).toBe(0);
    expect(pageErrors).toEqual([]);
    await page.context().close();
  });
});
