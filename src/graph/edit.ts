// Edits never mutate a model: they return a new ModelProto that shares every untouched part with
// the old one. That makes undo a matter of keeping the old object, and keeps big weights uncopied.
import type { GraphProto, ModelProto } from 'onnx-buf';
import type { GraphPath } from './scope';

/** A copy of a protobuf-es message that keeps its prototype (proto2 defaults) and unknown fields. */
export function shallowCopy<T extends object>(msg: T, changes: Partial<T> = {}): T {
  return Object.assign(Object.create(Object.getPrototypeOf(msg)) as T, msg, changes);
}

/** A new model in which the graph at `path` is replaced by `fn(old)`; the path's ancestors are copied. */
export function replaceGraphAt(model: ModelProto, path: GraphPath, fn: (g: GraphProto) => GraphProto): ModelProto {
  const rebuild = (g: GraphProto, depth: number): GraphProto => {
    if (depth === path.length) return fn(g);
    const step = path[depth]!;
    const node = g.node[step.node]!;
    const attribute = node.attribute.map((a) => {
      if (a.name !== step.attr) return a;
      if (step.index === undefined) return shallowCopy(a, { g: rebuild(a.g!, depth + 1) });
      return shallowCopy(a, { graphs: a.graphs.map((sg, i) => (i === step.index ? rebuild(sg, depth + 1) : sg)) });
    });
    const nodes = g.node.slice();
    nodes[step.node] = shallowCopy(node, { attribute });
    return shallowCopy(g, { node: nodes });
  };
  return shallowCopy(model, { graph: rebuild(model.graph!, 0) });
}
