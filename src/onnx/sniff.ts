import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';

// Recognise files that are not ONNX models, so the user hears what the file is and what to do
// instead of a protobuf error. Magic numbers first (certain), then text and protobuf heuristics.

export interface OtherFormat {
  id: string;
  what: string;
  advice: string;
}

const ascii = (b: Uint8Array, start: number, len: number) =>
  String.fromCharCode(...b.subarray(start, Math.min(b.length, start + len)));

const startsWith = (b: Uint8Array, magic: number[], at = 0) => magic.every((m, i) => b[at + i] === m);

function includesAscii(b: Uint8Array, needle: string, limit = 1 << 20): boolean {
  const hay = b.subarray(0, Math.min(b.length, limit));
  const first = needle.charCodeAt(0);
  outer: for (let i = hay.indexOf(first); i !== -1 && i <= hay.length - needle.length; i = hay.indexOf(first, i + 1)) {
    for (let j = 1; j < needle.length; j++) if (hay[i + j] !== needle.charCodeAt(j)) continue outer;
    return true;
  }
  return false;
}

const TO_ONNX = 'Convert it to ONNX first';

/** Returns what the file is when it is clearly not an ONNX model, or undefined. */
export function sniffFormat(b: Uint8Array, fileName = ''): OtherFormat | undefined {
  const lower = fileName.toLowerCase();
  if (b.length === 0) return { id: 'empty', what: 'an empty file (0 bytes)', advice: 'The download or export did not finish; get the file again.' };
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47])) return { id: 'png', what: 'a PNG image', advice: 'Open the .onnx model file instead.' };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { id: 'jpeg', what: 'a JPEG image', advice: 'Open the .onnx model file instead.' };
  if (ascii(b, 0, 4) === 'GIF8') return { id: 'gif', what: 'a GIF image', advice: 'Open the .onnx model file instead.' };
  if (ascii(b, 4, 4) === 'TFL3') {
    return { id: 'tflite', what: 'a TensorFlow Lite model (FlatBuffer "TFL3")', advice: `${TO_ONNX}, e.g. with tf2onnx (python -m tf2onnx.convert --tflite model.tflite --output model.onnx).` };
  }
  if (ascii(b, 4, 4) === 'ORTM') return { id: 'ort', what: 'an ONNX Runtime optimised model (.ort format)', advice: 'Open the .onnx model it was made from; .ort files cannot be edited.' };
  if (ascii(b, 0, 4) === 'GGUF') return { id: 'gguf', what: 'a GGUF model (llama.cpp)', advice: 'OpFit reads ONNX models only.' };
  if (startsWith(b, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { id: 'keras-h5', what: 'an HDF5 file (Keras .h5 model)', advice: `${TO_ONNX} with tf2onnx (tf2onnx.convert.from_keras).` };
  }
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04])) {
    if (includesAscii(b, 'data.pkl') || includesAscii(b, 'constants.pkl')) {
      const ts = includesAscii(b, 'code/') || includesAscii(b, 'constants.pkl');
      return ts
        ? { id: 'torchscript', what: 'a TorchScript archive', advice: `${TO_ONNX} in Python with torch.onnx.export(torch.jit.load(path), example_input, "model.onnx").` }
        : { id: 'pytorch', what: 'a PyTorch checkpoint (.pt/.pth zip)', advice: `${TO_ONNX}: load it into its nn.Module and call torch.onnx.export(model, example_input, "model.onnx").` };
    }
    if (includesAscii(b, 'saved_model.pb')) return { id: 'savedmodel-zip', what: 'a zipped TensorFlow SavedModel', advice: `Unzip it and ${TO_ONNX.toLowerCase()} with python -m tf2onnx.convert --saved-model DIR --output model.onnx.` };
    if (includesAscii(b, 'model.weights.h5') || (lower.endsWith('.keras') && includesAscii(b, 'config.json'))) {
      return { id: 'keras', what: 'a Keras 3 model (.keras)', advice: `${TO_ONNX} with tf2onnx.` };
    }
    return { id: 'zip', what: 'a ZIP archive', advice: 'Unpack it and open the .onnx file inside.' };
  }
  if (startsWith(b, [0x1f, 0x8b])) return { id: 'gzip', what: 'a gzip-compressed file', advice: 'Decompress it and open the .onnx file inside.' };
  if (ascii(b, 257, 5) === 'ustar') return { id: 'tar', what: 'a tar archive', advice: 'Unpack it and open the .onnx file inside.' };
  if (b[0] === 0x80 && b[1] !== undefined && b[1] >= 2 && b[1] <= 5) {
    return { id: 'pickle', what: 'a Python pickle (legacy PyTorch .pt/.pth or a pickled object)', advice: `${TO_ONNX} with torch.onnx.export.` };
  }
  if (b.length >= 9) {
    const headerLen = Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
    if (headerLen > 0 && headerLen < b.length && b[8] === 0x7b /* { */) {
      return { id: 'safetensors', what: 'a safetensors weights file', advice: 'It holds weights only, no graph: export the full model to ONNX.' };
    }
  }
  const text = textKind(b);
  if (text) return text;
  return undefined;
}

