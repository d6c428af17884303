// Benchmark models, generated (nothing downloaded): conv nets with PRelu nodes whose weights add
// up to ~10 MB, ~100 MB and ~1 GB; graphs of 10,000 and 50,000 small nodes; and a model whose
// ~3 GB of weights are external data. Weights are pseudo-random float32 (a fixed seed), written
// through the same splice writer the app uses (raw_data passed through as views).
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema, TensorProtoSchema, TensorShapeProtoSchema, TensorShapeProto_DimensionSchema,
  TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
  type AttributeProto, type ModelProto, type NodeProto, type TensorProto,
} from 'onnx-buf';
import { writeModelFile } from '../../src/onnx/node-files';

const FLOAT = 1;

/** xorshift32 floats in [-scale, scale), written straight into a Float32Array. */
function fillRandom(out: Float32Array, seed: number, scale = 0.05): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < out.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    out[i] = (x / 4294967296 - 0.5) * 2 * scale;
  }
}

function tensor(name: string, dims: number[], raw: Uint8Array): TensorProto {
  return create(TensorProtoSchema, { name, dataType: FLOAT, dims: dims.map(BigInt), rawData: raw as Uint8Array<ArrayBuffer> });
}

function externalTensor(name: string, dims: number[], location: string, offset: number, length: number): TensorProto {
  const e = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  return create(TensorProtoSchema, {
    name, dataType: FLOAT, dims: dims.map(BigInt), dataLocation: 1,
    externalData: [e('location', location), e('offset', String(offset)), e('length', String(length))],
  });
}

function randomTensor(name: string, dims: number[], seed: number): TensorProto {
  const f = new Float32Array(dims.reduce((a, b) => a * b, 1));
  fillRandom(f, seed);
  return tensor(name, dims, new Uint8Array(f.buffer));
}

function slopeTensor(name: string, c: number, seed: number): TensorProto {
  const f = new Float32Array(c);
  fillRandom(f, seed, 0.1);
  for (let i = 0; i < c; i++) f[i]! += 0.25;
  return tensor(name, [c, 1, 1], new Uint8Array(f.buffer));
}

const ints = (name: string, v: number[]): AttributeProto => create(AttributeProtoSchema, { name, type: 7, ints: v.map(BigInt) });
const node = (opType: string, input: string[], output: string[], name: string, attribute: AttributeProto[] = []): NodeProto =>
  create(NodeProtoSchema, { opType, input, output, name, attribute });

function valueInfo(name: string, shape: number[]) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: FLOAT,
          shape: create(TensorShapeProtoSchema, { dim: shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } })) }),
        }),
      },
    }),
  });
}

function model(nodes: NodeProto[], initializer: TensorProto[], input: number[], outName: string, outShape: number[], name: string): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: 8n, producerName: 'opfit-bench', producerVersion: '1',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    graph: create(GraphProtoSchema, { name, node: nodes, initializer, input: [valueInfo('x', input)], output: [valueInfo(outName, outShape)] }),
  });
}

/** Conv(3×3, C→C) + PRelu([C,1,1]) blocks until the weights reach `bytes`. Returns the path. */
export function convPreluModel(dir: string, file: string, bytes: number, c: number): string {
  const per = c * c * 9 * 4;
  const blocks = Math.max(1, Math.round(bytes / per));
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let prev = 'x';
  for (let i = 0; i < blocks; i++) {
    inits.push(randomTensor(`block${i}.conv.weight`, [c, c, 3, 3], 1000 + i), randomTensor(`block${i}.conv.bias`, [c], 5000 + i), slopeTensor(`block${i}.prelu.slope`, c, 9000 + i));
    nodes.push(node('Conv', [prev, `block${i}.conv.weight`, `block${i}.conv.bias`], [`block${i}.conv`], `block${i}/conv`, [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])]));
    nodes.push(node('PRelu', [`block${i}.conv`, `block${i}.prelu.slope`], [`block${i}.out`], `block${i}/prelu`));
    prev = `block${i}.out`;
  }
  const path = join(dir, file);
  writeModelFile(model(nodes, inits, [1, c, 8, 8], prev, [1, c, 8, 8], file), path);
  return path;
}

