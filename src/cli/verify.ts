// opfit verify ORIGINAL CONVERTED [--inputs FILE...] [--edge] [--tolerance T] [--seed N]
//                                 [--dim NAME=SIZE]... [--local]
// Runs both models with onnxruntime-node on the same inputs and prints the per-output errors.
// Exit 0: every output within tolerance. 1: a difference, or bad input (one clear line; two models
// that do not take the same inputs are bad input). 2: usage error (a bad value: one line). The lead wires this into main.ts; onnxruntime-node is loaded only here.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { ModelReadError } from '../onnx/model';
import { allModelTensors, isExternalTensor } from '../onnx/external';
import { dataFileProblem, readModelFile, type OpenedModelFile } from '../onnx/node-files';
import { dtypeName } from '../onnx/dtypes';
import type { ModelProto } from 'onnx-buf';
import { fmtShape } from '../graph/broadcast';
import { modelInputs, InputError, type FeedPlan, type InputMode, type InputSpec } from '../verify/inputs';
import { parseTensorFile, TensorFileError, type TensorFile } from '../verify/tensor-file';
import { fmtTolerance, verifyModels, type VerifyReport } from '../verify/verify';
import { buildLocalPairs, runLocalCheck, type LocalResult } from '../verify/local';
import { CRITERION, outputVerdict, type OutputComparison } from '../verify/compare';
import { fmtError, fmtValue } from '../verify/format';
import type { OrtLike } from '../verify/types';
import { OPTIONS } from './options';
import { count } from '../plural';

export const VERIFY_USAGE = `usage:
  opfit verify ORIGINAL CONVERTED [--inputs FILE...] [--edge] [--tolerance T] [--seed N] [--dim NAME=SIZE]... [--local]

  --inputs FILE...  .npy or TensorProto .pb files, one per model input: matched by the tensor's name
                    (.pb), by file name (x.npy for input x, input_0.pb for the first input), else in order
  --edge            inputs full of edge values (NaN, ±inf, −0.0, ±max, …) between random values
  --tolerance T     pass when every |converted − original| ≤ T·max(1, |original|) (default 1e-5)
  --seed N          seed of the random inputs (default 1); the same seed gives the same inputs
  --dim NAME=SIZE   size of a symbolic dimension (default 1)
  --local           also check every rewritten PRelu on its own against the original node`;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}
const CONSOLE: Io = { out: (s) => console.log(s), err: (s) => console.error(s) };

/** A missing argument: the message and the usage text. */
class UsageError extends Error {}
/** A bad value: one line saying what is wrong. */
class Misuse extends Error {}

async function loadOrt(): Promise<OrtLike> {
  try {
    const ort = await import('onnxruntime-node');
    ort.env.logLevel = 'error';
    return ort as unknown as OrtLike;
  } catch (e) {
    throw new InputError(`opfit verify needs onnxruntime-node, which could not be loaded (${(e as Error).message.split('\n')[0]}); install it with npm install onnxruntime-node`);
  }
}

function readFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** `--inputs a b c` takes every following argument up to the next option; parseArgs cannot. */
function splitInputs(args: string[]): { rest: string[]; files: string[] } {
  const rest: string[] = [];
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] !== '--inputs') { rest.push(args[i]!); continue; }
    const before = files.length;
    while (i + 1 < args.length && !args[i + 1]!.startsWith('--')) files.push(args[++i]!);
    if (files.length === before) throw new UsageError('--inputs needs at least one FILE');
  }
  return { rest, files };
}

