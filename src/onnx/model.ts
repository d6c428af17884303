// Bytes ⇄ ModelProto. Decoding keeps unknown fields and proto2 presence, so a model that is read
// and written without edits comes out byte-identical (docs/decisions.md: why onnx-buf).
import { create, fromBinary, mergeFromBinary, toBinary } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { locateDecodeFailure, overBudget, topLevelFields } from './wire-check';
import { sniffFormat, sniffProtobuf } from './sniff';
import { recordSpans, recordSpansSteps } from './spans';
import { concatChunks, encodeChunks } from './splice';
import { BREATHE, runStepsSliced, type Steps } from '../steps';

export type { ModelProto };

/** A file that could not be opened as an ONNX model; `message` is written for the user. */
export class ModelReadError extends Error {
  constructor(message: string, readonly detectedFormat?: string) {
    super(message);
    this.name = 'ModelReadError';
  }
}

export function readModel(bytes: Uint8Array, fileName = 'the file'): ModelProto {
  refuseEarly(bytes, fileName);
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: true });
  } catch {
    decodeFailed(bytes, fileName);
  }
  return finish(model, bytes, fileName);
}

/**
 * readModel, giving the thread back between pieces of the graph: what the app uses, where decoding
 * a 50,000-node graph in one go holds the page for 100–200 ms. Decoding a protobuf message from
 * consecutive runs of its records one after the other (mergeFromBinary) gives what decoding it whole
 * gives, so the graph is decoded a run of records at a time; tensor bytes stay views of `bytes`.
 * Files it cannot split that way (no graph, a graph field twice, a malformed record) go to readModel.
 */
export function readModelSliced(bytes: Uint8Array, fileName = 'the file', opts: { sliceMs?: number; runBytes?: number; signal?: AbortSignal } = {}): Promise<ModelProto> {
  return runStepsSliced(readSteps(bytes, fileName, opts.runBytes ?? RUN_BYTES), { signal: opts.signal, sliceMs: opts.sliceMs });
}

/** readModel in steps (src/steps.ts): the checks before decoding, the graph a run of records at a time, the byte ranges. */
function* readSteps(bytes: Uint8Array, fileName: string, runBytes: number): Steps<ModelProto> {
  refuseEarly(bytes, fileName); // the sniff and the budget walk: 10–40 ms at 50,000 nodes
  yield BREATHE;
  const top = records(bytes, 0, bytes.length);
  const graphs = top?.filter((r) => r.field === GRAPH_FIELD) ?? [];
  if (!top || graphs.length !== 1 || graphs[0]!.payload === undefined) return readModel(bytes, fileName);
  const g = graphs[0]!;
  const inside = records(bytes, g.payload!, g.end);
  if (!inside) return readModel(bytes, fileName);
  let model: ModelProto;
  const graph = create(GraphProtoSchema);
  try {
    // Everything but the graph (a few hundred bytes: versions, opsets, metadata), then the graph.
    model = fromBinary(ModelProtoSchema, concatChunks(top.filter((r) => r !== g).map((r) => bytes.subarray(r.start, r.end))), { readUnknownFields: true });
  } catch {
    decodeFailed(bytes, fileName);
  }
  for (let i = 0; i < inside.length;) {
    // A run of records of at most ~256 kB (one big initializer is a run of its own).
    let j = i + 1;
    while (j < inside.length && inside[j]!.end - inside[i]!.start < runBytes) j++;
    try {
      mergeFromBinary(GraphProtoSchema, graph, bytes.subarray(inside[i]!.start, inside[j - 1]!.end), { readUnknownFields: true });
    } catch {
      decodeFailed(bytes, fileName);
    }
    i = j;
    yield;
  }
  model.graph = graph;
  finish(model, bytes, fileName, false);
  // The byte ranges, in steps of their own (50,000 nodes: ~50 ms in all).
  yield BREATHE;
  yield* recordSpansSteps(ModelProtoSchema, bytes, model);
  return model;
}

const GRAPH_FIELD = 7;
// Runs of ~256 kB: a few milliseconds of decoding each, so a slice seldom overshoots by much.
const RUN_BYTES = 1 << 18;

/** The top-level records of bytes[start, end): field, where the record starts and ends, and where a length-delimited payload starts. Undefined when malformed. */
function records(b: Uint8Array, start: number, end: number): { field: number; start: number; end: number; payload?: number }[] | undefined {
  const out: { field: number; start: number; end: number; payload?: number }[] = [];
  let pos = start;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (pos >= end) throw new RangeError('truncated varint');
      const byte = b[pos++]!;
      v += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return v;
    }
    throw new RangeError('varint too long');
  };
  try {
    while (pos < end) {
      const at = pos;
      const tag = varint();
      const wt = tag % 8;
      let payload: number | undefined;
      if (wt === 0) varint();
      else if (wt === 1) pos += 8;
      else if (wt === 5) pos += 4;
      else if (wt === 2) {
        const len = varint();
        payload = pos;
        pos += len;
      } else return undefined; // groups: not in ONNX, leave them to the one-piece decode
      if (pos > end) return undefined;
      out.push({ field: Math.floor(tag / 8), start: at, end: pos, payload });
    }
  } catch {
    return undefined;
  }
  return out;
}

