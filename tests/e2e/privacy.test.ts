// Issue 6, item 6 — privacy by construction, in Chromium on the built app: every request of a full
// session (open, check, rewrite, verify, download, About) stays on the page's origin, the CSP makes
// the browser block any other connection, and after a first visit the app loads and converts with
// the network switched off and the server gone (service worker).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { ROOT, SHARED } from '../helpers/paths';
import { CHROMIUM, graphReady, incompatibleCount, startApp, type AppSession } from '../helpers/browser';

const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');
const MIME: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.json': 'application/json', '.wasm': 'application/wasm', '.webmanifest': 'application/manifest+json', '.png': 'image/png',
};

/** A static server for dist/ that this test can stop, to prove the app no longer needs it. */
function serve(): Promise<{ server: Server; url: string }> {
  const root = join(ROOT, 'dist');
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(root, path);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) file = join(root, 'index.html');
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Collects the page's CSP violations (the browser blocking something the page tried). */
async function watchCsp(context: BrowserContext) {
  await context.addInitScript(() => {
    (window as unknown as { __csp: string[] }).__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => (window as unknown as { __csp: string[] }).__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}
const violations = (page: Page) => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);

async function convert(page: Page) {
  await page.getByLabel('Open model').setInputFiles(MINIFASNET);
  await expect.poll(() => page.locator('.toolbar .file-name').textContent()).toBe('minifasnet-v2.onnx');
  await graphReady(page);
  await page.getByRole('combobox', { name: 'Target' }).selectOption('no-prelu');
  expect(await incompatibleCount(page)).toBe(33);
  await page.getByRole('button', { name: 'Fix all' }).click();
  await expect.poll(() => incompatibleCount(page)).toBe(0);
}

async function verify(page: Page) {
  await page.getByRole('button', { name: 'Verify', exact: true }).click();
  const panel = page.getByRole('dialog', { name: 'Verify' });
  await panel.getByRole('button', { name: 'Run verify' }).click();
  const verdict = panel.locator('[data-verify-status]');
  await verdict.waitFor({ timeout: 90_000 });
  expect(await verdict.getAttribute('data-verify-status')).toBe('pass');
  await panel.getByRole('button', { name: /close/i }).first().click().catch(() => page.keyboard.press('Escape'));
}

async function download(page: Page): Promise<Buffer> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download' }).click()]);
  expect(d.suggestedFilename()).toBe('minifasnet-v2.no-prelu.onnx');
  return readFileSync((await d.path())!);
}

let app: AppSession;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => app?.close());

describe('nothing leaves the machine', () => {
  it('a full session (open, check, rewrite, verify, download, About) makes requests to its own origin only', async () => {
    const context = await app.browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
    await watchCsp(context);
    const requests: string[] = [];
    context.on('request', (r) => requests.push(r.url()));
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(app.url);
    await graphReady(page);
    await convert(page);
    await verify(page);
    const saved = await download(page);
    expect(saved.includes(Buffer.from('Where'))).toBe(true);

    await page.getByRole('button', { name: 'About' }).click();
    const about = page.getByRole('dialog', { name: 'About OpFit' });
    expect(await about.textContent()).toMatch(/Your model never leaves this machine.*connect-src 'self'/);
    await expect.poll(() => about.textContent(), { timeout: 30_000 }).toMatch(/this copy is ready to work offline/);
    await expect.poll(() => about.textContent()).toMatch(/now: minifasnet-v2\.onnx, with 1 edit to undo/);
    await about.getByRole('button', { name: 'Close' }).click();

    const origin = new URL(app.url).origin;
    const elsewhere = requests.filter((u) => !u.startsWith('blob:') && !u.startsWith('data:') && new URL(u).origin !== origin);
    expect(elsewhere).toEqual([]);
    // The session really went through the network layer that was watched: the page, the runtime,
    // and the service worker's own precaching.
    expect(requests.some((u) => u.endsWith('/ort/ort-wasm-simd-threaded.wasm'))).toBe(true);
    expect(requests.some((u) => u.endsWith('/sw.js'))).toBe(true);
    expect(requests.some((u) => u.endsWith('/icon-512.png'))).toBe(true); // precached by the service worker
    expect(await violations(page)).toEqual([]);
    expect(pageErrors).toEqual([]);

    // And the browser itself refuses a connection elsewhere, whatever the page's code would try.
    const attempt = await page.evaluate(() => fetch('https://example.com/upload', { method: 'POST', body: 'model' }).then(() => 'sent', () => 'blocked'));
    expect(attempt).toBe('blocked');
    // The violation event is queued as its own task, not before fetch's rejection: wait for it.
    await expect.poll(() => violations(page)).toEqual(['connect-src https://example.com/upload']);
    await context.close();
  });
});

describe('offline once loaded', () => {
  it('after a first visit, the app loads, converts, verifies and downloads with the network off and the server stopped', async () => {
    const { server, url } = await serve();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(url);
      await graphReady(page);
      // The service worker has cached the whole build.
      const cached = await page.evaluate(async () => {
        await navigator.serviceWorker.ready;
        const keys = await caches.keys();
        const cache = await caches.open(keys.find((k) => k.startsWith('opfit-'))!);
        return (await cache.keys()).map((r) => new URL(r.url).pathname);
      });
      expect(cached).toEqual(expect.arrayContaining(['/', '/index.html', '/sample-prelu.onnx', '/ort/ort-wasm-simd-threaded.wasm', '/manifest.webmanifest', '/icon-512.png']));
      expect(cached.some((p) => /^\/assets\/index-.*\.js$/.test(p))).toBe(true);

      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await context.setOffline(true);
      expect(await page.evaluate(() => fetch('/index.html', { cache: 'no-store' }).then((r) => r.ok, () => false))).toBe(true); // from the cache

      await page.reload();
      await graphReady(page);
      expect(await page.locator('.toolbar .file-name').textContent()).toBe('sample-prelu.onnx');
      await convert(page);
      await verify(page);
      const saved = await download(page);
      expect(saved.includes(Buffer.from('Where'))).toBe(true);

      // A new tab, still offline, opens the app too (and restores the edited model).
      const tab = await context.newPage();
      await tab.goto(url);
      await expect.poll(() => tab.locator('.toolbar .file-name').textContent(), { timeout: 30_000 }).toBe('minifasnet-v2.onnx');
      await graphReady(tab);
      expect(await incompatibleCount(tab)).toBe(0);
      expect(pageErrors).toEqual([]);
      await context.close();
    } finally {
      await browser.close();
      server.close();
    }
  });

  it('the app is installable: a web manifest with 192 and 512 px icons, a service worker in control', async () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'dist/manifest.webmanifest'), 'utf8')) as { icons: { sizes: string }[]; display: string; start_url: string };
    expect(manifest.display).toBe('standalone');
    expect(manifest.icons.map((i) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    const context = await app.browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url);
    await graphReady(page);
    await page.evaluate(() => navigator.serviceWorker.ready);
    await page.reload();
    await graphReady(page);
    expect(await page.evaluate(() => !!navigator.serviceWorker.controller)).toBe(true);
    expect(await page.locator('link[rel="manifest"]').getAttribute('href')).toBe('/manifest.webmanifest');
    await context.close();
  });
});
