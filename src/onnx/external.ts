// External data: tensors whose bytes live in another file (data_location = EXTERNAL, with
// external_data entries location / offset / length). The model opens without those files; a
// tensor's bytes are read only when its values are needed (a PRelu slope, a small constant),
// never to draw the graph. Saving never touches them: the tensor messages — references included —
// are written as they were (src/onnx/splice.ts), so the data files stay valid beside the new .onnx.
//
// A data file is anything that can read a byte range: a browser File/Blob (async only), or a Node
// file (sync and async; src/onnx/node-files.ts). Sync reads serve readTensorValues, which the
// checker and the rewrites call synchronously; where only async reads exist (the browser), the
// small tensors are read ahead (prefetch) right after opening.
import type { DescMessage } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import { dtypeSize } from './dtypes';

export interface DataFile {
  /** The file's name (browser) or path (Node). */
  readonly name: string;
  readonly size: number;
  /** Synchronous read, where the platform has one (Node). */
  readSync?(offset: number, length: number): Uint8Array;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Where one tensor's bytes are. */
export interface ExternalRef {
  location: string;
  offset: number;
  /** Bytes to read: the `length` entry, else what dtype × dims need (undefined for strings). */
  length?: number;
}

export function isExternalTensor(t: TensorProto): boolean {
  return t.dataLocation === 1; // TensorProto.DataLocation.EXTERNAL
}

function elementCount(t: TensorProto): number {
  return t.dims.reduce((n, d) => n * Number(d), 1);
}

/** The tensor's external reference, or undefined when its data is stored in the model. */
export function externalRef(t: TensorProto): ExternalRef | undefined {
  if (!isExternalTensor(t)) return undefined;
  let location = '';
  let offset = 0;
  let length: number | undefined;
  for (const e of t.externalData) {
    if (e.key === 'location') location = e.value;
    else if (e.key === 'offset') offset = Number(e.value);
    else if (e.key === 'length') length = Number(e.value);
  }
  if (length === undefined) {
    const size = dtypeSize(t.dataType);
    if (size !== undefined) length = elementCount(t) * size;
  }
  return { location, offset, length };
}

/** Why a location cannot be used, if it cannot (the ONNX checker's rule: relative, inside the model's folder). */
export function badLocation(location: string): string | undefined {
  if (!location) return 'it names no file (empty location)';
  if (/^([a-zA-Z]:)?[\\/]/.test(location)) return `"${location}" is an absolute path; ONNX requires a path relative to the model`;
  if (location.split(/[\\/]/).includes('..')) return `"${location}" points outside the model's folder ("..")`;
  return undefined;
}

// Which message types can hold a TensorProto somewhere below them, so the walk skips the rest.
const holdsTensor = new WeakMap<DescMessage, boolean>();
function canHoldTensor(desc: DescMessage): boolean {
  if (desc.typeName === 'onnx.TensorProto') return true;
  let known = holdsTensor.get(desc);
  if (known === undefined) {
    const seen = new Set<DescMessage>([desc]);
    const queue = [desc];
    known = false;
    while (queue.length && !known) {
      for (const f of queue.pop()!.fields) {
        const m = f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message') ? f.message : undefined;
        if (!m || seen.has(m)) continue;
        if (m.typeName === 'onnx.TensorProto') { known = true; break; }
        seen.add(m);
        queue.push(m);
      }
    }
    holdsTensor.set(desc, known);
  }
  return known;
}

/** Every TensorProto of the model: initializers, Constant values, sparse parts, in every graph and function. */
export function allModelTensors(model: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  const visit = (desc: DescMessage, m: Record<string, unknown>) => {
    if (desc.typeName === 'onnx.TensorProto') {
      out.push(m as unknown as TensorProto);
      return;
    }
    for (const f of desc.fields) {
      if (f.fieldKind === 'message') {
        if (!canHoldTensor(f.message)) continue;
        const v = f.oneof
          ? ((m[f.oneof.localName] as { case?: string; value?: unknown }).case === f.localName ? (m[f.oneof.localName] as { value: unknown }).value : undefined)
          : m[f.localName];
        if (v) visit(f.message, v as Record<string, unknown>);
      } else if (f.fieldKind === 'list' && f.listKind === 'message' && canHoldTensor(f.message)) {
        for (const v of m[f.localName] as Record<string, unknown>[]) visit(f.message, v);
      }
    }
  };
  visit(ModelProtoSchema, model as unknown as Record<string, unknown>);
  return out;
}

export interface ExpectedFile {
  /** The location as the model writes it. */
  location: string;
  tensors: number;
  /** Bytes the model's tensors take in it (the sum of their lengths, where known). */
  bytes: number;
  /** The file provided for it, if any. */
  file?: DataFile;
  /** Why it cannot be used, when it was not provided or does not fit. */
  problem?: string;
}

export interface ExternalReport {
  files: ExpectedFile[];
  /** External tensors in the model. */
  tensors: number;
}

const fmtBytes = (n: number) =>
  n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} kB` : `${n} bytes`;

const baseName = (p: string) => p.split(/[\\/]/).pop() ?? p;

/**
 * The data files of one opened model, and the bytes read from them. Tensors are registered by
 * their external_data list (shared by every shallow copy an edit makes of the tensor), so a
 * reshaped copy of an external slope still resolves.
 */
export class ExternalData {
  /** Bytes read from data files so far (the benchmark and the tests count them). */
  bytesRead = 0;
  private readonly cache = new Map<string, Uint8Array>();
  private readonly byLocation = new Map<string, DataFile>();

  constructor(readonly files: readonly DataFile[]) {}

  /** The file provided for a location: the same relative path, else the same file name. */
  fileFor(location: string): DataFile | undefined {
    let f = this.byLocation.get(location);
    if (f) return f;
    const norm = location.replace(/\\/g, '/').replace(/^\.\//, '');
    f = this.files.find((x) => x.name.replace(/\\/g, '/').endsWith(`/${norm}`) || x.name === norm)
      ?? this.files.find((x) => baseName(x.name) === baseName(norm));
    if (f) this.byLocation.set(location, f);
    return f;
  }

  private key(ref: ExternalRef): string {
    return `${ref.location}\0${ref.offset}\0${ref.length}`;
  }

  private usable(ref: ExternalRef): DataFile | undefined {
    if (ref.length === undefined || badLocation(ref.location)) return undefined;
    const f = this.fileFor(ref.location);
    if (!f || ref.offset + ref.length > f.size) return undefined;
    return f;
  }

  /** The bytes of a tensor, synchronously: from what was read ahead, or by a sync read. */
  bytesSync(ref: ExternalRef): Uint8Array | undefined {
    const hit = this.cache.get(this.key(ref));
    if (hit) return hit;
    const f = this.usable(ref);
    if (!f?.readSync) return undefined;
    const b = f.readSync(ref.offset, ref.length!);
    this.bytesRead += b.length;
    this.cache.set(this.key(ref), b);
    return b;
  }

  async bytes(ref: ExternalRef): Promise<Uint8Array | undefined> {
    const hit = this.cache.get(this.key(ref));
    if (hit) return hit;
    const f = this.usable(ref);
    if (!f) return undefined;
    const b = await f.read(ref.offset, ref.length!);
    this.bytesRead += b.length;
    this.cache.set(this.key(ref), b);
    return b;
  }

  /**
   * Reads ahead the tensors of at most `maxElements` elements (slopes, shapes, scalars: what the
   * checker and the rewrites read synchronously), up to `budget` bytes in all. Large weights are
   * never read.
   */
  async prefetch(tensors: readonly TensorProto[], maxElements = 4096, budget = 16 << 20): Promise<void> {
    let left = budget;
    for (const t of tensors) {
      const ref = externalRef(t);
      if (!ref || ref.length === undefined || elementCount(t) > maxElements || ref.length > left) continue;
      if (this.cache.has(this.key(ref))) continue;
      const b = await this.bytes(ref);
      if (b) left -= b.length;
    }
  }
}

const registry = new WeakMap<object, ExternalData>();

/**
 * Connects the model's external tensors to the data files provided (none is fine) and reports,
 * per file the model expects, whether it was found and fits.
 */
export function attachExternalData(model: ModelProto, data: ExternalData): ExternalReport {
  const files = new Map<string, ExpectedFile>();
  let tensors = 0;
  for (const t of allModelTensors(model)) {
    const ref = externalRef(t);
    if (!ref) continue;
    tensors++;
    registry.set(t.externalData, data);
    registry.set(t, data);
    let e = files.get(ref.location);
    if (!e) {
      e = { location: ref.location, tensors: 0, bytes: 0, file: badLocation(ref.location) ? undefined : data.fileFor(ref.location) };
      const bad = badLocation(ref.location);
      if (bad) e.problem = bad;
      else if (!e.file) e.problem = 'not provided';
      files.set(ref.location, e);
    }
    e.tensors++;
    e.bytes += ref.length ?? 0;
    if (e.file && !e.problem && ref.length !== undefined && ref.offset + ref.length > e.file.size) {
      e.problem = `${baseName(e.file.name)} has ${e.file.size.toLocaleString('en-US')} bytes, but tensor "${t.name}" needs bytes ` +
        `${ref.offset.toLocaleString('en-US')}–${(ref.offset + ref.length).toLocaleString('en-US')}: it is truncated, or belongs to another export of the model`;
    }
  }
  return { files: [...files.values()], tensors };
}

/** The data files attached to a tensor (or to the tensor it was shallow-copied from). */
export function externalDataOf(t: TensorProto): ExternalData | undefined {
  return registry.get(t) ?? registry.get(t.externalData);
}

/** An external tensor's bytes, if they can be had synchronously; undefined otherwise. */
export function externalBytesSync(t: TensorProto): Uint8Array | undefined {
  const ref = externalRef(t);
  if (!ref) return undefined;
  return externalDataOf(t)?.bytesSync(ref);
}

export async function externalBytes(t: TensorProto): Promise<Uint8Array | undefined> {
  const ref = externalRef(t);
  if (!ref) return undefined;
  return externalDataOf(t)?.bytes(ref);
}

/**
 * One message for the user naming every data file the model expects but cannot use, or undefined
 * when all are there. `how` is the advice for this platform (browser: pick both files; CLI: the
 * folder the file is looked for in).
 */
export function missingDataMessage(modelName: string, report: ExternalReport, how: (f: ExpectedFile) => string): string | undefined {
  const bad = report.files.filter((f) => f.problem);
  if (bad.length === 0) return undefined;
  const parts = bad.map((f) => {
    const what = `${f.tensors.toLocaleString('en-US')} weight${f.tensors === 1 ? '' : 's'}${f.bytes ? ` (${fmtBytes(f.bytes)})` : ''}`;
    if (f.problem === 'not provided') return `${modelName} keeps ${what} in the external data file "${f.location}", which ${how(f)}`;
    return `${modelName} keeps ${what} in "${f.location}", which cannot be used: ${f.problem}`;
  });
  return `${parts.join('. ')}. The graph is shown, but values stored there (e.g. a PRelu slope) cannot be read until the file is there.`;
}

/** Advice for the browser: the user picks or drops the data files with the model. */
export const BROWSER_ADVICE = (f: ExpectedFile) =>
  `was not opened with it: open the .onnx together with ${baseName(f.location)} (select both in the file dialog, or drop them together)`;

/** Names of the external data files a model refers to. */
export function externalLocations(model: ModelProto): string[] {
  const set = new Set<string>();
  for (const t of allModelTensors(model)) {
    const ref = externalRef(t);
    if (ref) set.add(ref.location);
  }
  return [...set];
}

/** A browser File (or any Blob) as a data file: async reads of byte ranges, nothing loaded up front. */
export function blobDataFile(blob: Blob, name: string): DataFile {
  return {
    name,
    size: blob.size,
    async read(offset, length) {
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
}

/** Which of several chosen or dropped files is the model (the first .onnx), which are its data files. */
export function splitModelAndData<T extends { name: string }>(files: readonly T[]): { model?: T; data: T[]; otherModels: T[] } {
  const isModel = (f: T) => /\.onnx$/i.test(f.name);
  const model = files.find(isModel) ?? files[0];
  return {
    model,
    data: files.filter((f) => f !== model && !isModel(f)),
    otherModels: files.filter((f) => f !== model && isModel(f)),
  };
}

export interface ConnectedData {
  external: ExternalData;
  report: ExternalReport;
  /** For the user, when a data file the model expects is missing or unusable. */
  message?: string;
  /** Set while the small external tensors are being read ahead; check the model again when it settles. */
  ready?: Promise<void>;
}

/**
 * Connects a just-opened model to the data files picked with it (browser: blobDataFile), and reads
 * ahead the small external tensors (slopes, shapes) that the checker and rewrites read
 * synchronously. Large weights are not read.
 */
export function connectDataFiles(model: ModelProto, modelName: string, files: readonly DataFile[], advice = BROWSER_ADVICE): ConnectedData {
  const external = new ExternalData(files);
  const report = attachExternalData(model, external);
  const message = missingDataMessage(modelName, report, advice);
  const usable = report.files.some((f) => f.file && !f.problem);
  const ready = usable ? external.prefetch(allModelTensors(model)).catch(() => { /* a failed read leaves values unknown */ }) : undefined;
  return { external, report, message, ready };
}
