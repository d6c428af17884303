// opfit — the same core as the app, for batch work.
//   opfit targets [--json]
//   opfit inspect MODEL --target ID[,ID…] [--json] [--strict]   (--strict: exit 3 if a node is incompatible)
//   opfit convert MODEL... --target ID [--form ID] (-o OUT | --out-dir DIR)
// A target is a built-in id or a profile file (./my-npu.json, as the app exports it).
// Bad input: one clear line on stderr and exit 1. Usage errors exit 2: an unknown flag or a missing
// argument with the usage text, a mistake in what was asked (an unknown target, two inputs that
// would overwrite each other, …) as one line saying what to do.
// Outputs: never over an input or a data file an input reads (the same file by device and inode, so
// also through hard and symbolic links); written through a temporary file renamed into place; a
// missing output folder is created (-o and --out-dir alike).
// Models with external data: the .onnx is read, its data files only where a value is needed (a
// PRelu slope); a missing data file is one line naming it (inspect: a warning, exit unchanged;
// convert/fuse: the output is written with its references, exit 1). Saving into another folder
// hard-links (else copies) the data files beside the output, and never overwrites different ones.
import { existsSync, readFileSync, realpathSync, statSync, mkdirSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import pkg from '../../package.json';
import { parseArgs } from 'node:util';
import { ModelReadError, type ModelProto } from '../onnx/model';
import { checkDataFiles, DataFileConflict, dataFileProblem, placeDataFiles, readModelFile, writeFileAtomic, writeModelFile, type OpenedModelFile, type PlacedDataFile } from '../onnx/node-files';
import { badLocation, externalLocations, type ExpectedFile } from '../onnx/external';
import { InputError as VerifyInputError } from '../verify/inputs';
import { TARGETS, findTarget, validateProfile } from '../targets/registry';
import { checkModel, INCOMPATIBLE } from '../targets/check';
import { applyRewrites, RewriteRefused, type Pick } from '../rewrites/engine';
import { fixAll } from '../rewrites/choose';
import { fuseAll } from '../rewrites/fuse-all';
import { FORM_IDS } from '../rewrites/registry';
import type { TargetProfile } from '../targets/types';
import { runVerifyCommand, verifyFiles, VERIFY_USAGE } from './verify';
import { OPTIONS } from './options';
import { count } from '../plural';

const USAGE = `usage:
  opfit --version | -V
  opfit --help | -h
  opfit targets [--json]
  opfit inspect MODEL --target ID[,ID…] [--json] [--strict]
  opfit convert MODEL... --target ID [--form ID] (-o OUT | --out-dir DIR) [--verify [--edge] [--tolerance T] [--seed N]]
  opfit fuse MODEL --target ID -o OUT      fold decomposed PReLU patterns back into PRelu
  ${VERIFY_USAGE.replace(/^usage:\n\s*/, '')}

  --json            machine-readable output
  --strict          inspect: exit 3 when a target cannot run some node (exit 1 and 2 mean bad input and usage)
  -o OUT            the output file; a missing folder is created
  --out-dir DIR     one output per MODEL, named as it; a missing folder is created
  --verify          convert: run the original and the output in ONNX Runtime and compare (as opfit verify --local)

targets: an id from \`opfit targets\`, or a profile file (e.g. ./my-npu.json)

forms: ${FORM_IDS.join(', ')} (default: the best form for the target, per node)`;

/** An unknown flag or a missing argument: the message, then the usage text; exit 2. */
class UsageError extends Error {}
/** A mistake in what was asked (a value, a combination): one line saying what to do; exit 2. */
class Misuse extends Error {}
class InputError extends Error {}

const isFile = (path: string) => existsSync(path) && statSync(path).isFile();
const looksLikePath = (s: string) => s.endsWith('.json') || s.includes('/') || s.includes('\\');

/** A profile file: read, parsed and validated; a bad file is one InputError line naming the field. */
function profileFile(path: string): TargetProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read target profile ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(`target profile ${path} is not valid JSON: ${(e as Error).message}`);
  }
  try {
    return validateProfile(data, `target profile ${path}`);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
}