/** `n` nodes in blocks of Conv 1×1 (C=8) → PRelu → Add (skip) → Relu, tiny weights. */
export function wideGraphModel(dir: string, file: string, n: number): string {
  const c = 8;
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  let prev = 'x';
  for (let i = 0; nodes.length < n; i++) {
    const p = `b${i}`;
    inits.push(randomTensor(`${p}.w`, [c, c, 1, 1], 100 + i), slopeTensor(`${p}.slope`, c, 200 + i));
    nodes.push(node('Conv', [prev, `${p}.w`], [`${p}.conv`], `stage${Math.floor(i / 100)}/block${i}/conv`));
    nodes.push(node('PRelu', [`${p}.conv`, `${p}.slope`], [`${p}.act`], `stage${Math.floor(i / 100)}/block${i}/prelu`));
    nodes.push(node('Add', [`${p}.act`, prev], [`${p}.sum`], `stage${Math.floor(i / 100)}/block${i}/add`));
    nodes.push(node('Relu', [`${p}.sum`], [`${p}.out`], `stage${Math.floor(i / 100)}/block${i}/relu`));
    prev = `${p}.out`;
  }
  const path = join(dir, file);
  writeModelFile(model(nodes.slice(0, n), inits, [1, c, 4, 4], nodes[n - 1]!.output[0]!, [1, c, 4, 4], file), path);
  return path;
}

/**
 * Conv + PRelu blocks whose weights (~`bytes`) are all in `<file>.data` (external data, 4 KiB
 * aligned), slopes included; the .onnx holds only the graph and the references.
 */
export function externalModel(dir: string, file: string, bytes: number, c: number): { model: string; data: string; dataBytes: number } {
  const per = c * c * 9 * 4;
  const blocks = Math.max(1, Math.round(bytes / per));
  const location = `${file}.data`;
  const dataPath = join(dir, location);
  const fd = openSync(dataPath, 'w');
  let offset = 0;
  const put = (name: string, dims: number[], values: Float32Array): TensorProto => {
    const aligned = Math.ceil(offset / 4096) * 4096;
    const pad = aligned - offset;
    if (pad) writeSync(fd, new Uint8Array(pad));
    const b = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    let done = 0;
    while (done < b.length) done += writeSync(fd, b, done);
    offset = aligned + b.length;
    return externalTensor(name, dims, location, aligned, b.length);
  };
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const w = new Float32Array(c * c * 9);
  let prev = 'x';
  try {
    for (let i = 0; i < blocks; i++) {
      fillRandom(w, 1000 + i);
      const slope = new Float32Array(c);
      fillRandom(slope, 9000 + i, 0.1);
      for (let k = 0; k < c; k++) slope[k]! += 0.25;
      const bias = new Float32Array(c);
      fillRandom(bias, 5000 + i);
      inits.push(put(`block${i}.conv.weight`, [c, c, 3, 3], w), put(`block${i}.conv.bias`, [c], bias), put(`block${i}.prelu.slope`, [c, 1, 1], slope));
      nodes.push(node('Conv', [prev, `block${i}.conv.weight`, `block${i}.conv.bias`], [`block${i}.conv`], `block${i}/conv`, [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])]));
      nodes.push(node('PRelu', [`block${i}.conv`, `block${i}.prelu.slope`], [`block${i}.out`], `block${i}/prelu`));
      prev = `block${i}.out`;
    }
  } finally {
    closeSync(fd);
  }
  const path = join(dir, file);
  writeModelFile(model(nodes, inits, [1, c, 8, 8], prev, [1, c, 8, 8], file), path);
  return { model: path, data: dataPath, dataBytes: offset };
}
