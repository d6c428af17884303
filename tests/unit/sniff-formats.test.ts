// Issue 6, item 2: a file that is not ONNX is named for what it is, with what to do instead. Each
// format gets a tiny sample built here (magic numbers, archive listings, protobuf field layouts as
// the format's own writer produces them), and the user's message is checked through readModel.
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ModelReadError, readModel } from '../../src/onnx/model';
import { sniffFormat, zipEntryNames } from '../../src/onnx/sniff';
import { fixtureModels, testdataModels } from '../helpers/paths';

// ---- sample builders ---------------------------------------------------------------------------

const enc = new TextEncoder();
const bytes = (...parts: (Uint8Array | number[] | string)[]) =>
  new Uint8Array(parts.flatMap((p) => (typeof p === 'string' ? [...enc.encode(p)] : [...p])));

/** Protobuf wire encoding, enough to write other frameworks' messages by hand. */
const pb = {
  varint(n: number): number[] {
    const out: number[] = [];
    do {
      let x = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) x |= 0x80;
      out.push(x);
    } while (n > 0);
    return out;
  },
  int(field: number, value: number): number[] {
    return [...pb.varint(field * 8), ...pb.varint(value)];
  },
  bytes(field: number, payload: Uint8Array | number[] | string): number[] {
    const body = [...bytes(payload)];
    return [...pb.varint(field * 8 + 2), ...pb.varint(body.length), ...body];
  },
};

const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];

/** A ZIP with stored entries, local headers and a central directory (CRCs left 0; nobody here checks them). */
function zip(entries: [string, string | Uint8Array][]): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  for (const [name, content] of entries) {
    const data = [...bytes(content)];
    const n = [...enc.encode(name)];
    const offset = out.length;
    out.push(...le32(0x04034b50), ...le16(20), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le32(0), ...le32(data.length), ...le32(data.length), ...le16(n.length), ...le16(0), ...n, ...data);
    central.push(...le32(0x02014b50), ...le16(20), ...le16(20), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le32(0), ...le32(data.length), ...le32(data.length), ...le16(n.length), ...le16(0), ...le16(0), ...le16(0), ...le16(0), ...le32(0), ...le32(offset), ...n);
  }
  const cdOffset = out.length;
  out.push(...central, ...le32(0x06054b50), ...le16(0), ...le16(0), ...le16(entries.length), ...le16(entries.length), ...le32(central.length), ...le32(cdOffset), ...le16(0));
  return new Uint8Array(out);
}

function tar(name: string, content: string): Uint8Array {
  const h = new Uint8Array(512);
  h.set(enc.encode(name), 0);
  h.set(enc.encode(content.length.toString(8).padStart(11, '0')), 124);
  h.set(enc.encode('ustar\x0000'), 257);
  const body = new Uint8Array(512);
  body.set(enc.encode(content));
  return bytes(h, body, new Uint8Array(1024));
}

// TensorFlow: NodeDef {name = 1, op = 2, input = 3}; GraphDef {node = 1, versions = 4};
// MetaGraphDef {meta_info_def = 1 {tags = 4}, graph_def = 2, signature_def = 5};
// SavedModel {saved_model_schema_version = 1, meta_graphs = 2}.
const nodeDef = (name: string, op: string, ...inputs: string[]) => pb.bytes(1, [...pb.bytes(1, name), ...pb.bytes(2, op), ...inputs.flatMap((i) => pb.bytes(3, i))]);
const graphDef = [...nodeDef('input', 'Placeholder'), ...nodeDef('w', 'Const'), ...nodeDef('y', 'MatMul', 'input', 'w'), ...pb.bytes(4, pb.int(1, 1087))];
const savedModel = bytes(pb.int(1, 1), pb.bytes(2, [...pb.bytes(1, pb.bytes(4, 'serve')), ...pb.bytes(2, graphDef), ...pb.bytes(5, [...pb.bytes(1, 'serving_default')])]));