/** --target: one built-in id, a comma-separated list of them, or profile files. */
function targets(spec: string | undefined): TargetProfile[] {
  if (!spec) throw new UsageError('--target ID is required');
  if (isFile(spec)) return [profileFile(spec)];
  const ids = spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids.length === 0) throw new UsageError('--target ID is required');
  return ids.map((id) => {
    const t = findTarget(id);
    if (t) return t;
    if (looksLikePath(id)) return profileFile(id);
    throw new Misuse(`unknown target "${id}"; targets: ${TARGETS.map((x) => x.id).join(', ')} (or a profile file such as ./my-npu.json)`);
  });
}

function target(spec: string | undefined): TargetProfile {
  const list = targets(spec);
  if (list.length > 1) throw new Misuse('convert takes one target; give a single --target ID');
  return list[0]!;
}

/** Opens a model file; its external data files are connected, not read (src/onnx/node-files.ts). */
function load(path: string): OpenedModelFile {
  if (existsSync(path) && statSync(path).isDirectory()) throw new InputError(`${path} is a directory; give the path of an .onnx file`);
  try {
    return readModelFile(path);
  } catch (e) {
    if (e instanceof ModelReadError || !(e as NodeJS.ErrnoException).code) throw e;
    throw new InputError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** The end of the missing-data line for convert and fuse: the output is there, and what it still needs. */
function writtenWithout(out: string, bad: readonly ExpectedFile[]): string {
  const names = bad.map((f) => f.location).join(', ');
  return `${out} was written with its references to ${names}, and runs once ${bad.length === 1 ? 'that file is' : 'those files are'} beside it in ${dirname(resolve(out))}`;
}

/** What `placeDataFiles` did, one line per data file, for the output of convert and fuse. */
function placedLines(placed: readonly PlacedDataFile[], outDir: string): string[] {
  return placed.map((p) =>
    p.action === 'linked' ? `  data file ${p.location}: hard-linked into ${outDir} (no extra disk space; the same file as ${p.source})`
    : p.action === 'copied' ? `  data file ${p.location}: copied to ${p.path} (a hard link was not possible there)`
    : p.action === 'present' ? `  data file ${p.location}: already in ${outDir}, the same data`
    : p.action === 'missing' ? `  data file ${p.location}: not placed (${p.source} does not exist); the output expects it at ${p.path}`
    : `  data file ${p.location}: not placed (ONNX requires a path relative to the model, inside its folder)`);
}

const fileId = (path: string): string | undefined => {
  try {
    const st = statSync(path); // follows symbolic links: the file that would be written
    return st.isFile() ? `${st.dev}:${st.ino}` : undefined;
  } catch {
    return undefined;
  }
};

/**
 * The files a run must never write over: every input model, and every data file an input reads.
 * Compared as files (device and inode, then the real path), so a hard or symbolic link to one of
 * them, or another spelling of its path, is caught.
 */
class Protected {
  private ids = new Map<string, string>();
  private reals = new Map<string, string>();

  private add(path: string, what: string) {
    const id = fileId(path);
    if (id && !this.ids.has(id)) this.ids.set(id, what);
    const real = existsSync(path) ? realpathSync(path) : resolve(path);
    if (!this.reals.has(real)) this.reals.set(real, what);
  }

  input(path: string) {
    this.add(path, `the input ${path}`);
  }

  /** The data files `model` (read from `path`) reads, resolved beside it. */
  dataFiles(path: string, model: ModelProto) {
    for (const location of externalLocations(model)) {
      if (badLocation(location)) continue;
      const file = join(dirname(path), location);
      this.add(file, `${file}, a data file ${path} reads`);
    }
  }

  /** What `path` is, when it is one of the protected files. */
  find(path: string): string | undefined {
    const id = fileId(path);
    return (id && this.ids.get(id)) || this.reals.get(existsSync(path) ? realpathSync(path) : resolve(path));
  }

  /** Throws the one line refusing to write `out`, when it is one of the protected files. */
  check(out: string, what: string) {
    const found = this.find(out);
    if (!found) return;
    const same = found.startsWith('the input ') && found !== `the input ${out}` ? ` (${out} is the same file)` : '';
    throw new InputError(`refusing to overwrite ${found}${same}: write the ${what} somewhere else`);
  }
}

/** The one-line reason for a failed write, saying what to do. */
function writeFailure(out: string, e: unknown, outDir?: string): InputError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT' ? `the folder ${outDir ?? dirname(out)} does not exist`
    : code === 'EISDIR' ? `${out} is a directory (use --out-dir DIR to write into a directory)`
    : code === 'EEXIST' || code === 'ENOTDIR' ? `${outDir ?? dirname(out)} exists and is not a directory`
    : code === 'EACCES' || code === 'EPERM' ? `no permission to write there`
    : code === 'ENOSPC' ? 'the disk is full'
    : (e as Error).message;
  return new InputError(`cannot write ${out}: ${why}`);
}

/**
 * Writes an output model: the spliced save of `model` (tensors that were external stay external),
 * or the input's own bytes when nothing changed, through a temporary file renamed into place. A
 * missing output folder is created (`created` names it). Refused (one line) when the output, or a
 * data file that already exists where the output expects it, is a protected file. When it goes to
 * another folder than the input, the data files it references are put beside it (placeDataFiles); a
 * different file already there is refused before anything is written. A file-system failure
 * becomes one line.
 */
function writeOutput(input: string, out: string, data: ModelProto | Uint8Array, references: ModelProto, guard: Protected, what: string, outDir?: string): { placed: PlacedDataFile[]; created?: string } {
  // As the user spelled them, so the messages name paths the way the command line did.
  const from = dirname(input);
  const to = dirname(out);
  guard.check(out, what);
  for (const location of externalLocations(references)) {
    if (badLocation(location)) continue;
    const src = join(from, location);
    const dst = join(to, location);
    // The data file the output expects is its own source (the same folder, or a link): nothing is written there.
    if (fileId(dst) && fileId(dst) !== fileId(src)) guard.check(dst, what);
  }
  let created: string | undefined;
  try {
    created = mkdirSync(outDir ?? to, { recursive: true });
    if (existsSync(to) && statSync(to).isDirectory()) checkDataFiles(references, from, to);
    if (data instanceof Uint8Array) writeFileAtomic(out, [data]);
    else writeModelFile(data, out);
  } catch (e) {
    if (e instanceof DataFileConflict) throw new InputError(`cannot save ${out}: ${e.message}`);
    throw writeFailure(out, e, outDir);
  }
  try {
    return { placed: placeDataFiles(references, from, to), ...(created ? { created: outDir ?? to } : {}) };
  } catch (e) {
    if (e instanceof DataFileConflict) throw new InputError(`cannot save ${out}: ${e.message}`);
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' || code === 'EPERM' ? 'no permission to write there' : code === 'ENOSPC' ? 'the disk is full' : (e as Error).message;
    throw new InputError(`${out} was written, but its data files could not be put beside it in ${to}: ${why}`);
  }
}

function cmdTargets(args: string[]) {
  const { values } = parseArgs({ args, options: OPTIONS.targets });
  if (values.json) {
    console.log(JSON.stringify(TARGETS.map((t) => ({ id: t.id, name: t.name, version: t.version, sources: t.sources })), null, 2));
  } else {
    const width = Math.max(...TARGETS.map((t) => t.id.length)) + 2;
    for (const t of TARGETS) console.log(`${t.id.padEnd(width)} ${t.name}`);
  }
}

function cmdInspect(args: string[]) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS.inspect });
  if (positionals.length !== 1) throw new UsageError('inspect takes exactly one MODEL');
  const list = targets(values.target);
  const opened = load(positionals[0]!);
  const { model } = opened;
  // The graph opens without its data files; only values stored there go unchecked.
  const missing = dataFileProblem(positionals[0]!, opened.report, (bad) =>
    `put ${bad.length === 1 ? 'it' : 'them'} there to check the values stored in ${bad.length === 1 ? 'it' : 'them'} (e.g. PRelu slopes); the graph is checked without them`);
  if (missing) console.error(`opfit: warning: ${missing}`);
  const results = list.map((t) => ({ t, findings: checkModel(model, t) }));
  // --strict: for CI scripts, exit 3 when some target cannot run some node (1 and 2 mean bad input and usage).
  if (values.strict && results.some(({ findings }) => findings.some((f) => INCOMPATIBLE.has(f.status)))) process.exitCode = 3;
  if (values.json) {
    const objects = results.map(({ t, findings }) => ({ target: t.id, findings: findings.map((f) => ({ node: f.node, op: f.op, status: f.status, reason: f.reason, source: f.source })) }));
    // One target: the object itself (the contract since issue 2); several: an array of them.
    console.log(JSON.stringify(objects.length === 1 ? objects[0] : objects, null, 2));
    return;
  }
  results.forEach(({ t, findings }, i) => {
    if (i > 0) console.log('');
    const bad = findings.filter((f) => INCOMPATIBLE.has(f.status)).length;
    console.log(`${positionals[0]}: ${count(bad, 'node')} incompatible with ${t.name}${findings.length > bad ? `, ${(findings.length - bad).toLocaleString('en-US')} could not be checked` : ''}`);
    for (const f of findings) console.log(`  [${f.status}] ${f.node} (${f.op}): ${f.reason}\n      source: ${f.source}`);
  });
}

