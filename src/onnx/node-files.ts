// Node.js side of the ONNX layer (the CLI, tests, the benchmark): open a model file with its
// external data files resolved relative to the model's folder, and save by writing the spliced
// chunks (no whole-file buffer is built). Not imported by the browser bundle.
import { randomBytes } from 'node:crypto';
import { closeSync, constants, copyFileSync, existsSync, fchmodSync, linkSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ModelProto } from 'onnx-buf';
import { readModel, saveModelChunks } from './model';
import {
  attachExternalData, badLocation, ExternalData, externalLocations, missingDataMessage,
  type DataFile, type ExpectedFile, type ExternalReport,
} from './external';

/** A file on disk as a data file: every read opens, reads the range and closes (reads are few). */
export function nodeDataFile(path: string): DataFile {
  return {
    name: path,
    size: statSync(path).size,
    readSync(offset, length) {
      const fd = openSync(path, 'r');
      try {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const n = readSync(fd, out, done, length - done, offset + done);
          if (n === 0) throw new Error(`${path} ends before byte ${offset + length}`);
          done += n;
        }
        return out;
      } finally {
        closeSync(fd);
      }
    },
    async read(offset, length) {
      const fh = await open(path, 'r');
      try {
        const out = new Uint8Array(length);
        let done = 0;
        while (done < length) {
          const { bytesRead } = await fh.read(out, done, length - done, offset + done);
          if (bytesRead === 0) throw new Error(`${path} ends before byte ${offset + length}`);
          done += bytesRead;
        }
        return out;
      } finally {
        await fh.close();
      }
    },
  };
}