// Caffe NetParameter {name = 1, layers (V1) = 2, layer = 100}; LayerParameter {name = 1, type = 2};
// V1LayerParameter {name = 4, type = 5 (enum)}.
const caffemodel = bytes(pb.bytes(1, 'LeNet'), pb.bytes(100, [...pb.bytes(1, 'conv1'), ...pb.bytes(2, 'Convolution')]));
const caffemodelV1 = bytes(pb.bytes(1, 'CaffeNet'), pb.bytes(2, [...pb.bytes(4, 'conv1'), ...pb.int(5, 4)]), pb.bytes(2, [...pb.bytes(4, 'relu1'), ...pb.int(5, 18)]));

// Core ML Model {specificationVersion = 1, description = 2, neuralNetwork = 500}.
const coreml = bytes(pb.int(1, 4), pb.bytes(2, pb.bytes(1, [...pb.bytes(1, 'image')])), pb.bytes(500, pb.bytes(1, [...pb.bytes(1, 'conv'), ...pb.bytes(2, 'image')])));

// ONNX GraphProto on its own {node = 1 {input 1, output 2, op_type 4}, name = 2, input = 11, output = 12}.
const bareGraph = bytes(pb.bytes(1, [...pb.bytes(1, 'x'), ...pb.bytes(2, 'y'), ...pb.bytes(4, 'Relu')]), pb.bytes(2, 'g'), pb.bytes(11, pb.bytes(1, 'x')), pb.bytes(12, pb.bytes(1, 'y')));

const safetensorsHeader = '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
const TORCH_LEGACY_MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];

// ---- the table: sample, file name, detected id, what the message must say ------------------------

