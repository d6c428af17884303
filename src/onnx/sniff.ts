import { fromBinary } from '@bufbuild/protobuf';
import { TensorProtoSchema } from 'onnx-buf';

// Recognise files that are not ONNX models, so the user hears what the file is and what to do
// instead of a protobuf error. Magic numbers first (certain), then archive listings, text and
// protobuf heuristics. Every check reads a bounded prefix or suffix of the file: sniffing a 2 GB
// file costs the same as sniffing a small one.

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

const u16 = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u32 = (b: Uint8Array, at: number) => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
const u64 = (b: Uint8Array, at: number) => u32(b, at) + u32(b, at + 4) * 2 ** 32;
const utf8 = (b: Uint8Array) => new TextDecoder('utf-8').decode(b);

const TO_ONNX = 'Convert it to ONNX first';
const IMAGE_ADVICE = 'Open the .onnx model file instead.';
const KERAS3 = 'load it with keras.saving.load_model, save a SavedModel with model.export("saved_model") and convert that with python -m tf2onnx.convert --saved-model saved_model --output model.onnx';
const NOT_BACK = 'There is no reliable converter from it back to ONNX: open the ONNX model it was made from';

const fmt = (n: number) => n.toLocaleString('en-US');

/** Returns what the file is when it is clearly not an ONNX model, or undefined. */
export function sniffFormat(b: Uint8Array, fileName = ''): OtherFormat | undefined {
  const lower = fileName.toLowerCase();
  if (b.length === 0) return { id: 'empty', what: 'an empty file (0 bytes)', advice: 'The download or export did not finish; get the file again.' };
  // Field number 0 is not valid protobuf, so no ONNX model starts with a zero byte.
  const zeros = Math.min(b.length, 64);
  if (b.subarray(0, zeros).every((x) => x === 0)) {
    return { id: 'zeros', what: `a file that starts with ${zeros === b.length ? `nothing but ${fmt(zeros)} zero bytes` : `${zeros} zero bytes`}`, advice: 'An interrupted download or copy leaves files like this; get the file again.' };
  }
  // Images
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47])) return { id: 'png', what: 'a PNG image', advice: IMAGE_ADVICE };
  if (startsWith(b, [0xff, 0xd8, 0xff])) return { id: 'jpeg', what: 'a JPEG image', advice: IMAGE_ADVICE };
  if (ascii(b, 0, 4) === 'GIF8') return { id: 'gif', what: 'a GIF image', advice: IMAGE_ADVICE };
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return { id: 'webp', what: 'a WebP image', advice: IMAGE_ADVICE };
  if (ascii(b, 0, 2) === 'BM' && b.length >= 14 && u32(b, 2) === b.length && u32(b, 6) === 0) return { id: 'bmp', what: 'a BMP image', advice: IMAGE_ADVICE };
  if (ascii(b, 0, 4) === 'II*\0' || ascii(b, 0, 4) === 'MM\0*') return { id: 'tiff', what: 'a TIFF image', advice: IMAGE_ADVICE };
  if (ascii(b, 0, 5) === '%PDF-') return { id: 'pdf', what: 'a PDF document', advice: IMAGE_ADVICE };
  // Model formats with a magic number
  if (ascii(b, 4, 4) === 'TFL3') {
    return { id: 'tflite', what: 'a TensorFlow Lite model (FlatBuffer "TFL3")', advice: `${TO_ONNX}, e.g. with tf2onnx (python -m tf2onnx.convert --tflite model.tflite --output model.onnx).` };
  }
  if (ascii(b, 4, 4) === 'ORTM') return { id: 'ort', what: 'an ONNX Runtime optimised model (.ort format)', advice: 'Open the .onnx model it was made from; .ort files cannot be edited or converted back.' };
  if (ascii(b, 0, 4) === 'GGUF') {
    return { id: 'gguf', what: 'a GGUF model (llama.cpp)', advice: `${NOT_BACK}; for a Hugging Face model, export the original with optimum-cli export onnx --model <id> out/.` };
  }
  if (['lmgg', 'fmgg', 'tjgg'].includes(ascii(b, 0, 4))) {
    return { id: 'ggml', what: 'a legacy GGML model (llama.cpp before GGUF)', advice: `${NOT_BACK}; for a Hugging Face model, export the original with optimum-cli export onnx --model <id> out/.` };
  }
  for (const at of [0, 512, 1024, 2048]) {
    if (startsWith(b, [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], at)) {
      return { id: 'keras-h5', what: 'an HDF5 file (a Keras .h5 model or weights)', advice: `${TO_ONNX}: in Python, tf2onnx.convert.from_keras(tf.keras.models.load_model(path), output_path="model.onnx") (Keras 2), or ${KERAS3} (Keras 3).` };
    }
  }
  if (ascii(b, 0, 6) === '\x93NUMPY') return { id: 'npy', what: 'a NumPy array (.npy)', advice: 'It holds one array (test data or weights), not a model: open the .onnx model.' };
  // Archives
  if (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06])) return zipKind(b, lower);
  if (startsWith(b, [0x1f, 0x8b])) {
    const inner = gzipName(b);
    return { id: 'gzip', what: `a gzip-compressed file${inner ? ` (of ${inner})` : ''}`, advice: `Decompress it (gunzip, or tar -xzf for a .tar.gz) and open the ${inner && /\.onnx$/i.test(inner) ? inner : '.onnx file inside'}.` };
  }
  if (ascii(b, 257, 5) === 'ustar') {
    const first = ascii(b, 0, 100).replace(/\0.*$/s, '');
    return { id: 'tar', what: `a tar archive${first ? ` (first entry: ${first})` : ''}`, advice: 'Unpack it (tar -xf) and open the .onnx file inside.' };
  }
  const packed: [number[], string, string][] = [
    [[0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], '7z', 'a 7-Zip archive'],
    [[0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], 'xz', 'an xz-compressed file'],
    [[0x28, 0xb5, 0x2f, 0xfd], 'zstd', 'a Zstandard-compressed file'],
    [[0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], 'rar', 'a RAR archive'],
  ];
  for (const [magic, id, what] of packed) if (startsWith(b, magic)) return { id, what, advice: 'Unpack it and open the .onnx file inside.' };
  if (ascii(b, 0, 3) === 'BZh' && b[3]! >= 0x31 && b[3]! <= 0x39) return { id: 'bzip2', what: 'a bzip2-compressed file', advice: 'Unpack it and open the .onnx file inside.' };
  // Python pickles: legacy torch.save writes a pickled magic number first.
  if (b[0] === 0x80 && b[1] !== undefined && b[1] >= 2 && b[1] <= 5) {
    if (b[2] === 0x8a && b[3] === 0x0a && startsWith(b, [0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19], 4)) {
      return { id: 'pytorch-legacy', what: 'a PyTorch checkpoint in the legacy (pre-1.6) pickle format', advice: `${TO_ONNX}: in Python, load it (torch.load) into its nn.Module and call torch.onnx.export(model, example_input, "model.onnx").` };
    }
    return { id: 'pickle', what: 'a Python pickle (legacy PyTorch .pt/.pth or a pickled object)', advice: `${TO_ONNX}: in Python, load the model into its nn.Module and call torch.onnx.export(model, example_input, "model.onnx").` };
  }
  if (b.length >= 10) {
    const headerLen = u64(b, 0);
    if (headerLen > 1 && headerLen <= b.length - 8 && b[8] === 0x7b /* { */ && (b[9] === 0x22 /* " */ || b[9] === 0x20 || b[9] === 0x7d)) {
      return { id: 'safetensors', what: 'a safetensors weights file', advice: 'It holds weights only, no graph: load them into the model\'s code and export with torch.onnx.export, or for a Hugging Face model run optimum-cli export onnx --model <id> out/.' };
    }
  }
  const text = textKind(b);
  if (text) return text;
  // A data file dropped without its model: raw tensor bytes, named like one. ONNX models start
  // with their ir_version (tag byte 0x08) in every exporter we know.
  if (/(\.onnx[._]data|\.data|_data|\.weights?|\.bin)$/.test(lower) && b[0] !== 0x08) {
    return { id: 'external-data', what: 'probably the external data (the weights) of an ONNX model, not the model', advice: 'Open the .onnx file together with it: select both files, or drop both.' };
  }
  return undefined;
}