/** Refuses, saying why, what is not ONNX or would freeze the page or exhaust its memory while decoding. */
function refuseEarly(bytes: Uint8Array, fileName: string): void {
  const other = sniffFormat(bytes, fileName);
  if (other) throw new ModelReadError(`${fileName} is ${other.what}, not an ONNX model. ${other.advice}`, other.id);
  const tooMuch = overBudget(bytes);
  if (tooMuch) throw new ModelReadError(`${fileName} ${tooMuch}`, 'too-large');
}

function decodeFailed(bytes: Uint8Array, fileName: string): never {
  notOnnxProtobuf(bytes, fileName);
  const where = locateDecodeFailure(bytes);
  throw new ModelReadError(`${fileName} is not a readable ONNX model: ${where}`, 'corrupt-onnx');
}

/**
 * The checks a decoded model must pass, then (unless `spans` is false: the caller records them in
 * steps) the byte ranges the zero-copy save reuses.
 */
function finish(model: ModelProto, bytes: Uint8Array, fileName: string, spans = true): ModelProto {
  if (!model.graph) {
    notOnnxProtobuf(bytes, fileName);
    if (model.irVersion > 0n && model.irVersion <= 100n) {
      // An ONNX header (exporters write ir_version and producer first) and then nothing: cut short.
      const by = model.producerName ? `, made by ${model.producerName.slice(0, 60)}` : '';
      throw new ModelReadError(
        `${fileName} starts like an ONNX model (IR version ${model.irVersion}${by}) but has no graph: the file ` +
          `(${bytes.length.toLocaleString('en-US')} bytes) is probably truncated. Download or export it again.`,
        'corrupt-onnx',
      );
    }
    throw new ModelReadError(
      `${fileName} decodes as protobuf but has no graph, so it is not an ONNX model (or it is empty). ` +
        'Export the model again, or check that this is the .onnx file and not a data file.',
      'no-graph',
    );
  }
  if (model.opsetImport.length === 0 && model.irVersion >= 3n && topLevelFields(bytes).at(-1) === 7) {
    // Exporters write opset_import after the graph: a file cut right after the graph still decodes.
    // (With fields after the graph the file is whole, and the missing import is a model finding:
    // src/graph/validate.ts.)
    throw new ModelReadError(
      `${fileName} has a graph but no opset_import, which every ONNX model since IR version 3 lists, usually as the ` +
        `last field; the file (${bytes.length.toLocaleString('en-US')} bytes) is probably truncated: download or export it again.`,
      'corrupt-onnx',
    );
  }
  // Where every message came from, so saving can reuse the bytes of what did not change.
  if (spans) recordSpans(ModelProtoSchema, bytes, model);
  return model;
}

function notOnnxProtobuf(bytes: Uint8Array, fileName: string): void {
  const other = sniffProtobuf(bytes, topLevelFields(bytes));
  if (other) throw new ModelReadError(`${fileName} is ${other.what}, not an ONNX model. ${other.advice}`, other.id);
}

/**
 * The model's encoding as chunks, for `new Blob(chunks)` in the browser or a write stream in Node:
 * every message unchanged since readModel is a view into the bytes it was read from (no copy), the
 * rest is re-encoded. The concatenation is byte-identical to toBinary(model) (src/onnx/splice.ts).
 */
export function saveModelChunks(model: ModelProto): Uint8Array[] {
  return encodeChunks(ModelProtoSchema, model);
}

/** The model's encoding in one buffer (byte-identical to toBinary); see saveModelChunks. */
export function writeModel(model: ModelProto): Uint8Array {
  return concatChunks(saveModelChunks(model));
}

/** The plain protobuf-es encoding, without reusing any original bytes (the reference for tests). */
export function encodeModel(model: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, model, { writeUnknownFields: true });
}

/** The opset the model imports for a domain ("" and "ai.onnx" are the same default domain). */
export function opsetOf(model: ModelProto, domain = ''): number | undefined {
  const norm = (d: string) => (d === 'ai.onnx' ? '' : d);
  const entry = model.opsetImport.find((o) => norm(o.domain) === norm(domain));
  return entry === undefined ? undefined : Number(entry.version);
}
