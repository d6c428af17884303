// Tiny ONNX models for the local check and the teaching view: a few nodes, their inputs, one output.
import { create } from '@bufbuild/protobuf';
import {
  GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema, TensorShapeProto_DimensionSchema, TensorShapeProtoSchema,
  TypeProto_TensorSchema, TypeProtoSchema, ValueInfoProtoSchema,
  type ModelProto, type NodeProto, type OperatorSetIdProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';

export function valueInfo(name: string, dtype: number, dims?: readonly number[]): ValueInfoProto {
  const tensorType = create(TypeProto_TensorSchema, {
    elemType: dtype,
    shape: dims ? create(TensorShapeProtoSchema, { dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, { value: { case: 'dimValue', value: BigInt(d) } })) }) : undefined,
  });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}

export function tinyModel(parts: {
  name: string;
  irVersion: bigint;
  opsetImport: readonly OperatorSetIdProto[] | number;
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
}): ModelProto {
  const initializers = parts.initializers ?? [];
  // IR < 4: every initializer must also be a graph input.
  const asInputs = parts.irVersion < 4n ? initializers.filter((t) => !parts.inputs.some((i) => i.name === t.name)).map((t) => valueInfo(t.name, t.dataType, t.dims.map(Number))) : [];
  const opsetImport = typeof parts.opsetImport === 'number'
    ? [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(parts.opsetImport) })]
    : [...parts.opsetImport];
  return create(ModelProtoSchema, {
    irVersion: parts.irVersion,
    producerName: 'opfit-verify',
    opsetImport,
    graph: create(GraphProtoSchema, {
      name: parts.name,
      node: parts.nodes,
      input: [...parts.inputs, ...asInputs],
      output: parts.outputs,
      initializer: initializers,
    }),
  });
}
