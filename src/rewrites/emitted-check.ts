// Judges the few nodes one rewrite emits, without checking the whole model again. fixAll asks this
// for every incompatible PRelu and every form; checkModel over the whole rewritten model for each
// of those made it quadratic. The emitted nodes sit in a small scope of their own whose parent is
// the PRelu's graph, so their inputs resolve and are typed exactly as in the rewritten model.
import { create } from '@bufbuild/protobuf';
import { GraphProtoSchema, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { OPSET_HISTORY, NEWEST_KNOWN_OPSET } from '../onnx/opset-history';
import { indexGraph, resolveTensor, scopeOpset, type GraphIndex } from '../graph/scope';

const isDefaultDomain = (d: string) => d === '' || d === 'ai.onnx';

/**
 * The emitted nodes (and constants) as a graph inside the PRelu's own: names resolve here first,
 * then in the PRelu's graph and its enclosing ones, as they do in the rewritten model. `fn` is the
 * holding function as it is after the transaction (its opset may have been raised).
 */
export function emittedScope(scope: GraphIndex, nodes: NodeProto[], initializers: TensorProto[], fn: GraphIndex['fn']): GraphIndex {
  return indexGraph(create(GraphProtoSchema, { node: nodes, initializer: initializers }), scope.path, scope, fn);
}

function definedAbove(scope: GraphIndex | undefined, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.producer.has(name) || s.initializers.has(name) || s.inputs.has(name)) return true;
  return false;
}

/**
 * Whether validateModel (src/graph/validate.ts) could report one of the emitted nodes in the
 * rewritten model: an output that shadows an enclosing graph's name, an input nothing defines, an
 * op with no schema at the scope's opset. These happen only on models that are broken already
 * (the PRelu had the same fault); the caller then asks the whole-model check, which words them.
 * Errs towards true: `prelu` is the PRelu's graph as it was, whose enclosing graphs may still hold
 * a slope the transaction drops.
 */
export function mayBeInvalid(model: ModelProto, prelu: GraphIndex, emitted: GraphIndex): boolean {
  const functionOps = new Set(model.functions.filter((f) => isDefaultDomain(f.domain)).map((f) => f.name));
  const opset = scopeOpset(model, emitted, '') ?? (Number(model.irVersion) < 3 ? 1 : undefined);
  return emitted.graph.node.some((n) => {
    if (prelu.parent && n.output.some((o) => o && definedAbove(prelu.parent, o))) return true;
    if (n.input.some((name) => name && resolveTensor(emitted, name).kind === 'missing')) return true;
    if (!isDefaultDomain(n.domain) || functionOps.has(n.opType)) return false;
    const history = OPSET_HISTORY[n.opType];
    if (!history) return true;
    return opset !== undefined && opset <= NEWEST_KNOWN_OPSET && history[0]! > opset;
  });
}
