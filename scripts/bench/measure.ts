// One measurement in its own process (the benchmark runs one per row, so peaks do not mix):
//   measure.mjs OP MODEL [OUT]   OP: open | check | rewrite | save
// Prints one JSON line: phase times in ms, peak RSS in kB, bytes read from external data files.
// open: read the file and decode (readModelFile: bytes, fromBinary, byte ranges, data files).
// check: checkModel for the no-prelu target. rewrite: fixAll for no-prelu (every PRelu: the app's
// "Fix all"). save: every PRelu rewritten to Where in one transaction (`opfit convert --form
// where`; fixAll's per-node form search is too slow on big graphs to be the save's prelude), then
// the spliced chunks of the result (what the browser's Blob is built from), then `write`: those
// chunks written to OUT.
import { closeSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { saveModelChunks } from '../../src/onnx/model';
import { readModelFile } from '../../src/onnx/node-files';
import { checkModel } from '../../src/targets/check';
import { applyRewrites } from '../../src/rewrites/engine';
import { fixAll } from '../../src/rewrites/choose';
import { INCOMPATIBLE } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';

const [op, path, out] = process.argv.slice(2);
if (!op || !path) {
  console.error('usage: measure OP MODEL [OUT]');
  process.exit(2);
}
/**
 * Peak resident memory of this process in kB: VmHWM, the high-water mark of this program's own
 * memory. (getrusage's maxrss would do, but Linux carries the parent's peak into it across
 * fork + exec, so a child of a process that once held 1 GB would report 1 GB.)
 */
function peakRssKB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch { /* not Linux */ }
  return process.resourceUsage().maxRSS;
}

if (op === 'baseline') {
  console.log(JSON.stringify({ op, peakRssKB: peakRssKB() }));
  process.exit(0);
}
const target = findTarget('no-prelu')!;
const ms = (t: number) => Math.round((performance.now() - t) * 10) / 10;
const result: Record<string, number | string | undefined> = { op, modelBytes: statSync(path).size };

let t = performance.now();
const opened = readModelFile(path);
result.open = ms(t);
result.nodes = opened.model.graph!.node.length;
if (opened.warning) result.warning = opened.warning;

if (op === 'check') {
  t = performance.now();
  const findings = checkModel(opened.model, target);
  result.check = ms(t);
  result.findings = findings.length;
}
if (op === 'rewrite') {
  t = performance.now();
  const r = fixAll(opened.model, target);
  result.rewrite = ms(t);
  result.rewritten = r.picks.length;
}
if (op === 'save') {
  t = performance.now();
  const picks = checkModel(opened.model, target).filter((f) => INCOMPATIBLE.has(f.status) && f.op === 'PRelu').map((f) => ({ nodeId: f.nodeId, form: 'where' as const }));
  const r = applyRewrites(opened.model, picks, target);
  result.rewriteWhere = ms(t);
  result.rewritten = picks.length;
  {
    t = performance.now();
    const chunks = saveModelChunks(r.model);
    result.save = ms(t);
    result.chunks = chunks.length;
    t = performance.now();
    const fd = openSync(out ?? `${path}.saved.onnx`, 'w');
    let bytes = 0;
    for (const c of chunks) {
      let done = 0;
      while (done < c.length) done += writeSync(fd, c, done, c.length - done);
      bytes += c.length;
    }
    closeSync(fd);
    result.write = ms(t);
    result.savedBytes = bytes;
  }
}
result.dataBytesRead = opened.external.bytesRead;
result.peakRssKB = peakRssKB();
console.log(JSON.stringify(result));
