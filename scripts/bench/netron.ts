// Netron, measured the way the browser part measures OpFit: a copy of Netron's browser build (the
// folder netron.app serves; not part of this repository, given with `npm run bench -- --netron DIR`)
// served from loopback, in a fresh headless Chromium page per run, from the file input's change
// event to the first drawn node of its graph. Nothing leaves the machine: every request to another
// origin is refused (its consent probe, analytics).
import { basename, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium, serveStatic } from '../../tests/helpers/browser';

export interface NetronResult {
  model: string;
  /** Median ms from the change event to the graph drawn. */
  toGraphMs?: number;
  /** Every run's ms. */
  allMs?: number[];
  /** Nodes drawn (Netron's boxes, graph inputs and outputs included). */
  nodes?: number;
  /** Set when a run did not draw the graph within the time allowed (ms): Netron takes longer than that. */
  timedOutAfterMs?: number;
  error?: string;
}

async function once(browser: Browser, origin: string, path: string, timeoutMs: number): Promise<{ ms: number; nodes: number }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    // Consent given up front, so no prompt and no lookup of the visitor's country.
    await context.addCookies([{ name: 'consent', value: String(Date.now()), url: origin }]);
    await context.route('**/*', (route) => (route.request().url().startsWith(origin) ? route.continue() : route.abort()));
    const page = await context.newPage();
    page.on('dialog', (d) => void d.accept()); // "Large model detected … continue?" above 2,048 nodes
    // A string, not a function: tsx's helpers for named functions do not exist in the page.
    // Netron replaces window.eval with a stub that throws, and playwright's evaluate needs it.
    await page.addInitScript(`(() => {
      const realEval = window.eval;
      Object.defineProperty(window, 'eval', { get: () => realEval, set: () => {}, configurable: true });
      window.addEventListener('change', (e) => {
        if (e.target && e.target.id === 'open-file-dialog') window.__t0 = performance.now();
      }, true);
    })()`);
    await page.goto(`${origin}index.html`);
    await page.waitForFunction(() => document.body.classList.contains('welcome') && !document.body.classList.contains('spinner'), null, { timeout: 60_000 });
    await page.setInputFiles('#open-file-dialog', resolve(path));
    const handle = await page.waitForFunction(() => {
      const b = document.body.classList;
      const message = document.getElementById('message-text')?.textContent;
      if (b.contains('message') && message) return { error: message };
      const nodes = document.querySelectorAll<SVGGElement>('#canvas g.nodes > g.node');
      if (b.contains('default') && nodes.length > 0 && nodes[0]!.style.opacity !== '0') {
        return { ms: performance.now() - (window as unknown as { __t0: number }).__t0, nodes: nodes.length };
      }
      return null;
    }, null, { timeout: timeoutMs, polling: 'raf' });
    const v = (await handle.jsonValue()) as { ms: number; nodes: number } | { error: string };
    if ('error' in v) throw new Error(`Netron says: ${v.error}`);
    return v;
  } finally {
    await context.close();
  }
}

/** Each model `runs` times (a fresh page each), in Netron served from `dir`. */
export async function measureNetron(dir: string, models: string[], timeoutMs: number, runs = 3): Promise<NetronResult[]> {
  const { server, url } = await serveStatic(resolve(dir), false);
  const browser = await launchChromium();
  const out: NetronResult[] = [];
  try {
    for (const path of models) {
      const r: NetronResult = { model: basename(path), allMs: [] };
      try {
        for (let i = 0; i < runs; i++) {
          const v = await once(browser, url, path, timeoutMs);
          r.allMs!.push(Math.round(v.ms));
          r.nodes = v.nodes;
          if (v.ms > 60_000) break; // one run is enough to say it takes minutes

        }
      } catch (e) {
        r.error = (e as Error).message.split('\n')[0];
        if ((e as Error).name === 'TimeoutError' || /Timeout \d+ms exceeded/.test(r.error ?? '')) r.timedOutAfterMs = timeoutMs;
      }
      const sorted = [...r.allMs!].sort((a, b) => a - b);
      if (sorted.length) r.toGraphMs = sorted[Math.floor((sorted.length - 1) / 2)];
      out.push(r);
    }
  } finally {
    await browser.close();
    server.close();
  }
  return out;
}
