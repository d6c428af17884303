// Browser part of the benchmark: the built app (dist/) in headless Debian Chromium, driven by
// playwright-core. Per model, a fresh page: time from choosing the file (the input's change event,
// in-page clock) to `[data-graph-ready="true"]` with the new file's name shown, and the longest
// main-thread task (PerformanceObserver 'longtask') in that window; for big graphs also the longest
// task while panning and zooming the drawn graph.
import { basename } from 'node:path';
import type { Page } from 'playwright-core';
import { startApp, graphReady } from '../../tests/helpers/browser';

export interface BrowserResult {
  model: string;
  nodes?: number;
  /** ms from the file input's change event to the graph drawn. */
  toGraphMs?: number;
  /** Longest main-thread task in that window (0: none over 50 ms, the longtask threshold). */
  longestTaskMs?: number;
  /** ms from the change event until the main thread is idle (the end of the last long task after it, once 1 s passes without one). */
  idleMs?: number;
  /** Longest task while panning and zooming, when measured. */
  panLongestTaskMs?: number;
  /** Frames per second while panning (requestAnimationFrame count). */
  panFps?: number;
  error?: string;
}

declare global {
  interface Window {
    __long?: { start: number; dur: number }[];
    __t0?: number;
    __t1?: number;
  }
}

async function installProbes(page: Page): Promise<void> {
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__long!.push({ start: e.startTime, dur: e.duration });
    }).observe({ type: 'longtask', buffered: true });
    const input = document.querySelector<HTMLInputElement>('.toolbar input[type=file]')!;
    input.addEventListener('change', () => { window.__t0 = performance.now(); }, { capture: true, once: true });
  });
}

async function longestBetween(page: Page, from: number, to: number): Promise<number> {
  return page.evaluate(([a, b]) => Math.max(0, ...window.__long!.filter((t) => t.start + t.dur >= a! && t.start <= b!).map((t) => t.dur)), [from, to]);
}

async function pan(page: Page): Promise<{ longest: number; fps: number }> {
  const box = (await page.locator('.react-flow__pane').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  // A string, not a function: the bundler's helper for named functions does not exist in the page.
  const t0 = await page.evaluate<number>(`(() => {
    window.__frames = 0;
    const tick = () => { window.__frames++; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    return performance.now();
  })()`);
  for (let i = 0; i < 8; i++) {
    await page.mouse.move(cx, cy);
    await page.mouse.down();
    await page.mouse.move(cx + (i % 2 ? 300 : -300), cy + (i % 4 < 2 ? 200 : -250), { steps: 20 });
    await page.mouse.up();
    await page.mouse.wheel(0, i % 2 ? -400 : 400);
  }
  await page.waitForTimeout(300);
  const [t1, frames] = await page.evaluate<[number, number]>('[performance.now(), window.__frames]');
  return { longest: await longestBetween(page, t0, t1), fps: Math.round((frames / (t1 - t0)) * 1000) };
}

export async function measureBrowser(models: { path: string; nodes?: number; pan?: boolean }[], timeoutMs = 600_000): Promise<BrowserResult[]> {
  const app = await startApp();
  const out: BrowserResult[] = [];
  try {
    for (const m of models) {
      const name = basename(m.path);
      const context = await app.browser.newContext({ viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const r: BrowserResult = { model: name, nodes: m.nodes };
      try {
        await page.goto(app.url);
        await graphReady(page);
        await installProbes(page);
        await page.locator('.toolbar input[type=file]').setInputFiles(m.path);
        await page.waitForFunction((n) => {
          const ok = document.querySelector('.toolbar .file-name')?.textContent === n && !!document.querySelector('[data-graph-ready="true"]');
          if (ok && window.__t1 === undefined) window.__t1 = performance.now();
          return ok;
        }, name, { polling: 'raf', timeout: timeoutMs });
        const [t0, t1] = await page.evaluate(() => [window.__t0!, window.__t1!]);
        r.toGraphMs = Math.round(t1 - t0);
        // Idle: 1 s without a long task (checked in the page, so a blocked page cannot end the wait early).
        await page.waitForFunction(() => {
          const last = Math.max(window.__t1!, ...window.__long!.map((t) => t.start + t.dur));
          return performance.now() - last > 1000;
        }, undefined, { polling: 100, timeout: timeoutMs });
        const [idle] = await page.evaluate(() => [Math.max(window.__t1!, ...window.__long!.filter((t) => t.start + t.dur >= window.__t0!).map((t) => t.start + t.dur))]);
        r.idleMs = Math.round(idle! - t0);
        r.longestTaskMs = Math.round(await longestBetween(page, t0, idle!));
        if (m.pan) {
          const p = await pan(page);
          r.panLongestTaskMs = Math.round(p.longest);
          r.panFps = p.fps;
        }
      } catch (e) {
        r.error = (e as Error).message.split('\n')[0];
      }
      out.push(r);
      await context.close();
    }
  } finally {
    await app.close();
  }
  return out;
}
