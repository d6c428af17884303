// Node.js side of the ONNX layer (the CLI, tests, the benchmark): open a model file with its
// external data files resolved relative to the model's folder, and save by writing the spliced
// chunks (no whole-file buffer is built). Not imported by the browser bundle.
import { closeSync, copyFileSync, existsSync, linkSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { ModelProto } from 'onnx-buf';
import { readModel, saveModelChunks } from './model';
import {
  attachExternalData, badLocation, ExternalData, externalLocations, missingDataMessage,
  type DataFile, type ExternalReport,
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

/**
 * Writes the model's spliced chunks to `path` (unchanged parts come straight from the opened file's
 * bytes). Returns the number of bytes written.
 */
export function writeModelFile(model: ModelProto, path: string): number {
  const fd = openSync(path, 'w');
  let total = 0;
  try {
    for (const chunk of saveModelChunks(model)) {
      let done = 0;
      while (done < chunk.length) done += writeSync(fd, chunk, done, chunk.length - done);
      total += chunk.length;
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

export interface PlacedDataFile {
  location: string;
  /** linked: a hard link (no extra disk); copied: a copy; present: already there; missing: no source. */
  action: 'linked' | 'copied' | 'present' | 'missing' | 'refused';
  path: string;
}

/**
 * A model saved into another folder still names its data files relative to itself: put them there
 * (a hard link where the file system allows, else a copy). A file already at the destination is
 * left alone if it has the source's size, and reported as `present`.
 */
export function placeDataFiles(model: ModelProto, fromDir: string, toDir: string): PlacedDataFile[] {
  const out: PlacedDataFile[] = [];
  if (resolve(fromDir) === resolve(toDir)) return out;
  for (const location of externalLocations(model)) {
    const dst = join(toDir, location);
    if (badLocation(location)) { out.push({ location, action: 'refused', path: dst }); continue; }
    const src = join(fromDir, location);
    if (!existsSync(src)) { out.push({ location, action: 'missing', path: dst }); continue; }
    if (existsSync(dst)) {
      if (statSync(dst).size === statSync(src).size) { out.push({ location, action: 'present', path: dst }); continue; }
      throw new Error(`${dst} exists and differs from ${src}; refusing to overwrite a data file another model may use`);
    }
    mkdirSync(dirname(dst), { recursive: true });
    try {
      linkSync(src, dst);
      out.push({ location, action: 'linked', path: dst });
    } catch {
      copyFileSync(src, dst);
      out.push({ location, action: 'copied', path: dst });
    }
  }
  return out;
}
