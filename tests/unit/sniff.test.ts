// Files that are not ONNX models are named for what they are, with what to do instead.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelReadError, readModel } from '../../src/onnx/model';
import { sniffFormat } from '../../src/onnx/sniff';
import { SHARED, fixtureModels } from '../helpers/paths';

const fixture = (p: string) => new Uint8Array(readFileSync(join(SHARED, p)));

/** The first local file header of a ZIP holding `name` (stored, empty), as torch.save writes. */
function zipWith(...names: string[]): Uint8Array {
  const parts = names.map((name) => {
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0); // PK\3\4
    h.writeUInt16LE(20, 4); // version needed
    h.writeUInt16LE(name.length, 26);
    return Buffer.concat([h, Buffer.from(name, 'ascii')]);
  });
  return new Uint8Array(Buffer.concat(parts));
}

function readError(bytes: Uint8Array, name: string): ModelReadError {
  try {
    readModel(bytes, name);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelReadError);
    return e as ModelReadError;
  }
  throw new Error(`${name} was read as an ONNX model`);
}

describe('sniffFormat', () => {
  it('PNG by its signature', () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    expect(sniffFormat(png)).toMatchObject({ id: 'png', what: 'a PNG image' });
  });

  it('TFLite by "TFL3" at byte 4 (both fixtures)', () => {
    for (const f of ['tflite/gtcrn-s3-float32.tflite', 'tflite/gtcrn-s3-int8.tflite']) {
      const s = sniffFormat(fixture(f));
      expect(s?.id).toBe('tflite');
      expect(s?.advice).toMatch(/tf2onnx/);
    }
  });

  it('a Caffe .prototxt (the MTCNN fixtures) as a Caffe network description', () => {
    for (const n of [1, 2, 3]) expect(sniffFormat(fixture(`caffe/mtcnn-det${n}.prototxt`))?.id).toBe('caffe-prototxt');
  });

  it('a ZIP holding data.pkl as a PyTorch checkpoint; with code/ as TorchScript; otherwise a ZIP', () => {
    expect(sniffFormat(zipWith('archive/data.pkl', 'archive/version'))?.id).toBe('pytorch');
    expect(sniffFormat(zipWith('archive/data.pkl', 'archive/code/__torch__/m.py'))?.id).toBe('torchscript');
    expect(sniffFormat(zipWith('model/model.onnx'))?.id).toBe('zip');
    expect(sniffFormat(zipWith('archive/data.pkl'))?.advice).toMatch(/torch\.onnx\.export/);
  });

  it('a pickle (protocol 2–5) as a Python pickle', () => {
    for (const proto of [2, 4, 5]) expect(sniffFormat(new Uint8Array([0x80, proto, 0x7d, 0x71, 0x00, 0x2e]))?.id).toBe('pickle');
  });

  it('an empty file', () => {
    expect(sniffFormat(new Uint8Array(0))).toMatchObject({ id: 'empty', what: 'an empty file (0 bytes)' });
  });

  it('never mistakes a real ONNX model for something else', () => {
    for (const m of fixtureModels()) expect(sniffFormat(new Uint8Array(readFileSync(m)), m)).toBeUndefined();
  });
});

describe('readModel tells the user what the file is', () => {
  it('a .caffemodel is binary protobuf: recognised by its layer field (100) after decoding fails', () => {
    for (const n of [1, 2, 3]) {
      const bytes = fixture(`caffe/mtcnn-det${n}.caffemodel`);
      expect(sniffFormat(bytes)).toBeUndefined(); // no magic number: only the protobuf check can tell
      const e = readError(bytes, `det${n}.caffemodel`);
      expect(e.detectedFormat).toBe('caffemodel');
      expect(e.message).toBe(`det${n}.caffemodel is a Caffe model (.caffemodel weights), not an ONNX model. Convert it to ONNX first, e.g. with caffe2onnx, using it together with its .prototxt.`);
    }
  });

  it.each([
    ['an empty file', new Uint8Array(0), 'empty', /is an empty file \(0 bytes\)/],
    ['a pickle', new Uint8Array([0x80, 0x02, 0x7d, 0x2e]), 'pickle', /is a Python pickle/],
    ['a PyTorch zip', zipWith('archive/data.pkl'), 'pytorch', /is a PyTorch checkpoint/],
    ['a TFLite model', fixture('tflite/gtcrn-s3-float32.tflite'), 'tflite', /is a TensorFlow Lite model/],
  ])('%s', (_, bytes, id, message) => {
    const e = readError(bytes, 'f');
    expect(e.detectedFormat).toBe(id);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(/not an ONNX model/);
  });
});
