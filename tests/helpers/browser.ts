// Real-browser tests: the built app (dist/, from `npm run build`) served statically, driven
// by playwright-core in Debian's Chromium (Playwright's own browser download cannot work here).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ROOT } from './paths';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const MIME: Record<string, string> = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.svg': 'image/svg+xml', '.json': 'application/json', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream',
  '.webmanifest': 'application/manifest+json', '.png': 'image/png',
};

/**
 * Serves `root` on a free loopback port: a plain static server, as any host of the built app would
 * be. `spa`: unknown paths get index.html (the app's routes); otherwise 404.
 */
export function serveStatic(root: string, spa = true): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(root, path === '/' ? 'index.html' : path);
    if (!file.startsWith(root) || !existsSync(file) || statSync(file).isDirectory()) {
      if (!spa) {
        res.writeHead(404);
        res.end();
        return;
      }
      file = join(root, 'index.html');
    }
    res.writeHead(200, { 'content-type': MIME[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/` })));
}

/** Debian's Chromium, headless, with nothing that would reach for the network. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface AppSession {
  browser: Browser;
  url: string;
  close(): Promise<void>;
}

export async function startApp(): Promise<AppSession> {
  if (!existsSync(join(ROOT, 'dist/index.html'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
  const { server, url } = await serveStatic(join(ROOT, 'dist'));
  const browser = await launchChromium();
  return {
    browser, url,
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** A new page on the app, with the first-run sample drawn. Collects uncaught page errors. */
export async function openApp(app: AppSession): Promise<{ page: Page; pageErrors: string[] }> {
  const context = await app.browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(app.url);
  await graphReady(page);
  return { page, pageErrors };
}

export async function graphReady(page: Page): Promise<void> {
  await page.locator('[data-graph-ready="true"]').waitFor({ timeout: 60_000 });
}

export async function statusText(page: Page): Promise<string> {
  return (await page.getByRole('status').textContent()) ?? '';
}

/** The number the status region states, e.g. 33 in "33 nodes are incompatible with …". */
export async function incompatibleCount(page: Page): Promise<number> {
  const m = /^([\d,]+) nodes? (is|are) incompatible/.exec(await statusText(page));
  if (!m) throw new Error(`status region does not state a count: "${await statusText(page)}"`);
  return Number(m[1]!.replace(/,/g, ''));
}
