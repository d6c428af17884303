// Builds public/sample-prelu.onnx, the model the app opens on first run: a small face-embedding
// style network with four PRelu nodes covering the slope layouts users meet in real exports.
//   prelu_1: slope [16] on [1,16,32,32], the classic old-exporter bug (pytorch#21271): invalid
//            under ONNX broadcasting, per channel was meant;
//   prelu_2: slope [32,1,1], the correct per-channel layout;
//   prelu_3: one shared slope [1] (LeakyRelu-like);
//   prelu_4: slope [8] on a [1,8] Gemm output (per feature, last axis: valid).
// Run: npm run sample
import { writeFileSync } from 'node:fs';
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema,
  TensorShapeProtoSchema, TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
} from 'onnx-buf';
import { makeTensor } from '../src/onnx/tensor';
import { writeModel } from '../src/onnx/model';
import { DT } from '../src/onnx/dtypes';

let seed = 20261203;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
const randn = (n: number, scale: number) => Array.from({ length: n }, () => (rand() * 2 - 1) * scale);

const initializers = [
  makeTensor('conv1.weight', DT.FLOAT, [16, 3, 3, 3], randn(16 * 27, 0.3)),
  makeTensor('conv1.bias', DT.FLOAT, [16], randn(16, 0.1)),
  makeTensor('prelu1.slope', DT.FLOAT, [16], randn(16, 0.1).map((v) => 0.25 + v)),
  makeTensor('conv2.weight', DT.FLOAT, [32, 16, 3, 3], randn(32 * 144, 0.1)),
  makeTensor('conv2.bias', DT.FLOAT, [32], randn(32, 0.1)),
  makeTensor('prelu2.slope', DT.FLOAT, [32, 1, 1], randn(32, 0.1).map((v) => 0.2 + v)),
  makeTensor('conv3.weight', DT.FLOAT, [32, 32, 3, 3], randn(32 * 288, 0.08)),
  makeTensor('conv3.bias', DT.FLOAT, [32], randn(32, 0.1)),
  makeTensor('prelu3.slope', DT.FLOAT, [1], [0.1]),
  makeTensor('fc.weight', DT.FLOAT, [8, 32], randn(8 * 32, 0.2)),
  makeTensor('fc.bias', DT.FLOAT, [8], randn(8, 0.1)),
  makeTensor('prelu4.slope', DT.FLOAT, [8], randn(8, 0.1).map((v) => 0.3 + v)),
];

const ints = (name: string, v: number[]) => create(AttributeProtoSchema, { name, type: 7, ints: v.map(BigInt) });
const int = (name: string, v: number) => create(AttributeProtoSchema, { name, type: 2, i: BigInt(v) });
const node = (name: string, opType: string, input: string[], output: string[], attribute = [] as ReturnType<typeof ints>[]) =>
  create(NodeProtoSchema, { name, opType, input, output, attribute });

const nodes = [
  node('conv_1', 'Conv', ['image', 'conv1.weight', 'conv1.bias'], ['conv_1_out'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2])]),
  node('prelu_1', 'PRelu', ['conv_1_out', 'prelu1.slope'], ['prelu_1_out']),
  node('conv_2', 'Conv', ['prelu_1_out', 'conv2.weight', 'conv2.bias'], ['conv_2_out'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1]), ints('strides', [2, 2])]),
  node('prelu_2', 'PRelu', ['conv_2_out', 'prelu2.slope'], ['prelu_2_out']),
  node('conv_3', 'Conv', ['prelu_2_out', 'conv3.weight', 'conv3.bias'], ['conv_3_out'], [ints('kernel_shape', [3, 3]), ints('pads', [1, 1, 1, 1])]),
  node('prelu_3', 'PRelu', ['conv_3_out', 'prelu3.slope'], ['prelu_3_out']),
  node('pool', 'GlobalAveragePool', ['prelu_3_out'], ['pool_out']),
  node('flatten', 'Flatten', ['pool_out'], ['flat'], [int('axis', 1)]),
  node('fc', 'Gemm', ['flat', 'fc.weight', 'fc.bias'], ['fc_out'], [int('transB', 1)]),
  node('prelu_4', 'PRelu', ['fc_out', 'prelu4.slope'], ['embedding']),
];

const vi = (name: string, shape: number[]) =>
  create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: DT.FLOAT,
          shape: create(TensorShapeProtoSchema, { dim: shape.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } })) }),
        }),
      },
    }),
  });

const model = create(ModelProtoSchema, {
  irVersion: 7n,
  producerName: 'opfit scripts/make-sample.ts',
  docString: 'OpFit sample: four PRelu nodes with the slope layouts real exports have.',
  opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 13n })],
  graph: create(GraphProtoSchema, {
    name: 'sample_face_embedding',
    node: nodes,
    initializer: initializers,
    input: [vi('image', [1, 3, 64, 64])],
    output: [vi('embedding', [1, 8])],
    valueInfo: [
      vi('conv_1_out', [1, 16, 32, 32]), vi('prelu_1_out', [1, 16, 32, 32]),
      vi('conv_2_out', [1, 32, 16, 16]), vi('prelu_2_out', [1, 32, 16, 16]),
      vi('conv_3_out', [1, 32, 16, 16]), vi('prelu_3_out', [1, 32, 16, 16]),
      vi('pool_out', [1, 32, 1, 1]), vi('flat', [1, 32]), vi('fc_out', [1, 8]),
    ],
  }),
});

writeFileSync('public/sample-prelu.onnx', writeModel(model));
console.log('wrote public/sample-prelu.onnx');
