// Tiny ONNX models built in the tests themselves, with onnx-buf's create() (the same way
// src/rewrites/builder.ts makes nodes and tensors), so each test states its whole input.
import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type AttributeProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { DT } from '../../src/onnx/dtypes';
import { makeTensor } from '../../src/onnx/tensor';

export { DT, makeTensor };

export type DimSpec = number | string;

export function valueInfo(name: string, dtype: number, shape?: DimSpec[]): ValueInfoProto {
  const tensorType = create(TypeProto_TensorSchema, {
    elemType: dtype,
    shape: shape
      ? create(TensorShapeProtoSchema, {
          dim: shape.map((d) =>
            create(TensorShapeProto_DimensionSchema, {
              value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
            }),
          ),
        })
      : undefined,
  });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}

export function node(opType: string, input: string[], output: string[], opts: { name?: string; attribute?: AttributeProto[] } = {}): NodeProto {
  return create(NodeProtoSchema, { opType, input, output, name: opts.name ?? '', attribute: opts.attribute ?? [] });
}

export function graphAttr(name: string, g: GraphProto): AttributeProto {
  return create(AttributeProtoSchema, { name, type: 5, g });
}

export function tensorAttr(name: string, t: TensorProto): AttributeProto {
  return create(AttributeProtoSchema, { name, type: 4, t });
}

export function graph(parts: {
  name?: string;
  nodes: NodeProto[];
  inputs?: ValueInfoProto[];
  outputs: ValueInfoProto[];
  initializers?: TensorProto[];
  valueInfo?: ValueInfoProto[];
}): GraphProto {
  return create(GraphProtoSchema, {
    name: parts.name ?? 'g',
    node: parts.nodes,
    input: parts.inputs ?? [],
    output: parts.outputs,
    initializer: parts.initializers ?? [],
    valueInfo: parts.valueInfo ?? [],
  });
}

export function model(g: GraphProto, opset: number, irVersion = opset >= 13 ? 7 : opset >= 9 ? 4 : 3): ModelProto {
  return create(ModelProtoSchema, {
    irVersion: BigInt(irVersion),
    producerName: 'opfit-tests',
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(opset) })],
    graph: g,
  });
}

/**
 * y = PRelu(x, slope) with the slope as an initializer (named "slope"); x is a graph input.
 * IR 3 models (opset < 9 by default) also list the initializer as a graph input, as the IR requires.
 */
export function preluModel(o: {
  xShape: DimSpec[];
  slopeShape: number[];
  slope: number[];
  opset?: number;
  dtype?: number;
  nodeName?: string;
  irVersion?: number;
}): ModelProto {
  const dtype = o.dtype ?? DT.FLOAT;
  const opset = o.opset ?? 16;
  const ir = o.irVersion ?? (opset >= 13 ? 7 : opset >= 9 ? 4 : 3);
  const slope = makeTensor('slope', dtype, o.slopeShape, o.slope);
  const inputs = [valueInfo('x', dtype, o.xShape)];
  if (ir < 4) inputs.push(valueInfo('slope', dtype, o.slopeShape));
  return model(
    graph({
      nodes: [node('PRelu', ['x', 'slope'], ['y'], { name: o.nodeName ?? 'prelu' })],
      inputs,
      outputs: [valueInfo('y', dtype, o.xShape.length >= o.slopeShape.length ? o.xShape : undefined)],
      initializers: [slope],
    }),
    opset,
    ir,
  );
}

/** Every node of every graph (subgraphs included), with where it lives. */
export function allNodes(m: ModelProto): NodeProto[] {
  const out: NodeProto[] = [];
  const visit = (g: GraphProto) => {
    for (const n of g.node) {
      out.push(n);
      for (const a of n.attribute) {
        if (a.g) visit(a.g);
        a.graphs.forEach(visit);
      }
    }
  };
  if (m.graph) visit(m.graph);
  return out;
}

/** Every tensor a model holds: initializers and Constant values, in every graph. */
export function allTensors(m: ModelProto): TensorProto[] {
  const out: TensorProto[] = [];
  const visit = (g: GraphProto) => {
    out.push(...g.initializer);
    for (const n of g.node) {
      for (const a of n.attribute) {
        if (a.t) out.push(a.t);
        if (a.g) visit(a.g);
        a.graphs.forEach(visit);
      }
    }
  };
  if (m.graph) visit(m.graph);
  return out;
}