const CASES: [string, Uint8Array, string, string, RegExp][] = [
  ['PyTorch zip checkpoint', zip([['archive/data.pkl', '\x80\x02}q\x00.'], ['archive/byteorder', 'little'], ['archive/data/0', '\0\0\0\0'], ['archive/version', '3\n']]), 'm.pth', 'pytorch', /is a PyTorch checkpoint \(\.pt\/\.pth zip\).*state_dict.*torch\.onnx\.export\(model, example_input/],
  ['legacy PyTorch pickle', bytes(TORCH_LEGACY_MAGIC), 'm.pt', 'pytorch-legacy', /legacy \(pre-1\.6\) pickle format.*torch\.onnx\.export/],
  ['a plain pickle', bytes([0x80, 0x04, 0x95, 0x05, 0, 0, 0, 0, 0, 0, 0, 0x7d, 0x94, 0x2e]), 'm.pkl', 'pickle', /is a Python pickle.*torch\.onnx\.export/],
  ['TorchScript', zip([['archive/data.pkl', '.'], ['archive/constants.pkl', '.'], ['archive/code/__torch__/model.py', 'class M: pass'], ['archive/version', '3']]), 'm.pt', 'torchscript', /is a TorchScript archive.*torch\.jit\.load/],
  ['torch.export .pt2', zip([['archive/serialized_exported_program.json', '{}'], ['archive/version', '1']]), 'm.pt2', 'pytorch-export', /ExportedProgram.*torch\.export\.load/],
  ['TensorFlow SavedModel', savedModel, 'saved_model.pb', 'savedmodel', /is a TensorFlow SavedModel.*tf2onnx\.convert --saved-model/],
  ['zipped SavedModel', zip([['model/saved_model.pb', savedModel], ['model/variables/variables.index', '']]), 'model.zip', 'savedmodel-zip', /zipped TensorFlow SavedModel.*--saved-model/],
  ['frozen GraphDef', bytes(graphDef), 'frozen.pb', 'graphdef', /frozen GraphDef.*--graphdef model\.pb --inputs/],
  ['Keras H5', bytes([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a], new Uint8Array(64)), 'm.h5', 'keras-h5', /HDF5 file \(a Keras \.h5.*from_keras.*Keras 3/],
  ['Keras 3 .keras', zip([['metadata.json', '{"keras_version":"3.3.3"}'], ['config.json', '{"class_name":"Sequential"}'], ['model.weights.h5', '\x89HDF\r\n\x1a\n']]), 'm.keras', 'keras', /is a Keras 3 model.*model\.export\("saved_model"\)/],
  ['TFLite', bytes(le32(0x1c), 'TFL3', new Uint8Array(24)), 'm.tflite', 'tflite', /TensorFlow Lite model.*tf2onnx.*--tflite/],
  ['Caffe prototxt', enc.encode('name: "LeNet"\nlayer {\n  name: "data"\n  type: "Input"\n  top: "data"\n}\n'), 'deploy.prototxt', 'caffe-prototxt', /Caffe network description.*caffemodel/],
  ['Caffe caffemodel', caffemodel, 'm.caffemodel', 'caffemodel', /Caffe model \(\.caffemodel weights\).*prototxt/],
  ['Caffe caffemodel (V1 layers)', caffemodelV1, 'old.caffemodel', 'caffemodel', /Caffe model/],
  ['Core ML', coreml, 'm.mlmodel', 'coreml', /Core ML model.*ONNX model it was made from/],
  ['zipped Core ML package', zip([['M.mlpackage/Manifest.json', '{}'], ['M.mlpackage/Data/com.apple.CoreML/model.mlmodel', '']]), 'M.zip', 'coreml-package', /Core ML package/],
  ['OpenVINO IR', enc.encode('<?xml version="1.0"?>\n<net name="model" version="11">\n\t<layers>\n\t</layers>\n</net>\n'), 'model.xml', 'openvino-ir', /OpenVINO IR model.*ONNX model it was made from/],
  ['safetensors', bytes([safetensorsHeader.length, 0, 0, 0, 0, 0, 0, 0], safetensorsHeader, [0, 0, 0x80, 0x3f]), 'model.safetensors', 'safetensors', /safetensors weights file.*no graph.*optimum-cli export onnx/],
  ['GGUF', bytes('GGUF', le32(3), new Uint8Array(16)), 'm.gguf', 'gguf', /GGUF model \(llama\.cpp\).*optimum-cli/],
  ['ONNX textual syntax', enc.encode('<\n  ir_version: 8,\n  opset_import: ["" : 15]\n>\nagraph (float[N] X) => (float[N] Y) {\n  Y = Relu(X)\n}\n'), 'm.onnxtxt', 'onnx-text', /ONNX model in text form.*onnx\.parser\.parse_model/],
  ['ONNX protobuf text format', enc.encode('ir_version: 8\ngraph {\n  node { input: "x" output: "y" op_type: "Relu" }\n}\nopset_import { version: 15 }\n'), 'm.textproto', 'onnx-text', /ONNX model in text form.*text_format/],
  ['ONNX as JSON', enc.encode('{\n  "irVersion": "8",\n  "graph": {"node": [{"opType": "Relu"}]}\n}\n'), 'm.json', 'onnx-json', /ONNX model as JSON.*json_format/],
  ['ORT format', bytes(le32(0x14), 'ORTM', new Uint8Array(24)), 'm.ort', 'ort', /ONNX Runtime optimised model \(\.ort format\).*cannot be edited/],
  ['PNG image', bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], le32(13), 'IHDR'), 'cat.png', 'png', /is a PNG image.*Open the \.onnx model file instead/],
  ['JPEG image', bytes([0xff, 0xd8, 0xff, 0xe0, 0, 0x10], 'JFIF\0'), 'cat.jpg', 'jpeg', /is a JPEG image/],
  ['WebP image', bytes('RIFF', le32(12), 'WEBPVP8 ', new Uint8Array(4)), 'cat.webp', 'webp', /is a WebP image/],
  ['BMP image', bytes('BM', le32(30), le32(0), le32(26), new Uint8Array(16)), 'cat.bmp', 'bmp', /is a BMP image/],
  ['ZIP holding an ONNX model', zip([['resnet/model.onnx', '\x08\x07'], ['resnet/model.onnx.data', '\0\0\0\0'], ['resnet/README.md', '# hi']]), 'resnet.zip', 'zip', /ZIP archive holding resnet\/model\.onnx.*open resnet\/model\.onnx together with its data files/],
  ['ZIP of other files', zip([['a.txt', 'x'], ['b.txt', 'y']]), 'x.zip', 'zip', /ZIP archive \(a\.txt, b\.txt\).*Unpack it/],
  ['gzip', new Uint8Array(gzipSync(Buffer.from('\x08\x07'))), 'model.onnx.gz', 'gzip', /gzip-compressed file.*Decompress it/],
  ['tar', tar('model/model.onnx', '\x08\x07'), 'model.tar', 'tar', /tar archive \(first entry: model\/model\.onnx\).*tar -xf/],
  ['7-Zip', bytes([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c, 0, 4], new Uint8Array(24)), 'm.7z', '7z', /7-Zip archive/],
  ['NumPy .npy', bytes([0x93], 'NUMPY', [1, 0], le16(118), "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }".padEnd(117) + '\n', [0, 0, 0x80, 0x3f]), 'x.npy', 'npy', /NumPy array.*not a model/],
  ['TensorFlow.js model.json', enc.encode('{"format": "graph-model", "modelTopology": {"node": []}, "weightsManifest": []}'), 'model.json', 'tfjs', /TensorFlow\.js model.*--tfjs/],
  ['a Git LFS pointer', enc.encode('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 1736481\n'), 'model.onnx', 'git-lfs-pointer', /Git LFS pointer file: the model itself \(1,736,481 bytes\) was never downloaded.*git lfs pull/],
  ['a saved web page', enc.encode('<!DOCTYPE html>\n<html lang="en"><head><title>model.onnx · GitHub</title></head></html>'), 'model.onnx', 'html', /web page \(HTML\).*raw file/],
  ['an external data file on its own', new Uint8Array(new Float32Array([0.25, -1, 3, 0.5]).buffer), 'model.onnx.data', 'external-data', /external data \(the weights\) of an ONNX model.*select both files/],
  ['a bare ONNX GraphProto', bareGraph, 'graph.pb', 'onnx-graph', /bare ONNX GraphProto.*make_model/],
  ['an ncnn .param', enc.encode('7767517\n3 3\nInput data 0 1 data\n'), 'm.param', 'ncnn-param', /ncnn model description/],
  ['zeros (interrupted download)', new Uint8Array(4096), 'model.onnx', 'zeros', /starts with 64 zero bytes.*interrupted download/],
];

