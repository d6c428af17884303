// `npm run bench`: generates the benchmark models, measures OpFit's core in Node against Debian's
// python3-onnx (onnx.load, SerializeToString) on the same files in the same run, then the app in
// headless Chromium, and prints the tables. Every measurement is its own child process (peaks do
// not mix); each file is read once before it is measured, so both sides start from the page cache.
// Generated files are deleted at the end unless --keep.
//
//   npm run bench -- [--only 10mb,100mb,1gb,10k,50k,ext3gb] [--runs 3] [--keep] [--dir DIR]
//                    [--no-python] [--no-browser] [--timeout 600] [--json FILE] [--netron DIR]
//
// --netron DIR: a copy of Netron's browser build (what netron.app serves), measured in the same run
// on the same files (scripts/bench/netron.ts); without it, Netron's figures quoted in issue 5.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statfsSync, statSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildSync } from 'esbuild';
import { convPreluModel, externalModel, wideGraphModel } from './models';
import { measureBrowser, type BrowserResult } from './browser';
import { measureNetron, type NetronResult } from './netron';
import { ROOT, SHARED } from '../../tests/helpers/paths';

const PYTHON = '/usr/bin/python3';
const MB = 1e6;

const { values: args } = parseArgs({
  options: {
    only: { type: 'string' }, runs: { type: 'string', default: '3' }, keep: { type: 'boolean' }, dir: { type: 'string' },
    'no-python': { type: 'boolean' }, 'no-browser': { type: 'boolean' }, timeout: { type: 'string', default: '600' }, json: { type: 'string' },
    netron: { type: 'string' },
  },
});
const RUNS = Number(args.runs);
const TIMEOUT_S = Number(args.timeout);
const DIR = args.dir ?? join(tmpdir(), 'opfit-bench');
mkdirSync(DIR, { recursive: true });

interface Spec {
  id: string;
  label: string;
  /** Bytes the files take on disk (for the space check). */
  disk: number;
  make(): { model: string; data?: string; dataBytes?: number };
  /** Panned in the browser part. */
  pan?: boolean;
  browser?: boolean;
}

const SPECS: Spec[] = [
  { id: '10mb', label: '~10 MB weights, 4 PRelu', disk: 10 * MB, make: () => ({ model: convPreluModel(DIR, 'prelu-10mb.onnx', 10 * MB, 256) }) },
  { id: '100mb', label: '~100 MB weights, 11 PRelu', disk: 105 * MB, make: () => ({ model: convPreluModel(DIR, 'prelu-100mb.onnx', 100 * MB, 512) }) },
  { id: '1gb', label: '~1 GB weights, 106 PRelu', disk: 1010 * MB, browser: true, make: () => ({ model: convPreluModel(DIR, 'prelu-1gb.onnx', 1000 * MB, 512) }) },
  { id: '10k', label: '10,000 nodes, 2,500 PRelu', disk: 2 * MB, browser: true, pan: true, make: () => ({ model: wideGraphModel(DIR, 'graph-10k.onnx', 10_000) }) },
  { id: '50k', label: '50,000 nodes, 12,500 PRelu', disk: 8 * MB, browser: true, pan: true, make: () => ({ model: wideGraphModel(DIR, 'graph-50k.onnx', 50_000) }) },
  { id: 'ext3gb', label: '~3 GB external data, 80 PRelu', disk: 3020 * MB, make: () => externalModel(DIR, 'external-3gb.onnx', 3000 * MB, 1024) },
];

const only = args.only?.split(',');
const specs = SPECS.filter((s) => !only || only.includes(s.id));

function sh(cmd: string, a: string[]): string {
  try {
    return execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

function machine(): Record<string, string> {
  const lscpu = sh('lscpu', []);
  const pick = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'm').exec(lscpu)?.[1] ?? '?';
  const mem = /^Mem:\s+(\S+)/m.exec(sh('free', ['-h']))?.[1] ?? '?';
  return {
    cpu: pick('Model name'), cpus: pick('CPU\\(s\\)'), memory: mem,
    node: process.version, chromium: sh('/usr/bin/chromium', ['--version']),
    python: sh(PYTHON, ['-c', 'import onnx, google.protobuf as p; from google.protobuf.internal import api_implementation as a; print("onnx", onnx.__version__, "protobuf", p.__version__, a.Type())']),
  };
}

/** Reads a file once so both sides find it in the page cache. */
function warm(path: string): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(16 << 20);
  try {
    while (readSync(fd, buf, 0, buf.length, null) > 0) { /* read */ }
  } finally {
    closeSync(fd);
  }
}

