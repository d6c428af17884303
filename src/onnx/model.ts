// Bytes ⇄ ModelProto. Decoding keeps unknown fields and proto2 presence, so a model that is read
// and written without edits comes out byte-identical (docs/decisions.md: why onnx-buf).
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { locateDecodeFailure, overBudget, topLevelFields } from './wire-check';
import { sniffFormat, sniffProtobuf } from './sniff';
import { recordSpans } from './spans';
import { concatChunks, encodeChunks } from './splice';

export type { ModelProto };

/** A file that could not be opened as an ONNX model; `message` is written for the user. */
export class ModelReadError extends Error {
  constructor(message: string, readonly detectedFormat?: string) {
    super(message);
    this.name = 'ModelReadError';
  }
}

export function readModel(bytes: Uint8Array, fileName = 'the file'): ModelProto {
  const other = sniffFormat(bytes, fileName);
  if (other) throw new ModelReadError(`${fileName} is ${other.what}, not an ONNX model. ${other.advice}`, other.id);
  // Refuse, saying why, what would freeze the page or exhaust its memory while decoding.
  const tooMuch = overBudget(bytes);
  if (tooMuch) throw new ModelReadError(`${fileName} ${tooMuch}`, 'too-large');
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: true });
  } catch {
    notOnnxProtobuf(bytes, fileName);
    const where = locateDecodeFailure(bytes);
    throw new ModelReadError(`${fileName} is not a readable ONNX model: ${where}`, 'corrupt-onnx');
  }
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
  recordSpans(ModelProtoSchema, bytes, model);
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