function readError(b: Uint8Array, name: string): ModelReadError {
  try {
    readModel(b, name);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelReadError);
    return e as ModelReadError;
  }
  throw new Error(`${name} was read as an ONNX model`);
}

describe('every other format is named, with what to do', () => {
  it.each(CASES)('%s', (_, sample, name, id, message) => {
    const e = readError(sample, name);
    expect(e.detectedFormat).toBe(id);
    expect(e.message.startsWith(`${name} is `)).toBe(true);
    expect(e.message).toMatch(/not an ONNX model\. /);
    expect(e.message).toMatch(message);
  });

  it('covers every format issue 6 lists', () => {
    const ids = new Set(CASES.map((c) => c[3]));
    for (const id of ['pytorch', 'pickle', 'torchscript', 'savedmodel', 'graphdef', 'keras-h5', 'keras', 'tflite', 'caffe-prototxt', 'caffemodel', 'coreml', 'openvino-ir', 'safetensors', 'gguf', 'onnx-text', 'ort', 'png', 'zip']) {
      expect(ids.has(id), id).toBe(true);
    }
  });
});

describe('archives are listed, not guessed', () => {
  it('reads names from the central directory, and from local headers when the end is cut off', () => {
    const z = zip([['archive/data.pkl', 'x'.repeat(100)], ['archive/code/m.py', 'y']]);
    expect(zipEntryNames(z)).toEqual(['archive/data.pkl', 'archive/code/m.py']);
    // Both local headers (146 + 48 bytes) but no central directory.
    expect(zipEntryNames(z.subarray(0, 200))).toEqual(['archive/data.pkl', 'archive/code/m.py']);
    expect(sniffFormat(z.subarray(0, 200))?.id).toBe('torchscript');
  });

  it('a half-downloaded PyTorch zip is still a PyTorch checkpoint', () => {
    const z = zip([['archive/data.pkl', 'x'], ['archive/data/0', new Uint8Array(5000)]]);
    expect(sniffFormat(z.subarray(0, 3000))?.id).toBe('pytorch');
  });
});

describe('real ONNX models are never taken for another format', () => {
  it('none of the fixtures or libonnx-testdata models is sniffed as something else', () => {
    const wrong: string[] = [];
    for (const m of [...fixtureModels(), ...testdataModels()]) {
      const s = sniffFormat(new Uint8Array(readFileSync(m)), m);
      if (s) wrong.push(`${m}: ${s.id}`);
    }
    expect(wrong).toEqual([]);
  });
});