/** Matches tensor files to model inputs: by the tensor's own name, by file name, then in order. */
export function matchInputFiles(inputNames: readonly string[], files: readonly { path: string; tensor: TensorFile }[]): Record<string, TensorFile & { source: string }> {
  const out: Record<string, TensorFile & { source: string }> = {};
  const left: typeof files[number][] = [];
  for (const f of files) {
    const stem = basename(f.path, extname(f.path));
    const byIndex = /^input_(\d+)$/.exec(stem);
    const name = f.tensor.name && inputNames.includes(f.tensor.name) ? f.tensor.name
      : inputNames.includes(stem) ? stem
      : byIndex && inputNames[Number(byIndex[1])] !== undefined ? inputNames[Number(byIndex[1])]
      : undefined;
    if (name === undefined) { left.push(f); continue; }
    if (out[name]) throw new InputError(`${out[name]!.source} and ${f.path} are both for input ${name}`);
    out[name] = { ...f.tensor, source: f.path };
  }
  const free = inputNames.filter((n) => !out[n]);
  if (left.length > free.length) {
    throw new InputError(`${left.map((f) => f.path).join(', ')}: no model input left to take ${left.length > 1 ? 'them' : 'it'} (inputs: ${inputNames.join(', ') || 'none'})`);
  }
  left.forEach((f, i) => { out[free[i]!] = { ...f.tensor, source: f.path }; });
  return out;
}

function outputRow(o: OutputComparison): string {
  const extra = [
    o.problem,
    o.nanMismatch ? `NaN in one model only at ${o.nanMismatch} position${o.nanMismatch === 1 ? '' : 's'}` : '',
    o.outside && !o.problem ? `${o.outside.toLocaleString('en-US')} of ${count(o.count, 'value')} outside tolerance` : '',
    o.worst && !o.pass ? `worst at [${o.worst.index}]: original ${fmtValue(o.worst.original)}, converted ${fmtValue(o.worst.converted)}` : '',
    o.nanBoth ? `NaN in both at ${o.nanBoth}` : '',
    o.signedZero ? `−0.0 vs +0.0 at ${o.signedZero}` : '',
  ].filter(Boolean).join('; ');
  return `  ${o.name.padEnd(16)} ${fmtError(o.maxAbs).padEnd(10)} ${fmtError(o.maxRel).padEnd(10)} ${outputVerdict(o)}${extra ? `  (${extra})` : ''}`;
}

function printReport(r: VerifyReport, io: Io): void {
  io.out('inputs:');
  for (const i of r.inputs) io.out(`  ${i.name.padEnd(16)} ${i.dtype} ${fmtShape(i.dims)}  ${i.source}`);
  if (r.status === 'original-cannot-run') {
    io.out(`the original model cannot run in ONNX Runtime: ${r.originalError}`);
    for (const w of r.originalWhy ?? []) io.out(`  ${w}`);
    if (r.convertedError) io.out(`the converted model cannot run either: ${r.convertedError}`);
    return;
  }
  if (r.status === 'converted-cannot-run') {
    io.out(`the converted model cannot run in ONNX Runtime: ${r.convertedError}`);
    return;
  }
  io.out(`  ${'output'.padEnd(16)} ${'max abs'.padEnd(10)} ${'max rel'.padEnd(10)} result`);
  for (const o of r.outputs) io.out(outputRow(o));
}

function printLocal(results: LocalResult[], io: Io): void {
  io.out('local check (each rewritten PRelu against the original node):');
  // A note said once: 33 nodes rewritten alike would repeat the same explanation 33 times. Notes
  // that differ only in their counts ("at 894 positions") are the same explanation.
  const firstWith = new Map<string, string>();
  for (const r of results) {
    const c = r.comparison;
    const figures = c ? `max abs ${fmtError(c.maxAbs)}, max rel ${fmtError(c.maxRel)}` : '';
    const label = r.status === 'pass' ? (r.against === 'intended-meaning' ? 'pass (against the intended meaning)' : 'pass') : r.status === 'skipped' ? 'skipped' : 'FAIL';
    const key = r.note.replace(/\d[\d,.]*/g, '#');
    const first = firstWith.get(key);
    if (first === undefined) firstWith.set(key, r.name);
    io.out(`  ${r.name}: ${label}${figures ? `, ${figures}` : ''} — ${first === undefined ? r.note : `as for ${first}`}`);
  }
}

export interface VerifyFlags {
  mode: InputMode;
  seed: number;
  tolerance: number;
  sizes: Record<string, number>;
  local: boolean;
}