/** The whole file as bytes, without the extra copy `new Uint8Array(readFileSync(p))` makes. */
export function readFileBytes(path: string): Uint8Array {
  const b = readFileSync(path);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export interface OpenedModelFile {
  bytes: Uint8Array;
  model: ModelProto;
  /** The data files found, and the bytes read from them so far. */
  external: ExternalData;
  report: ExternalReport;
  /** Set when a data file the model expects is missing or unusable; the model is still usable. */
  warning?: string;
}

/**
 * Reads a model file and connects its external data files, resolved relative to the model's
 * folder (as ONNX Runtime and onnx.load do). A missing data file is not an error: the model opens,
 * `warning` names the file and where it was looked for, and only values stored there are unknown.
 * Throws ModelReadError for a file that is not a readable ONNX model.
 */
export function readModelFile(path: string): OpenedModelFile {
  const bytes = readFileBytes(path);
  const model = readModel(bytes, path);
  const dir = dirname(resolve(path));
  const files: DataFile[] = [];
  for (const location of externalLocations(model)) {
    if (badLocation(location)) continue;
    const p = join(dir, location);
    if (existsSync(p) && statSync(p).isFile()) files.push({ ...nodeDataFile(p), name: location });
  }
  const external = new ExternalData(files);
  const report = attachExternalData(model, external);
  const warning = missingDataMessage(basename(path), report, (f) => `was not found at ${join(dir, f.location)}`);
  return { bytes, model, external, report, warning };
}

const fmtBytes = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} bytes`;

/**
 * For the command line: one line naming each data file the model at `path` expects but cannot use
 * (missing: where it was looked for; unusable: why), then `then(bad)` — what follows for this
 * command. Undefined when every data file is there.
 */
export function dataFileProblem(path: string, report: ExternalReport, then: (bad: ExpectedFile[]) => string): string | undefined {
  const bad = report.files.filter((f) => f.problem);
  if (bad.length === 0) return undefined;
  const dir = dirname(resolve(path));
  const what = (f: ExpectedFile) => `${f.tensors.toLocaleString('en-US')} weight${f.tensors === 1 ? '' : 's'}${f.bytes ? ` (${fmtBytes(f.bytes)})` : ''}`;
  const parts = bad.map((f) => f.problem === 'not provided'
    ? `${path} keeps ${what(f)} in the external data file "${f.location}", which was not found at ${join(dir, f.location)}`
    : `${path} keeps ${what(f)} in "${f.location}", which cannot be used: ${f.problem}`);
  return `${parts.join('; ')}: ${then(bad)}`;
}

/**
 * Writes `chunks` to `path` through a temporary file in the same folder, renamed over `path` at the
 * end: an interrupted or failed write never leaves a half file at `path`, and a `path` that is a hard
 * link to another file replaces that name only (the other file keeps its bytes). A symbolic link at
 * `path` is written through (the file it points to is replaced). Chunks are written as they come
 * (no whole-file buffer). Returns the number of bytes written.
 */
export function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>): number {
  const target = existsSync(path) && lstatSync(path).isSymbolicLink() ? realpathSync(path) : path;
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx');
  let total = 0;
  try {
    try {
      for (const chunk of chunks) {
        let done = 0;
        while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
        total += chunk.length;
      }
      // Keep the permissions of a file that is replaced.
      if (existsSync(target) && statSync(target).isFile()) fchmodSync(fd, statSync(target).mode & 0o7777);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return total;
}

/**
 * Writes the model's spliced chunks to `path` (unchanged parts come straight from the opened file's
 * bytes), atomically (writeFileAtomic). Returns the number of bytes written.
 */
export function writeModelFile(model: ModelProto, path: string): number {
  return writeFileAtomic(path, saveModelChunks(model));
}

export interface PlacedDataFile {
  location: string;
  /**
   * linked: a hard link (no extra disk); copied: a copy; present: the same data is already there
   * (the same file, or identical bytes); missing: no source file; refused: a location ONNX forbids.
   */
  action: 'linked' | 'copied' | 'present' | 'missing' | 'refused';
  /** Where the saved model expects the file. */
  path: string;
  /** The file it comes from (beside the original model). */
  source: string;
}

/** A data file already at the destination holds other bytes: never overwritten. */
export class DataFileConflict extends Error {
  constructor(readonly location: string, readonly path: string, readonly source: string) {
    super(`${path} already exists and is not the same data as ${source}; refusing to overwrite a data file another model may use: remove it, or save into another folder`);
    this.name = 'DataFileConflict';
  }
}

/** Byte-for-byte equality of two files of the same size, read in 1 MiB chunks (stops at the first difference). */
function sameBytes(a: string, b: string, size: number): boolean {
  const fa = openSync(a, 'r');
  try {
    const fb = openSync(b, 'r');
    try {
      const ba = Buffer.allocUnsafe(1 << 20);
      const bb = Buffer.allocUnsafe(1 << 20);
      for (let pos = 0; pos < size;) {
        const n = Math.min(ba.length, size - pos);
        let ra = 0;
        let rb = 0;
        while (ra < n) { const k = readSync(fa, ba, ra, n - ra, pos + ra); if (!k) return false; ra += k; }
        while (rb < n) { const k = readSync(fb, bb, rb, n - rb, pos + rb); if (!k) return false; rb += k; }
        if (ba.compare(bb, 0, n, 0, n) !== 0) return false;
        pos += n;
      }
      return true;
    } finally {
      closeSync(fb);
    }
  } finally {
    closeSync(fa);
  }
}

/** What placing would do for each data file; throws DataFileConflict before anything is created. */
function planDataFiles(model: ModelProto, fromDir: string, toDir: string): (PlacedDataFile & { place?: boolean })[] {
  const out: (PlacedDataFile & { place?: boolean })[] = [];
  if (resolve(fromDir) === resolve(toDir)) return out;
  for (const location of externalLocations(model)) {
    const dst = join(toDir, location);
    const src = join(fromDir, location);
    if (badLocation(location)) { out.push({ location, action: 'refused', path: dst, source: src }); continue; }
    if (!existsSync(src) || !statSync(src).isFile()) { out.push({ location, action: 'missing', path: dst, source: src }); continue; }
    if (existsSync(dst)) {
      const a = statSync(src);
      const b = statSync(dst);
      const same = b.isFile() && ((a.dev === b.dev && a.ino === b.ino) || (a.size === b.size && sameBytes(src, dst, a.size)));
      if (!same) throw new DataFileConflict(location, dst, src);
      out.push({ location, action: 'present', path: dst, source: src });
      continue;
    }
    out.push({ location, action: 'linked', path: dst, source: src, place: true });
  }
  return out;
}

/**
 * Checks, without creating anything, that the data files can be placed beside a model saved in
 * `toDir`: throws DataFileConflict when one is there already with other bytes.
 */
export function checkDataFiles(model: ModelProto, fromDir: string, toDir: string): void {
  planDataFiles(model, fromDir, toDir);
}

/**
 * A model saved into another folder still names its data files relative to itself: put them there
 * (a hard link to the real file where the file system allows, else a copy). A file already at the
 * destination is left alone when it is the same file or holds the same bytes (`present`); any
 * other file there is never overwritten (DataFileConflict, thrown before anything is placed).
 */
export function placeDataFiles(model: ModelProto, fromDir: string, toDir: string): PlacedDataFile[] {
  const plan = planDataFiles(model, fromDir, toDir);
  return plan.map(({ place, ...p }) => {
    if (!place) return p;
    mkdirSync(dirname(p.path), { recursive: true });
    // The real file: a hard link to a symbolic link would keep its (relative) target, which may
    // not resolve from the other folder.
    const real = realpathSync(p.source);
    try {
      linkSync(real, p.path);
      return { ...p, action: 'linked' as const };
    } catch {
      copyFileSync(real, p.path, constants.COPYFILE_EXCL); // never over a file that appeared meanwhile
      return { ...p, action: 'copied' as const };
    }
  });
}