function textKind(b: Uint8Array): OtherFormat | undefined {
  const head = ascii(b, 0, 4096);
  if (/[^\t\n\r\x20-\x7e]/.test(head.slice(0, 512))) return undefined;
  if (/<net\s/.test(head)) return { id: 'openvino-ir', what: 'an OpenVINO IR model (.xml)', advice: 'OpFit reads ONNX; open the ONNX model it was converted from.' };
  if (/^\s*(name:|input:|layers?\s*\{)/m.test(head) && /layers?\s*\{/.test(head)) {
    return { id: 'caffe-prototxt', what: 'a Caffe network description (.prototxt)', advice: `${TO_ONNX}, e.g. with caffe2onnx or MMdnn, using the .prototxt together with its .caffemodel.` };
  }
  if (/^\s*<\s*ir_version|^\s*\w+\s*\(.*\)\s*=>|^\s*ir_version\s*:/m.test(head)) {
    return { id: 'onnx-text', what: 'an ONNX model in text form', advice: 'Convert it to binary first: python -c "import onnx; onnx.save(onnx.parser.parse_model(open(\'m.txt\').read()), \'m.onnx\')".' };
  }
  return { id: 'text', what: 'a text file', advice: 'ONNX models are binary .onnx files: open one of those.' };
}

/**
 * Protobuf formats that share wire format with ONNX: told apart by top-level field numbers that
 * ONNX's ModelProto does not use (Caffe NetParameter `layer` = 100; Core ML Model types ≥ 200).
 */
export function sniffProtobuf(b: Uint8Array, topFields: number[]): OtherFormat | undefined {
  if (looksLikeTensor(b, topFields)) {
    return { id: 'onnx-tensor', what: 'a single ONNX tensor (TensorProto, like the input_0.pb / output_0.pb files of ONNX test data)', advice: 'Open the model.onnx file next to it.' };
  }
  if (topFields.includes(100)) return { id: 'caffemodel', what: 'a Caffe model (.caffemodel weights)', advice: `${TO_ONNX}, e.g. with caffe2onnx, using it together with its .prototxt.` };
  if (topFields.some((f) => f >= 200)) return { id: 'coreml', what: 'a Core ML model (.mlmodel)', advice: 'Core ML models cannot be converted back to ONNX reliably; open the source ONNX model.' };
  if (includesAscii(b, 'serving_default') || includesAscii(b, 'saved_model')) {
    return { id: 'savedmodel', what: 'a TensorFlow SavedModel (saved_model.pb)', advice: `${TO_ONNX} with python -m tf2onnx.convert --saved-model DIR --output model.onnx.` };
  }
  if (topFields[0] === 1 && includesAscii(b, '\x12\x04Const') || includesAscii(b, 'Placeholder')) {
    return { id: 'graphdef', what: 'a TensorFlow frozen GraphDef (.pb)', advice: `${TO_ONNX} with python -m tf2onnx.convert --graphdef model.pb --inputs … --outputs … --output model.onnx.` };
  }
  return undefined;
}

/** TensorProto field numbers (onnx.proto): dims … data_location. */
const TENSOR_FIELDS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);

function looksLikeTensor(b: Uint8Array, topFields: number[]): boolean {
  if (topFields.length === 0 || !topFields.every((f) => TENSOR_FIELDS.has(f)) || !topFields.includes(2)) return false;
  try {
    const t = fromBinary(TensorProtoSchema, b);
    return t.dataType > 0 && t.dataType <= 26;
  } catch {
    return false;
  }
}