type Row = Record<string, number | string | undefined>;

function child(cmd: string, a: string[]): Promise<Row> {
  return new Promise((resolve) => {
    const p = spawn(cmd, a, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => p.kill('SIGKILL'), TIMEOUT_S * 1000);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') return resolve({ error: `timeout (> ${TIMEOUT_S} s)` });
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(code === 0 ? JSON.parse(line) : { error: err.trim().split('\n').pop() ?? `exit ${code}` });
      } catch {
        resolve({ error: `unreadable output: ${line.slice(0, 200)}` });
      }
    });
  });
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

/** Runs a measurement RUNS times (once if the first run takes over a minute); medians of times, max of peaks. */
async function repeat(cmd: string, a: string[], timeKeys: string[]): Promise<Row> {
  const rows: Row[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = await child(cmd, a);
    rows.push(r);
    if (r.error || performance.now() - t > 60_000) break;
  }
  const ok = rows.filter((r) => !r.error);
  if (ok.length === 0) return rows[0]!;
  const out: Row = { ...ok[0], runs: ok.length };
  for (const k of timeKeys) if (typeof ok[0]![k] === 'number') out[k] = median(ok.map((r) => r[k] as number));
  out.peakRssKB = Math.max(...ok.map((r) => r.peakRssKB as number));
  return out;
}

