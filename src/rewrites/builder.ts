// Emits the nodes and constants of one rewrite with names unique in the whole model. Constants
// take the dtype they are given (the slope's own); they become initializers, or Constant nodes in
// IR < 4 models, where every initializer would also have to be a graph input.
import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, NodeProtoSchema, type AttributeProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { DT } from '../onnx/dtypes';
import { isExternal, makeTensor } from '../onnx/tensor';
import { intendedSlopeShape, type PreluFacts } from '../graph/prelu';
import { fmtShape, unidirectional } from '../graph/broadcast';
import { shallowCopy } from '../graph/edit';

export type AttrValue = { f: number } | { i: number } | { ints: number[] };

export class Builder {
  readonly nodes: NodeProto[] = [];
  readonly initializers: TensorProto[] = [];
  readonly notes: string[] = [];

  /**
   * `shared`: reshaped slope copies already made in this graph (key: slope name and new dims), so
   * PRelu nodes sharing one slope share one copy. Only initializers are shared: a Constant node
   * would have to come before every user in node order.
   */
  constructor(
    private readonly taken: Set<string>,
    private readonly useInitializers: boolean,
    private readonly base: string,
    private readonly shared?: Map<string, string>,
  ) {}

  name(hint: string): string {
    let name = `${this.base}/${hint}`;
    for (let i = 1; this.taken.has(name); i++) name = `${this.base}/${hint}_${i}`;
    this.taken.add(name);
    return name;
  }

  node(opType: string, inputs: string[], opts: { output?: string; attrs?: Record<string, AttrValue> } = {}): string {
    const output = opts.output ?? this.name(opType.toLowerCase());
    const attribute: AttributeProto[] = Object.entries(opts.attrs ?? {}).map(([name, v]) =>
      'f' in v ? create(AttributeProtoSchema, { name, type: 1, f: v.f })
      : 'i' in v ? create(AttributeProtoSchema, { name, type: 2, i: BigInt(v.i) })
      : create(AttributeProtoSchema, { name, type: 7, ints: v.ints.map(BigInt) }),
    );
    this.nodes.push(create(NodeProtoSchema, { opType, input: inputs, output: [output], name: this.name(opType), attribute }));
    return output;
  }

  constant(hint: string, tensor: Omit<TensorProto, 'name'> | TensorProto): string {
    const name = this.name(hint);
    const t = shallowCopy(tensor as TensorProto, { name });
    if (this.useInitializers) this.initializers.push(t);
    else {
      const value = create(AttributeProtoSchema, { name: 'value', type: 4, t });
      this.nodes.push(create(NodeProtoSchema, { opType: 'Constant', output: [name], name: this.name('Constant'), attribute: [value] }));
    }
    return name;
  }

  scalar(hint: string, dtype: number, value: number): string {
    return this.constant(hint, makeTensor('', dtype, [], [value]));
  }

  /**
   * The slope in the shape that gives the node's intended function under ONNX-7 broadcasting
   * (see intendedSlopeShape): the tensor itself when nothing changes, a re-dimensioned copy of a
   * constant slope (same bytes; an external slope's copy points at the same external data), or a
   * Reshape of a dynamic one, or of an external slope where constants must be Constant nodes.
   */
  slope(f: PreluFacts): string {
    const intended = intendedSlopeShape(f);
    if ('error' in intended) throw new Error(intended.error);
    // Mul and Where broadcast both ways, PRelu only one way: a slope that does not broadcast to x
    // makes PRelu invalid, but would silently widen (or break) the rewritten output. Refuse, so
    // the fault is reported on the original model (reference/failure-cases.md, item 14).
    const xs = f.xFacts.shape;
    const fits = xs ? unidirectional(intended.shape, xs) : undefined;
    if (fits?.ok === false) {
      throw new Error(`the slope ${fmtShape(intended.shape)} does not broadcast to the input ${fmtShape(xs!)} (${fits.why}), so this PRelu is invalid as it stands; a rewrite would hide that`);
    }
    if (!intended.changed) return f.slope;
    if (intended.note) this.notes.push(intended.note);
    const dims = intended.shape.map((d) => (typeof d === 'number' ? d : -1));
    if (f.slopeTensor && (this.useInitializers || !isExternal(f.slopeTensor))) {
      const key = `${f.slope}|${dims.join(',')}`;
      const made = this.useInitializers ? this.shared?.get(key) : undefined;
      if (made) return made;
      const name = this.constant('slope', shallowCopy(f.slopeTensor, { dims: dims.map(BigInt) }));
      if (this.useInitializers) this.shared?.set(key, name);
      return name;
    }
    const shape = this.constant('slope_shape', makeTensor('', DT.INT64, [dims.length], dims));
    return this.node('Reshape', [f.slope, shape]);
  }
}