async function cmdConvert(args: string[]) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS.convert });
  const tolerance = values.tolerance === undefined ? 1e-5 : Number(values.tolerance);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  if (!Number.isFinite(tolerance) || tolerance < 0 || values.tolerance?.trim() === '') throw new Misuse(`--tolerance takes a number ≥ 0, not "${values.tolerance}"`);
  if (!Number.isInteger(seed) || seed < 0) throw new Misuse(`--seed takes a whole number ≥ 0, not "${values.seed}"`);
  if (!values.verify && (values.edge || values.tolerance !== undefined || values.seed !== undefined)) throw new Misuse('--edge, --tolerance and --seed go with --verify');
  if (positionals.length === 0) throw new UsageError('convert needs at least one MODEL');
  const t = target(values.target);
  if (values.form && !FORM_IDS.includes(values.form as Pick['form'])) throw new Misuse(`unknown form "${values.form}"; forms: ${FORM_IDS.join(', ')}`);
  if (!values.o && !values['out-dir']) throw new UsageError('give exactly one of -o OUT or --out-dir DIR');
  if (values.o && values['out-dir']) throw new Misuse('give exactly one of -o OUT or --out-dir DIR, not both');
  if (values.o && positionals.length > 1) throw new Misuse('-o takes one model; use --out-dir DIR for several');
  if (values['out-dir']) {
    // Two inputs with the same file name (a/model.onnx, b/model.onnx) would overwrite each other.
    const seen = new Map<string, string>();
    for (const path of positionals) {
      const other = seen.get(basename(path));
      if (other !== undefined && other !== path) throw new Misuse(`${other} and ${path} would both be written to ${join(values['out-dir'], basename(path))}; convert them into different --out-dir directories`);
      seen.set(basename(path), path);
    }
  }
  // Nothing is written over an input or a data file one reads, checked for every output before the
  // first is written (a batch reads each input's graph once more here, for the names of its data files).
  const guard = new Protected();
  for (const path of positionals) guard.input(path);
  if (positionals.length > 1) {
    for (const path of positionals) {
      try {
        guard.dataFiles(path, readModelFile(path).model);
      } catch {
        // A file that cannot be read is reported where it is converted.
      }
    }
  }
  for (const path of positionals) guard.check(values.o ?? join(values['out-dir']!, basename(path)), 'converted model');
  let failed = 0;
  for (const path of positionals) {
    const out = values.o ?? join(values['out-dir']!, basename(path));
    try {
      const opened = load(path);
      const { bytes, model } = opened;
      guard.dataFiles(path, model);
      let result;
      if (values.form) {
        const picks = checkModel(model, t).filter((f) => INCOMPATIBLE.has(f.status) && f.op === 'PRelu').map((f) => ({ nodeId: f.nodeId, form: values.form as Pick['form'] }));
        result = picks.length ? { ...applyRewrites(model, picks, t), unfixed: [] } : { model, notes: [], unfixed: [] };
      } else {
        result = fixAll(model, t);
      }
      // Nothing to rewrite: a byte-identical copy, not a re-encoding.
      const changed = result.model !== model;
      const { placed, created } = writeOutput(path, out, changed ? result.model : bytes, result.model, guard, 'converted model', values['out-dir']);
      const summary = result.unfixed.length
        ? `${changed ? `${count(result.notes.length, 'change')}, ` : 'copied unchanged, '}but ${count(result.unfixed.length, 'node')} not fixed: ${t.name} cannot run this output as it is`
        : changed ? count(result.notes.length, 'change') : 'nothing to rewrite, copied unchanged';
      console.log(`${path} → ${out}: ${summary}`);
      if (created) console.log(`  created the folder ${created}`);
      for (const n of result.notes) console.log(`  ${n}`);
      for (const l of placedLines(placed, dirname(out))) console.log(l);
      for (const u of result.unfixed) {
        console.error(`  not fixed: ${u.node}: ${u.why}`);
      }
      if (result.unfixed.length) failed++;
      const missing = dataFileProblem(path, opened.report, (bad) => writtenWithout(out, bad));
      if (missing) {
        // The output is written (its references are right), but it cannot run yet: bad input, exit 1.
        console.error(`opfit: ${missing}`);
        failed++;
      } else if (values.verify && changed) {
        // Prove it: both models in ONNX Runtime on the same inputs, and every rewritten node alone.
        const code = await verifyFiles(path, out, { mode: values.edge ? 'edge' : 'random', seed, tolerance, sizes: {}, local: true });
        if (code !== 0) failed++;
      }
    } catch (e) {
      if (e instanceof ModelReadError || e instanceof InputError || e instanceof VerifyInputError) {
        console.error(`opfit: ${e.message}`); // these messages already name the file
        failed++;
      } else if (e instanceof RewriteRefused) {
        console.error(`opfit: ${path}: ${e.message}`);
        failed++;
      } else throw e;
    }
  }
  if (failed) process.exitCode = 1;
}