const fmtMs = (v: unknown) => (typeof v === 'number' ? (v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v).toLocaleString('en-US')} ms`) : String(v ?? '—'));
const fmtMB = (kb: unknown) => (typeof kb === 'number' ? `${Math.round(kb / 1024).toLocaleString('en-US')} MB` : '—');
const ratio = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? `${(a / b).toFixed(a / b < 0.1 ? 3 : 2)}×` : '—');
const fmtBytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

async function main() {
  const info = machine();
  console.log(`OpFit benchmark — ${new Date().toISOString()}`);
  console.log(`machine: ${info.cpu}, ${info.cpus} CPUs, ${info.memory} RAM; Node ${info.node}; ${info.chromium}; python3: ${info.python || 'not available'}`);

  const need = specs.reduce((s, x) => s + x.disk, 0) * 2.1; // models, plus a saved copy of each
  const free = Number(statfsSync(DIR).bavail) * Number(statfsSync(DIR).bsize);
  if (free < need) throw new Error(`${DIR} has ${fmtBytes(free)} free; this run needs about ${fmtBytes(need)}. Use --only or --dir.`);
  console.log(`files in ${DIR} (needs ~${fmtBytes(need)}, ${fmtBytes(free)} free)\n`);

  const measureJs = join(DIR, 'measure.mjs');
  buildSync({ entryPoints: [join(ROOT, 'scripts/bench/measure.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile: measureJs, logLevel: 'warning' });
  const python = !args['no-python'] && existsSync(PYTHON) && !!info.python;
  // What an idle process of each kind takes, so small models' peaks can be read.
  const baseNode = await child(process.execPath, [measureJs, 'baseline', measureJs]);
  const basePy = python ? await child(PYTHON, ['-c', 'import json, re, onnx; print(json.dumps({"peakRssKB": int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1))}))']) : {};
  console.log(`idle process peak: node ${fmtMB(baseNode.peakRssKB)}, python with onnx imported ${fmtMB(basePy.peakRssKB)}\n`);
  const made: string[] = [measureJs];
  const results: Record<string, unknown>[] = [];

  for (const spec of specs) {
    let t = performance.now();
    const files = spec.make();
    made.push(files.model, join(DIR, `${basename(files.model)}.out.onnx`), join(DIR, `${basename(files.model)}.py.onnx`));
    if (files.data) made.push(files.data);
    const gen = performance.now() - t;
    const size = statSync(files.model).size;
    process.stdout.write(`${spec.id}: ${basename(files.model)} ${fmtBytes(size)}${files.data ? ` + ${fmtBytes(files.dataBytes!)} external data` : ''} (generated in ${fmtMs(gen)}) … `);
    warm(files.model);
    if (files.data) warm(files.data);
    t = performance.now();
    const node = (op: string, keys: string[]) => repeat(process.execPath, [measureJs, op, files.model, join(DIR, `${basename(files.model)}.out.onnx`)], keys);
    const r: Record<string, Row | undefined> = {};
    r.open = await node('open', ['open']);
    r.check = await node('check', ['open', 'check']);
    r.rewrite = await node('rewrite', ['open', 'rewrite']);
    r.save = await node('save', ['open', 'rewriteWhere', 'save', 'write']);
    if (python) {
      const noExt = files.data ? ['--no-external'] : [];
      r.pyLoad = await repeat(PYTHON, [join(ROOT, 'scripts/bench/measure.py'), 'load', files.model, ...noExt], ['load']);
      r.pySerialize = await repeat(PYTHON, [join(ROOT, 'scripts/bench/measure.py'), 'serialize', files.model, ...noExt, '--out', join(DIR, `${basename(files.model)}.py.onnx`)], ['load', 'serialize', 'write']);
      if (files.data) r.pyLoadData = await repeat(PYTHON, [join(ROOT, 'scripts/bench/measure.py'), 'load', files.model], ['load']);
    }
    console.log(`measured in ${fmtMs(performance.now() - t)}`);
    results.push({ spec: spec.id, label: spec.label, model: basename(files.model), size, dataBytes: files.dataBytes, ...r });
  }

  // Table 1: times. Table 2: memory and bytes read.
  const get = (x: Record<string, unknown>, k: string) => x[k] as Row | undefined;
  const openCheck = (x: Record<string, unknown>) => {
    const c = get(x, 'check');
    return typeof c?.open === 'number' && typeof c?.check === 'number' ? c.open + c.check : c?.error;
  };
  const t1 = table(
    ['model', 'file', 'nodes', 'OpFit open', 'OpFit open+check', 'python onnx.load', 'ratio', 'OpFit Fix all (fixAll)', 'OpFit all PRelu → Where, one transaction', 'OpFit save (chunks)', 'python SerializeToString', 'ratio', 'OpFit write file', 'python write file'],
    results.map((x) => [
      String(x.label), fmtBytes(x.size as number), String(get(x, 'open')?.nodes ?? '—'),
      fmtMs(get(x, 'open')?.open ?? get(x, 'open')?.error), fmtMs(openCheck(x)), fmtMs(get(x, 'pyLoad')?.load ?? get(x, 'pyLoad')?.error), ratio(openCheck(x), get(x, 'pyLoad')?.load),
      fmtMs(get(x, 'rewrite')?.rewrite ?? get(x, 'rewrite')?.error ?? 'not run'), fmtMs(get(x, 'save')?.rewriteWhere ?? get(x, 'save')?.error ?? 'not run'), fmtMs(get(x, 'save')?.save ?? get(x, 'save')?.error ?? 'not run'), fmtMs(get(x, 'pySerialize')?.serialize ?? get(x, 'pySerialize')?.error), ratio(get(x, 'save')?.save, get(x, 'pySerialize')?.serialize),
      fmtMs(get(x, 'save')?.write), fmtMs(get(x, 'pySerialize')?.write),
    ]),
  );
  const t2 = table(
    ['model', 'file', 'OpFit peak (open)', 'OpFit peak (open, rewrite, save)', 'peak / file', 'python peak (load, serialize)', 'data bytes read by OpFit (open … save)'],
    results.map((x) => [
      String(x.label), fmtBytes(x.size as number), fmtMB(get(x, 'open')?.peakRssKB), get(x, 'save') ? fmtMB(get(x, 'save')?.peakRssKB) : 'not run',
      typeof get(x, 'save')?.peakRssKB === 'number' && !x.dataBytes ? `${(((get(x, 'save')!.peakRssKB as number) * 1024) / (x.size as number)).toFixed(2)}×` : '—',
      fmtMB(get(x, 'pySerialize')?.peakRssKB),
      x.dataBytes ? `${fmtBytes(get(x, 'save')?.dataBytesRead as number ?? 0)} of ${fmtBytes(x.dataBytes as number)} (${(((get(x, 'save')?.dataBytesRead as number ?? 0) / (x.dataBytes as number)) * 100).toFixed(4)}%)` : '—',
    ]),
  );
  console.log(`\n## Node: OpFit core vs python3-onnx (median of up to ${RUNS} runs, each its own process)\n\n${t1}\n\n${t2}`);
  const ext = results.find((x) => x.dataBytes);
  if (ext && get(ext, 'pyLoadData')) {
    console.log(`\nThe external-data model: python onnx.load with its data (load_external_data=True) took ${fmtMs(get(ext, 'pyLoadData')!.load)}, peak ${fmtMB(get(ext, 'pyLoadData')!.peakRssKB)}; the row above is onnx.load(load_external_data=False).`);
  }

  let browser: BrowserResult[] = [];
  let netronResults: (NetronResult | undefined)[] = [];
  if (!args['no-browser']) {
    if (!existsSync(join(ROOT, 'dist/index.html'))) {
      console.log('\nbuilding the app (npm run build) for the browser part …');
      execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore' });
    }
    // The files OpFit and Netron are timed on, with Netron's times as quoted in issue 5.
    const timed: { path: string; nodes?: number; pan?: boolean; quoted: string; netronS: number }[] = [
      { path: join(SHARED, 'onnx/minifasnet-v2.onnx'), quoted: '100-node face model', netronS: 0.38 },
      { path: join(SHARED, 'onnx/gtcrn-full.onnx'), quoted: '1,800-node speech model', netronS: 2.8 },
    ];
    for (const x of results) {
      const spec = SPECS.find((s) => s.id === x.spec)!;
      if (!spec.browser) continue;
      const path = join(DIR, x.model as string);
      if (spec.id === '10k') timed.push({ path, pan: true, quoted: '10,000-node graph', netronS: 9.3 });
      if (spec.id === '50k') timed.push({ path, pan: true, quoted: '50,000 nodes', netronS: 48 });
      if (spec.id === '1gb') timed.push({ path, quoted: '944 MB model', netronS: 14 });
    }
    console.log(`\nbrowser: headless Chromium, OpFit${args.netron ? ' and Netron' : ''}, ${RUNS} run(s) each …`);
    browser = await measureBrowser(timed.map((n) => ({ path: n.path, pan: n.pan })), TIMEOUT_S * 1000, RUNS);
    const measured = (netronResults = args.netron ? await measureNetron(args.netron, timed.map((n) => n.path), TIMEOUT_S * 1000, RUNS) : []);
    const t3 = table(
      ['model', 'OpFit: file chosen → graph drawn', '… → main thread idle', 'longest main-thread task while loading (worst run; median run)', 'longest task while panning / fps',
        ...(args.netron ? ['Netron: file chosen → graph drawn (measured)'] : []), 'Netron (quoted in issue 5)', 'OpFit / Netron', 'goal ≤ 0.3×'],
      browser.map((b, i) => {
        const n = timed[i]!;
        const m = measured[i];
        // A Netron run that timed out gives a lower bound: OpFit / Netron is below the ratio to the timeout.
        const netronMs = args.netron ? m?.toGraphMs ?? m?.timedOutAfterMs : n.netronS * 1000;
        const bound = args.netron && m?.toGraphMs === undefined && m?.timedOutAfterMs !== undefined;
        const rel = b.toGraphMs !== undefined && netronMs !== undefined ? b.toGraphMs / netronMs : undefined;
        return [
          `${b.model} (${n.quoted})`, b.error ? `error: ${b.error}` : fmtMs(b.toGraphMs), fmtMs(b.idleMs),
          `${fmtMs(b.longestTaskMs)}; ${fmtMs(b.longestTaskMedianMs)}`,
          b.panLongestTaskMs !== undefined ? `${fmtMs(b.panLongestTaskMs)} / ${b.panFps} fps` : '—',
          ...(args.netron ? [bound ? `not drawn in ${fmtMs(m!.timedOutAfterMs)} (timed out)` : m?.error ? `error: ${m.error}` : `${fmtMs(m?.toGraphMs)} (${m?.nodes} boxes drawn; runs ${m?.allMs?.map((x) => fmtMs(x)).join(', ')})`] : []),
          `${n.netronS} s`, rel !== undefined ? `${bound ? '< ' : ''}${rel.toFixed(rel < 0.01 ? 4 : 2)}×` : '—', rel === undefined ? '—' : rel <= 0.3 ? 'met' : 'not met',
        ];
      }),
    );
    console.log(`\n## Browser (headless Chromium, this machine; OpFit/Netron against ${args.netron ? 'Netron measured in this run' : "Netron's figures quoted in issue 5"})\n\n${t3}`);
    console.log('\n(0 ms: no task over 50 ms, the threshold of the browser\'s long-task report.)');
  }

  if (args.json) writeFileSync(args.json, JSON.stringify({ machine: info, date: new Date().toISOString(), results, browser, netron: netronResults }, null, 2));
  if (!args.keep) {
    for (const f of made) rmSync(f, { force: true });
    console.log(`\nremoved the generated files (--keep keeps them in ${DIR})`);
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});