// ---- ZIP ------------------------------------------------------------------------------------

const MAX_ZIP_NAMES = 4096;

/** The entry names of a ZIP: from the central directory, or (truncated file) from local headers. */
export function zipEntryNames(b: Uint8Array): string[] {
  return centralDirectory(b) ?? localHeaders(b);
}

function centralDirectory(b: Uint8Array): string[] | undefined {
  const stop = Math.max(0, b.length - 22 - 0xffff);
  let eocd = -1;
  for (let i = b.length - 22; i >= stop; i--) {
    if (b[i] === 0x50 && u32(b, i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  let cdOffset = u32(b, eocd + 16);
  let count = u16(b, eocd + 10);
  if (cdOffset === 0xffffffff && eocd >= 20 && u32(b, eocd - 20) === 0x07064b50) {
    const z64 = u64(b, eocd - 20 + 8);
    if (z64 + 56 <= b.length && u32(b, z64) === 0x06064b50) {
      cdOffset = u64(b, z64 + 48);
      count = Math.min(u64(b, z64 + 32), MAX_ZIP_NAMES);
    }
  }
  const names: string[] = [];
  let p = cdOffset;
  for (let k = 0; k < Math.min(count, MAX_ZIP_NAMES) && p + 46 <= b.length && u32(b, p) === 0x02014b50; k++) {
    const nameLen = u16(b, p + 28);
    names.push(utf8(b.subarray(p + 46, p + 46 + nameLen)));
    p += 46 + nameLen + u16(b, p + 30) + u16(b, p + 32);
  }
  return names.length ? names : undefined;
}

function localHeaders(b: Uint8Array): string[] {
  const names: string[] = [];
  const limit = Math.min(b.length, 1 << 24);
  let p = 0;
  while (p + 30 <= limit && names.length < MAX_ZIP_NAMES) {
    if (u32(b, p) !== 0x04034b50) {
      // Entries written with a data descriptor do not state their size: look for the next header.
      const next = nextSignature(b, p + 1, limit);
      if (next < 0) break;
      p = next;
      continue;
    }
    const nameLen = u16(b, p + 26);
    const extraLen = u16(b, p + 28);
    names.push(utf8(b.subarray(p + 30, p + 30 + nameLen)));
    const flags = u16(b, p + 6);
    const size = u32(b, p + 18);
    const after = p + 30 + nameLen + extraLen;
    p = flags & 8 || size === 0xffffffff ? after : after + size;
  }
  return names;
}

function nextSignature(b: Uint8Array, from: number, limit: number): number {
  for (let i = b.indexOf(0x50, from); i !== -1 && i + 4 <= limit; i = b.indexOf(0x50, i + 1)) {
    if (b[i + 1] === 0x4b && b[i + 2] === 0x03 && b[i + 3] === 0x04) return i;
  }
  return -1;
}

function zipKind(b: Uint8Array, lower: string): OtherFormat {
  const names = zipEntryNames(b);
  // A damaged archive with no readable listing: fall back to the byte patterns torch.save leaves.
  if (!names.length && (includesAscii(b, 'data.pkl') || includesAscii(b, 'constants.pkl'))) {
    names.push('data.pkl', ...(includesAscii(b, 'code/') || includesAscii(b, 'constants.pkl') ? ['code/'] : []));
  }
  const has = (re: RegExp) => names.some((n) => re.test(n));
  if (has(/(^|\/)data\.pkl$/)) {
    return has(/(^|\/)code\//) || has(/(^|\/)constants\.pkl$/)
      ? { id: 'torchscript', what: 'a TorchScript archive', advice: `${TO_ONNX} in Python with torch.onnx.export(torch.jit.load(path), example_input, "model.onnx").` }
      : { id: 'pytorch', what: 'a PyTorch checkpoint (.pt/.pth zip)', advice: `${TO_ONNX}: it may hold only weights (a state_dict), so load it into its nn.Module in Python and call torch.onnx.export(model, example_input, "model.onnx").` };
  }
  if (has(/serialized_exported_program/)) {
    return { id: 'pytorch-export', what: 'a PyTorch ExportedProgram (.pt2, from torch.export.save)', advice: `${TO_ONNX} in Python with torch.onnx.export(torch.export.load(path), output path "model.onnx"), or export the original nn.Module.` };
  }
  if (has(/(^|\/)saved_model\.pbt?x?t?$/)) return { id: 'savedmodel-zip', what: 'a zipped TensorFlow SavedModel', advice: `Unzip it and ${TO_ONNX.toLowerCase()} with python -m tf2onnx.convert --saved-model DIR --output model.onnx.` };
  if (has(/(^|\/)model\.weights\.h5$/) || (has(/(^|\/)config\.json$/) && has(/(^|\/)metadata\.json$/)) || (lower.endsWith('.keras') && has(/config\.json$/))) {
    return { id: 'keras', what: 'a Keras 3 model (.keras)', advice: `${TO_ONNX}: ${KERAS3}.` };
  }
  if (has(/Manifest\.json$/) && has(/com\.apple\.CoreML/)) {
    return { id: 'coreml-package', what: 'a zipped Core ML package (.mlpackage)', advice: `${NOT_BACK}.` };
  }
  const onnx = names.filter((n) => /\.onnx$/i.test(n) && !n.endsWith('/'));
  if (onnx.length) {
    const others = names.filter((n) => !n.endsWith('/') && !onnx.includes(n));
    return {
      id: 'zip',
      what: `a ZIP archive holding ${onnx.slice(0, 3).join(', ')}${onnx.length > 3 ? ` and ${onnx.length - 3} more models` : ''}`,
      advice: `Unpack it and open ${onnx.length === 1 ? onnx[0] : 'one of those'}${others.length ? ' together with its data files, if it has any' : ''}.`,
    };
  }
  if (names.length && names.every((n) => n.endsWith('.npy'))) return { id: 'npz', what: 'a NumPy archive (.npz) of arrays', advice: 'It holds arrays (test data or weights), not a model: open the .onnx model.' };
  const listed = names.filter((n) => !n.endsWith('/'));
  return {
    id: 'zip',
    what: `a ZIP archive${listed.length ? ` (${listed.slice(0, 3).join(', ')}${listed.length > 3 ? `, … ${fmt(listed.length)} files` : ''})` : ''}`,
    advice: 'Unpack it and open the .onnx file inside.',
  };
}

/** The original file name a gzip header records (FNAME), if any. */
function gzipName(b: Uint8Array): string | undefined {
  const flags = b[3] ?? 0;
  let p = 10;
  if (flags & 4) p += 2 + u16(b, 10);
  if (!(flags & 8) || p >= b.length) return undefined;
  const end = b.indexOf(0, p);
  if (end < 0 || end - p > 255) return undefined;
  return String.fromCharCode(...b.subarray(p, end));
}

// ---- text -------------------------------------------------------------------------------------

/** The start of the file as text, if it is text (UTF-8, no control characters but tab and newlines). */
function textHead(b: Uint8Array): string | undefined {
  const head = b.subarray(0, 4096);
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // A multi-byte character cut at the 4096th byte is still text: try dropping up to 3 bytes.
  for (let cut = 0; cut <= (b.length > head.length ? 3 : 0); cut++) {
    try {
      const s = decoder.decode(head.subarray(0, head.length - cut)).replace(/^\ufeff/, '');
      return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(s) ? undefined : s;
    } catch {
      // try one byte shorter
    }
  }
  return undefined;
}

function textKind(b: Uint8Array): OtherFormat | undefined {
  const head = textHead(b);
  if (head === undefined) return undefined;
  const lfs = /^version https:\/\/git-lfs\.github\.com\/spec\/v1\s+oid sha256:[0-9a-f]+\s+size (\d+)/.exec(head);
  if (lfs) {
    return { id: 'git-lfs-pointer', what: `a Git LFS pointer file: the model itself (${fmt(Number(lfs[1]))} bytes) was never downloaded`, advice: 'Run git lfs pull in the repository, or download the file through its "download" (Hugging Face: resolve/…) link instead of the raw pointer.' };
  }
  if (/^\s*(<!doctype html|<html)/i.test(head)) {
    return { id: 'html', what: 'a web page (HTML), not a model file', advice: 'The link probably led to the model\'s page rather than the file: download the raw file (GitHub: "Download raw file"; Hugging Face: the download link).' };
  }
  if (/<net\s/.test(head)) return { id: 'openvino-ir', what: 'an OpenVINO IR model (.xml)', advice: `${NOT_BACK}.` };
  if (/^7767517\s/.test(head)) return { id: 'ncnn-param', what: 'an ncnn model description (.param)', advice: `${NOT_BACK}.` };
  if (/^\s*\[net\]/m.test(head) && /^\s*\[(convolutional|connected|route|yolo|region)\]/m.test(head)) {
    return { id: 'darknet-cfg', what: 'a Darknet network description (.cfg)', advice: `${TO_ONNX} together with its .weights file (for example with a YOLO repository's export script).` };
  }
  if (/^\s*(name:|input:|layers?\s*\{)/m.test(head) && /layers?\s*\{/.test(head)) {
    return { id: 'caffe-prototxt', what: 'a Caffe network description (.prototxt)', advice: `${TO_ONNX}, e.g. with caffe2onnx or MMdnn, using the .prototxt together with its .caffemodel.` };
  }
  if (/^\s*<\s*ir_version|^\s*\w+\s*\([^)]*\)\s*=>|^\s*ir_version\s*:/m.test(head)) {
    return { id: 'onnx-text', what: 'an ONNX model in text form', advice: 'Convert it to binary first: python -c "import onnx; onnx.save(onnx.parser.parse_model(open(\'m.txt\').read()), \'m.onnx\')" (for the textual syntax), or onnx.save(google.protobuf.text_format.Parse(open(\'m.txt\').read(), onnx.ModelProto()), \'m.onnx\') (for protobuf text).' };
  }
  if (/^\s*[{[]/.test(head)) {
    if (/"modelTopology"|"weightsManifest"/.test(head)) return { id: 'tfjs', what: 'a TensorFlow.js model (model.json)', advice: `${TO_ONNX} with python -m tf2onnx.convert --tfjs model.json --output model.onnx (the weight .bin files next to it).` };
    if (/"irVersion"|"opsetImport"|"ir_version"/.test(head)) return { id: 'onnx-json', what: 'an ONNX model as JSON', advice: 'Convert it to binary first: python -c "import onnx, google.protobuf.json_format as j; onnx.save(j.Parse(open(\'m.json\').read(), onnx.ModelProto()), \'m.onnx\')".' };
    if (/"class_name"/.test(head) && /"config"/.test(head)) return { id: 'keras-json', what: 'a Keras model architecture (JSON, no weights)', advice: `${TO_ONNX} from the full model (architecture and weights) with tf2onnx.` };
    return { id: 'json', what: 'a JSON file', advice: 'ONNX models are binary .onnx files: open one of those.' };
  }
  return { id: 'text', what: 'a text file', advice: 'ONNX models are binary .onnx files: open one of those.' };
}

// ---- protobuf ---------------------------------------------------------------------------------

interface WireField {
  no: number;
  wt: number;
  /** Payload range (length-delimited), or the value's range. */
  start: number;
  end: number;
}

/** The fields of the message in b[start, end), at most `max`; stops quietly at the first malformed byte. */
function wireFields(b: Uint8Array, start = 0, end = b.length, max = 64): WireField[] {
  const out: WireField[] = [];
  let p = start;
  const varint = (): number | undefined => {
    let v = 0;
    for (let i = 0, mul = 1; i < 10 && p < end; i++, mul *= 128) {
      const x = b[p++]!;
      v += (x & 0x7f) * mul;
      if (!(x & 0x80)) return v;
    }
    return undefined;
  };
  while (p < end && out.length < max) {
    const tag = varint();
    if (tag === undefined || tag < 8) break;
    const no = Math.floor(tag / 8);
    const wt = tag % 8;
    const at = p;
    if (wt === 0) {
      if (varint() === undefined) break;
    } else if (wt === 1) p += 8;
    else if (wt === 5) p += 4;
    else if (wt === 2) {
      const len = varint();
      if (len === undefined || p + len > end) break;
      out.push({ no, wt, start: p, end: p + len });
      p += len;
      continue;
    } else break;
    if (p > end) break;
    out.push({ no, wt, start: at, end: p });
  }
  return out;
}

const isIdentifier = (b: Uint8Array, f: WireField | undefined) =>
  !!f && f.wt === 2 && f.end > f.start && f.end - f.start < 256 && /^[A-Za-z_][\w.]*$/.test(ascii(b, f.start, f.end - f.start));

/** A TensorFlow GraphDef: repeated NodeDef (field 1) whose name (1) and op (2) are strings. */
function looksLikeGraphDef(b: Uint8Array, top: WireField[]): boolean {
  if (top.length === 0 || top[0]!.no !== 1 || top[0]!.wt !== 2 || !top.every((f) => f.no >= 1 && f.no <= 4)) return false;
  const node = wireFields(b, top[0]!.start, top[0]!.end, 8);
  return node[0]?.no === 1 && node[0].wt === 2 && isIdentifier(b, node.find((f) => f.no === 2));
}

/** A TensorFlow SavedModel: schema version (1, varint) and MetaGraphDefs (2) holding a GraphDef (2). */
function looksLikeSavedModel(b: Uint8Array, top: WireField[]): boolean {
  if (!top.some((f) => f.no === 2 && f.wt === 2) || !top.every((f) => (f.no === 1 && f.wt === 0) || (f.no === 2 && f.wt === 2))) return false;
  const meta = wireFields(b, top.find((f) => f.no === 2)!.start, top.find((f) => f.no === 2)!.end, 16);
  const graph = meta.find((f) => f.no === 2 && f.wt === 2);
  return meta.length > 0 && meta.every((f) => f.no >= 1 && f.no <= 8 && f.wt === 2) && !!graph && looksLikeGraphDef(b, wireFields(b, graph.start, graph.end, 16));
}

/** A bare ONNX GraphProto: nodes (1) with op_type (4), inputs or outputs (11, 12). */
function looksLikeOnnxGraph(b: Uint8Array, top: WireField[]): boolean {
  const allowed = new Set([1, 2, 5, 10, 11, 12, 13, 14, 15, 16]);
  if (!top.every((f) => allowed.has(f.no) && (f.no !== 1 || f.wt === 2)) || !top.some((f) => f.no === 11 || f.no === 12)) return false;
  const node = top.find((f) => f.no === 1);
  return !node || isIdentifier(b, wireFields(b, node.start, node.end, 16).find((f) => f.no === 4));
}

/** Caffe's V1 NetParameter: name (1) and `layers` (2) whose V1LayerParameter has name (4) and type enum (5). */
function looksLikeCaffeV1(b: Uint8Array, top: WireField[]): boolean {
  const layers = top.filter((f) => f.no === 2);
  if (!layers.length || !layers.every((f) => f.wt === 2)) return false;
  const inner = wireFields(b, layers[0]!.start, layers[0]!.end, 16);
  return inner.some((f) => f.no === 5 && f.wt === 0) && inner.some((f) => f.no === 4 && f.wt === 2);
}

/**
 * Protobuf formats that share wire format with ONNX: told apart by field numbers and the shape of
 * their messages (Caffe NetParameter `layer` = 100; Core ML Model types ≥ 200; TensorFlow's NodeDef
 * name/op strings). `topFields` are the top-level field numbers (wire-check's topLevelFields).
 */
export function sniffProtobuf(b: Uint8Array, topFields: number[]): OtherFormat | undefined {
  const top = wireFields(b);
  if (looksLikeTensor(b, topFields)) {
    return { id: 'onnx-tensor', what: 'a single ONNX tensor (TensorProto, like the input_0.pb / output_0.pb files of ONNX test data)', advice: 'Open the model.onnx file next to it.' };
  }
  if (topFields.includes(100) || looksLikeCaffeV1(b, top)) {
    return { id: 'caffemodel', what: 'a Caffe model (.caffemodel weights)', advice: `${TO_ONNX}, e.g. with caffe2onnx, using it together with its .prototxt.` };
  }
  if (topFields.some((f) => f >= 200)) {
    return { id: 'coreml', what: 'a Core ML model (.mlmodel)', advice: `${NOT_BACK}.` };
  }
  if (looksLikeSavedModel(b, top) || (includesAscii(b, 'serving_default') && topFields[0] === 1)) {
    return { id: 'savedmodel', what: 'a TensorFlow SavedModel (saved_model.pb)', advice: `${TO_ONNX} with python -m tf2onnx.convert --saved-model DIR --output model.onnx (DIR is the folder holding saved_model.pb and variables/).` };
  }
  if (looksLikeGraphDef(b, top)) {
    return { id: 'graphdef', what: 'a TensorFlow frozen GraphDef (.pb)', advice: `${TO_ONNX} with python -m tf2onnx.convert --graphdef model.pb --inputs NAME:0 --outputs NAME:0 --output model.onnx.` };
  }
  if (looksLikeOnnxGraph(b, top)) {
    return { id: 'onnx-graph', what: 'a bare ONNX GraphProto (a graph without the model around it)', advice: 'Wrap it in a model: python -c "import onnx; g = onnx.GraphProto(); g.ParseFromString(open(\'g.pb\',\'rb\').read()); onnx.save(onnx.helper.make_model(g), \'m.onnx\')".' };
  }
  return undefined;
}

/** TensorProto field numbers (onnx.proto): dims … data_location. */
const TENSOR_FIELDS = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);

function looksLikeTensor(b: Uint8Array, topFields: number[]): boolean {
  if (topFields.length === 0 || !topFields.every((f) => TENSOR_FIELDS.has(f)) || !topFields.includes(2)) return false;
  // data_type (2) is a varint; in a ModelProto field 2 is producer_name, a string: the first bytes
  // of a truncated model are not a tensor.
  const fields = wireFields(b);
  if (fields.some((f) => f.no === 2 && f.wt !== 0) || !fields.some((f) => f.no === 2)) return false;
  try {
    const t = fromBinary(TensorProtoSchema, b);
    return t.dataType > 0 && t.dataType <= 26;
  } catch {
    return false;
  }
}
