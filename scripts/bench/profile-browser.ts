// Where the main thread's time goes when the app opens a model (or answers a click) in headless
// Chromium: a CPU profile over the built app, summed by function (inclusive and self time).
// Build without minifying first, so the names mean something:
//   npx vite build --minify false --outDir /tmp/opfit-dist-dev
//   npx tsx scripts/bench/profile-browser.ts MODEL [open|click] [--dist /tmp/opfit-dist-dev] [--target no-prelu]
import { createServer } from 'node:http';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM } from '../../tests/helpers/browser';
import { ROOT } from '../../tests/helpers/paths';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { dist: { type: 'string' }, target: { type: 'string', default: 'no-prelu' }, top: { type: 'string', default: '40' }, 'no-cpu': { type: 'boolean' } } });
const [model, phase = 'open'] = positionals;
if (!model) {
  console.error('usage: profile-browser.ts MODEL [open|click] [--dist DIR] [--target ID]');
  process.exit(2);
}
const root = values.dist ?? join(ROOT, 'dist');
const MIME: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.onnx': 'application/octet-stream' };
const server = createServer((req, res) => {
  let f = join(root, new URL(req.url ?? '/', 'http://x').pathname);
  if (!f.startsWith(root) || !existsSync(f) || statSync(f).isDirectory()) f = join(root, 'index.html');
  res.writeHead(200, { 'content-type': MIME[extname(f)] ?? 'application/octet-stream' });
  res.end(readFileSync(f));
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
try {
  const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
  page.on('console', (m) => { if (m.text().startsWith('PROBE')) console.log(m.text()); });
  if (values['no-cpu']) {
    // Timer callbacks over 45 ms, with where they were scheduled: the tasks the frames above are made of.
    await page.addInitScript(() => {
      const orig = window.setTimeout.bind(window);
      const w = window as unknown as { __timers: { dur: number; at: string }[] };
      w.__timers = [];
      (window as { setTimeout: unknown }).setTimeout = (fn: () => void, ms?: number, ...rest: unknown[]) => {
        const at = (new Error().stack ?? '').split('\n').slice(2, 7).map((l) => l.trim().replace(/^at /, '').replace(/\(?https?:\/\/[^/]+\/assets\//, '(')).join(' < ');
        return orig(() => {
          const t0 = performance.now();
          try { if (typeof fn === 'function') fn(...(rest as [])); } finally {
            // Microtasks queued by the callback (awaits resumed) run after this; counted by the frames, not here.
            w.__timers.push({ dur: t0, at });
          }
        }, ms);
      };
    });
  }
  await page.goto(url);
  await page.locator('[data-graph-ready="true"]').waitFor({ timeout: 60_000 });
  await page.getByRole('combobox', { name: 'Target' }).selectOption(values.target!);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
  // Long animation frames with their scripts: which callback (a task's entry point) took how long.
  await page.evaluate(() => {
    const w = window as unknown as { __loaf: { dur: number; render: number; layout: number; scripts: { dur: number; what: string }[] }[] };
    w.__loaf = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries() as unknown as { startTime: number; duration: number; renderStart: number; styleAndLayoutStart: number; scripts: { startTime: number; duration: number; invoker: string; sourceFunctionName: string; sourceURL: string; sourceCharPosition: number }[] }[]) {
        const end = e.startTime + e.duration;
        w.__loaf.push({ dur: e.duration, render: e.renderStart ? end - e.renderStart : 0, layout: e.styleAndLayoutStart ? end - e.styleAndLayoutStart : 0, scripts: e.scripts.map((x) => ({ start: x.startTime, dur: x.duration, what: `${x.invoker} → ${x.sourceFunctionName || '?'} @${x.sourceURL.split('/').pop()}:${x.sourceCharPosition}` })) });
      }
    }).observe({ type: 'long-animation-frame', buffered: false });
  });
  const cpu = !values['no-cpu']; // the CPU profiler slows the page: without it, the frames' own times
  if (phase === 'open' && cpu) await cdp.send('Profiler.start');
  let t = Date.now();
  await page.locator('.toolbar input[type=file]').setInputFiles(model);
  await page.waitForFunction((n) => document.querySelector('.toolbar .file-name')?.textContent === n && !!document.querySelector('[data-graph-ready="true"]'), basename(model), { timeout: 600_000 });
  if (phase === 'open') console.log(`graph drawn ${Date.now() - t} ms after the file was chosen`);
  await page.waitForTimeout(2000);
  if (phase === 'click') {
    if (cpu) await cdp.send('Profiler.start');
    t = Date.now();
    await page.locator('.finding').first().click();
    await page.locator('.panel.details h2, .panel.details h3').first().waitFor();
    console.log(`finding click answered in ${Date.now() - t} ms`);
    await page.waitForTimeout(1000);
  }
  if (values['no-cpu']) {
    const timers = await page.evaluate(() => (window as unknown as { __timers: { dur: number; at: string }[] }).__timers);
    (globalThis as { __timers?: unknown }).__timers = timers;
  }
  const loaf = await page.evaluate(() => (window as unknown as { __loaf: { dur: number; render: number; layout: number; scripts: { dur: number; what: string }[] }[] }).__loaf);
  console.log('\nlong animation frames (ms), with the scripts that ran in them (callback → function @file:char)');
  for (const f of loaf) {
    const timers = ((globalThis as { __timers?: { dur: number; at: string }[] }).__timers ?? []);
    for (const x of f.scripts) {
      const t = timers.find((tm) => Math.abs(tm.dur - (x as unknown as { start: number }).start) < 2);
      if (t && x.dur >= 20) x.what += ` [scheduled at ${t.at}]`;
    }
    console.log(`${f.dur.toFixed(0).padStart(7)}  render ${f.render.toFixed(0)} (style+layout ${f.layout.toFixed(0)}); ${f.scripts.length} scripts, ${f.scripts.reduce((a, x) => a + x.dur, 0).toFixed(0)} ms in all; ${f.scripts.filter((x) => x.dur >= 5).map((x) => `${x.dur.toFixed(0)} ${x.what}`).join('; ')}`);
  }
  if (cpu) {
    const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: { id: number; callFrame: { functionName: string; lineNumber: number; url: string }; children?: number[] }[]; samples: number[]; timeDeltas: number[] } };
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const sampled = new Map<number, number>();
    profile.samples.forEach((id, i) => sampled.set(id, (sampled.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
    const key = (id: number) => {
      const f = byId.get(id)!.callFrame;
      return `${f.functionName || '(anonymous)'} ${basename(f.url)}:${f.lineNumber + 1}`;
    };
    const self = new Map<string, number>();
    const incl = new Map<string, number>();
    for (const [id, us] of sampled) {
      self.set(key(id), (self.get(key(id)) ?? 0) + us);
      const seen = new Set<string>();
      for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
        const k = key(x);
        if (seen.has(k)) continue;
        seen.add(k);
        incl.set(k, (incl.get(k) ?? 0) + us);
      }
    }
    const top = Number(values.top);
    const print = (title: string, m: Map<string, number>) => {
      console.log(`\n${title} (ms)`);
      for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${(v / 1000).toFixed(0).padStart(7)}  ${k}`);
    };
    print('inclusive', incl);
    print('self', self);

    // Busy stretches (consecutive samples in JavaScript or GC, split at "(idle)" and "(program)", the
    // event loop's own time): roughly the main thread's tasks,
    // each with the functions it spent most in — which single task breaks the 100 ms goal, and why.
    const stretches: { ms: number; ids: number[] }[] = [];
    let cur: { ms: number; ids: number[] } | undefined;
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const fname = byId.get(id)!.callFrame.functionName;
      if (fname === '(idle)' || fname === '(program)') {
        if (cur) stretches.push(cur);
        cur = undefined;
        return;
      }
      cur ??= { ms: 0, ids: [] };
      cur.ms += us / 1000;
      cur.ids.push(id);
    });
    if (cur) stretches.push(cur);
    console.log('\nbusy stretches over 50 ms (ms, then the functions most of it was spent in)');
    for (const st of stretches.filter((x) => x.ms > 50)) {
      const inside = new Map<string, number>();
      for (const id of st.ids) {
        const seen = new Set<string>();
        for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
          const k = key(x);
          if (seen.has(k) || k.startsWith('(')) continue;
          seen.add(k);
          inside.set(k, (inside.get(k) ?? 0) + 1);
        }
      }
      const names = [...inside].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, n]) => `${k.split(' ')[0]} ${Math.round((100 * n) / st.ids.length)}%`);
      console.log(`${st.ms.toFixed(0).padStart(7)}  ${names.join(', ')}`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