/** The reverse of convert: decomposed PReLU patterns become one PRelu where the target runs it. */
function cmdFuse(args: string[]) {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS.fuse });
  if (positionals.length !== 1) throw new UsageError('fuse takes exactly one MODEL');
  if (!values.o) throw new UsageError('fuse needs -o OUT');
  const path = positionals[0]!;
  const guard = new Protected();
  guard.input(path);
  guard.check(values.o, 'fused model');
  const t = target(values.target);
  const opened = load(path);
  const { bytes, model } = opened;
  guard.dataFiles(path, model);
  const r = fuseAll(model, t);
  const { placed, created } = writeOutput(path, values.o, r.fused.length ? r.model : bytes, r.model, guard, 'fused model');
  console.log(`${path} → ${values.o}: ${r.fused.length ? `fused ${count(r.fused.length, 'pattern')} into PRelu` : 'nothing fused, copied unchanged'}`);
  if (created) console.log(`  created the folder ${created}`);
  for (const n of r.notes) console.log(`  ${n}`);
  for (const s of r.skipped) console.log(`  left alone: ${s.nodeId}: ${s.why}`);
  for (const l of placedLines(placed, dirname(values.o))) console.log(l);
  const missing = dataFileProblem(path, opened.report, (bad) => writtenWithout(values.o!, bad));
  if (missing) throw new InputError(missing);
}

async function main(argv: string[]) {
  const [cmd, ...rest] = argv;
  try {
    // `opfit convert --help`: the usage, not "unknown option".
    if (rest.includes('--help') || rest.includes('-h')) { console.log(USAGE); return; }
    if (cmd === 'targets') cmdTargets(rest);
    else if (cmd === 'inspect') cmdInspect(rest);
    else if (cmd === 'convert') await cmdConvert(rest);
    else if (cmd === 'fuse') cmdFuse(rest);
    else if (cmd === 'verify') process.exitCode = await runVerifyCommand(rest);
    else if (cmd === '--help' || cmd === '-h' || cmd === 'help') console.log(USAGE);
    else if (cmd === '--version' || cmd === '-V') console.log(`opfit ${pkg.version}`);
    else throw new UsageError(cmd ? `unknown command "${cmd}"` : 'no command given');
  } catch (e) {
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`opfit: ${(e as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    if (e instanceof Misuse) {
      console.error(`opfit: ${e.message}`);
      process.exit(2);
    }
    if (e instanceof ModelReadError || e instanceof InputError || e instanceof RewriteRefused) {
      console.error(`opfit: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}

void main(process.argv.slice(2));