/**
 * Opens a model for verify: the .onnx is read, its external data files are connected (not read).
 * ONNX Runtime must load a model with external data from its path, the data files beside it, so a
 * data file that is missing or unusable is bad input here: one line naming it and where it belongs.
 */
function openForVerify(path: string): OpenedModelFile & { path?: string } {
  if (existsSync(path) && statSync(path).isDirectory()) throw new InputError(`${path} is a directory; give the path of an .onnx file`);
  let opened: OpenedModelFile;
  try {
    opened = readModelFile(path);
  } catch (e) {
    if (e instanceof ModelReadError || !(e as NodeJS.ErrnoException).code) throw e;
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const missing = dataFileProblem(path, opened.report, (bad) =>
    `ONNX Runtime needs ${bad.length === 1 ? 'that file' : 'those files'} to run the model; put ${bad.length === 1 ? 'it' : 'them'} there and run again`);
  if (missing) throw new InputError(missing);
  // Weights in data files: ONNX Runtime loads the model from its path and finds them beside it.
  return allModelTensors(opened.model).some(isExternalTensor) ? { ...opened, path } : opened;
}

/** Two dimensions that cannot be the same size: both fixed and different. */
const dimsDiffer = (a: InputSpec['shape'][number], b: InputSpec['shape'][number]) => typeof a === 'number' && typeof b === 'number' && a > 0 && b > 0 && a !== b;

/**
 * Why two models cannot be compared on the same inputs (a conversion keeps its model's inputs):
 * an input one model has and the other has not, another dtype, another rank or fixed size. A
 * symbolic dimension matches any size. Undefined when the inputs agree.
 */
export function inputsDiffer(a: ModelProto, b: ModelProto, nameA: string, nameB: string): string | undefined {
  const inA = modelInputs(a);
  const inB = new Map(modelInputs(b).map((s) => [s.name, s]));
  const parts: string[] = [];
  for (const x of inA) {
    const y = inB.get(x.name);
    inB.delete(x.name);
    if (!y) parts.push(`input ${x.name} is in ${nameA} but not in ${nameB}`);
    else if (x.dtype !== y.dtype) parts.push(`input ${x.name} is ${dtypeName(x.dtype)} in ${nameA} and ${dtypeName(y.dtype)} in ${nameB}`);
    else if (x.shape.length !== y.shape.length || x.shape.some((d, i) => dimsDiffer(d, y.shape[i]!))) parts.push(`input ${x.name} is ${fmtShape(x.shape)} in ${nameA} and ${fmtShape(y.shape)} in ${nameB}`);
  }
  for (const y of inB.values()) parts.push(`input ${y.name} is in ${nameB} but not in ${nameA}`);
  if (parts.length === 0) return undefined;
  return `the two models do not take the same inputs: ${parts.join('; ')}; verify compares a model with its conversion, which takes the same inputs`;
}

/** Verifies two model files; for `opfit verify` and `opfit convert … --verify`. */
export async function verifyFiles(
  originalPath: string,
  convertedPath: string,
  flags: VerifyFlags,
  inputFiles: readonly string[] = [],
  io: Io = CONSOLE,
): Promise<number> {
  const original = { ...openForVerify(originalPath), name: originalPath };
  const converted = { ...openForVerify(convertedPath), name: convertedPath };
  const { model: origModel, path: origPath } = original;
  const { model: convModel, path: convPath } = converted;
  const differ = inputsDiffer(origModel, convModel, original.name, converted.name);
  if (differ) throw new InputError(differ);
  const names = modelInputs(origModel).map((s) => s.name);
  const tensors = inputFiles.map((path) => ({ path, tensor: parseTensorFile(readFile(path), path) }));
  const plan: FeedPlan = { mode: flags.mode, seed: flags.seed, sizes: flags.sizes, files: matchInputFiles(names, tensors) };
  const ort = await loadOrt();
  const paths = { ...(origPath ? { original: origPath } : {}), ...(convPath ? { converted: convPath } : {}) };
  const report = await verifyModels(ort, original.bytes, converted.bytes, { ...plan, tolerance: flags.tolerance, paths }, undefined, { original: original.name, converted: converted.name });
  io.out(`verify ${original.name} → ${converted.name}`);
  printReport(report, io);
  let localOk = true;
  let intended = false;
  if (flags.local) {
    const results: LocalResult[] = [];
    for (const item of buildLocalPairs(origModel, convModel, flags.sizes)) results.push(await runLocalCheck(ort, item, { seed: flags.seed, tolerance: flags.tolerance }));
    printLocal(results, io);
    const checked = results.filter((r) => r.status !== 'skipped' || !r.note.startsWith('not rewritten'));
    localOk = checked.every((r) => r.status === 'pass');
    intended = checked.some((r) => r.against === 'intended-meaning');
    if (checked.length === 0) io.out('  (no rewritten PRelu to check)');
  }
  if (report.status === 'pass' && localOk) {
    io.out(`pass: ${report.summary}${flags.local ? ' Every rewritten node passed the local check.' : ''}`);
    io.out(`  (${CRITERION}; T = ${fmtTolerance(flags.tolerance)})`);
    return 0;
  }
  if (report.status === 'original-cannot-run' && flags.local && localOk) {
    io.out(`pass (local check only): the original model cannot run in ONNX Runtime, so the whole models were not compared; every rewritten node matches ${intended ? 'what the original node means' : 'the original node'}`);
    return 0;
  }
  if (report.status === 'inconclusive' && flags.local && localOk) {
    io.out(`pass (local check only): ${report.summary.replace(/^Not a pass: /, '')} Every rewritten node matches the original node on its own.`);
    return 0;
  }
  const why = report.status === 'original-cannot-run'
    ? `${report.summary}${flags.local ? '' : ' Run again with --local.'}`
    : report.status === 'pass' ? 'the whole models agree, but the local check failed for some node'
    : report.status === 'inconclusive' && !flags.local ? `${report.summary} Run again with --local, or without --edge.` : report.summary;
  io.err(`opfit: verify failed: ${why}`);
  return 1;
}

function parseFlags(values: { edge?: boolean; tolerance?: string; seed?: string; dim?: string[]; local?: boolean }): VerifyFlags {
  const tolerance = values.tolerance === undefined ? 1e-5 : Number(values.tolerance);
  if (!Number.isFinite(tolerance) || tolerance < 0 || values.tolerance?.trim() === '') throw new Misuse(`--tolerance takes a number ≥ 0, not "${values.tolerance}"`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Misuse(`--seed takes a whole number from 0 to 4294967295, not "${values.seed}"`);
  const sizes: Record<string, number> = {};
  for (const d of values.dim ?? []) {
    const m = /^(.+)=(\d+)$/.exec(d);
    if (!m) throw new Misuse(`--dim takes NAME=SIZE, not "${d}"`);
    sizes[m[1]!] = Number(m[2]);
  }
  return { mode: values.edge ? 'edge' : 'random', seed, tolerance, sizes, local: !!values.local };
}

export async function runVerifyCommand(args: string[], io: Io = CONSOLE): Promise<number> {
  try {
    const { rest, files } = splitInputs(args);
    const { values, positionals } = parseArgs({
      args: rest, allowPositionals: true,
      options: OPTIONS.verify,
    });
    if (positionals.length !== 2) throw new UsageError(`verify takes ORIGINAL and CONVERTED (got ${positionals.length} model path${positionals.length === 1 ? '' : 's'})`);
    const flags = parseFlags(values);
    const [a, b] = positionals as [string, string];
    return await verifyFiles(a, b, flags, files, io);
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`opfit: ${(e as Error).message}\n${VERIFY_USAGE}`);
      return 2;
    }
    if (e instanceof Misuse) {
      io.err(`opfit: ${e.message}`);
      return 2;
    }
    if (e instanceof ModelReadError || e instanceof InputError || e instanceof TensorFileError) {
      io.err(`opfit: ${e.message}`);
      return 1;
    }
    io.err(`opfit: verify failed: ${(e as Error).message}`);
    return 1;
  }
}
