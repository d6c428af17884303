// Edits never mutate a model: they return a new ModelProto that shares every untouched part with
// the old one. That makes undo a matter of keeping the old object, and keeps big weights uncopied.
import type { FunctionProto, GraphProto, ModelProto } from 'onnx-buf';
import { functionGraph, isFunctionStep, pathKey, type GraphPath } from './scope';

/** A copy of a protobuf-es message that keeps its prototype (proto2 defaults) and unknown fields. */
export function shallowCopy<T extends object>(msg: T, changes: Partial<T> = {}): T {
  return Object.assign(Object.create(Object.getPrototypeOf(msg)) as T, msg, changes);
}

/**
 * A new model in which the graph at `path` is replaced by `fn(old)`; the path's ancestors are copied.
 * A path into a function body (first step {fn}) edits model.functions[fn] through its graph view
 * (functionGraph): nodes, value_info, input and output names come back; a function has no
 * initializers, so a graph that gains one is refused.
 */
export function replaceGraphAt(model: ModelProto, path: GraphPath, fn: (g: GraphProto) => GraphProto): ModelProto {
  const rebuild = (g: GraphProto, depth: number): GraphProto => {
    if (depth === path.length) return fn(g);
    const step = path[depth]!;
    if (isFunctionStep(step)) throw new Error(`a function step can only start a path: ${pathKey(path)}`);
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
  const first = path[0];
  if (!isFunctionStep(first)) return shallowCopy(model, { graph: rebuild(model.graph!, 0) });
  const old = model.functions[first.fn];
  if (!old) throw new Error(`no function at ${pathKey(path)}`);
  const view = functionGraph(old);
  const g = rebuild(view, 1);
  if (g === view) return model;
  if (g.initializer.length) throw new Error(`function ${old.name} cannot hold initializers; its constants must be Constant nodes`);
  return replaceFunction(model, first.fn, (f) =>
    shallowCopy(f, { node: g.node, valueInfo: g.valueInfo, input: g.input.map((v) => v.name), output: g.output.map((v) => v.name) }),
  );
}

/** A new model in which model.functions[index] is replaced by `fn(old)`. */
export function replaceFunction(model: ModelProto, index: number, fn: (f: FunctionProto) => FunctionProto): ModelProto {
  const functions = model.functions.slice();
  functions[index] = fn(functions[index]!);
  return shallowCopy(model, { functions });
}
