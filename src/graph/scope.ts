// The in-memory view of one graph: who produces and who consumes each tensor, which tensors are
// weights, and what is known of each tensor's type. Subgraphs (If/Loop/Scan bodies) see the
// tensors of their outer scopes, so an index keeps a link to its parent.
import type { GraphProto, ModelProto, NodeProto, TensorProto, TypeProto, ValueInfoProto } from 'onnx-buf';

/** Where a graph lives: [] is the main graph; each step goes into a node's graph attribute. */
export interface PathStep {
  node: number;
  attr: string;
  /** Set for GRAPHS-typed attributes (a list of graphs). */
  index?: number;
}
export type GraphPath = readonly PathStep[];

export type Dim = number | string | null;
export interface TensorFacts {
  dtype?: number;
  shape?: Dim[];
}

export type TensorSource =
  | { kind: 'initializer'; tensor: TensorProto; alsoGraphInput: boolean; scope: GraphIndex }
  | { kind: 'constant'; tensor: TensorProto; node: NodeProto; scope: GraphIndex }
  | { kind: 'graph-input'; scope: GraphIndex }
  | { kind: 'node'; node: NodeProto; scope: GraphIndex }
  | { kind: 'missing' };

export interface GraphIndex {
  graph: GraphProto;
  path: GraphPath;
  parent?: GraphIndex;
  producer: Map<string, number>;
  consumers: Map<string, number[]>;
  initializers: Map<string, TensorProto>;
  inputs: Set<string>;
  outputs: Set<string>;
  typed: Map<string, ValueInfoProto>;
}

export function pathKey(path: GraphPath): string {
  return path.map((s) => `${s.node}.${s.attr}${s.index === undefined ? '' : `[${s.index}]`}`).join('/');
}

export function nodeId(path: GraphPath, index: number): string {
  const key = pathKey(path);
  return key ? `${key}/${index}` : String(index);
}

export function indexGraph(graph: GraphProto, path: GraphPath = [], parent?: GraphIndex): GraphIndex {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  graph.node.forEach((n, i) => {
    n.output.forEach((o) => o && producer.set(o, i));
    const used = new Set<string>(n.input.filter(Boolean));
    for (const name of subgraphOuterNames(n)) used.add(name);
    for (const name of used) {
      const list = consumers.get(name) ?? [];
      list.push(i);
      consumers.set(name, list);
    }
  });
  const typed = new Map<string, ValueInfoProto>();
  for (const v of [...graph.valueInfo, ...graph.input, ...graph.output]) typed.set(v.name, v);
  return {
    graph, path, parent, producer, consumers, typed,
    initializers: new Map(graph.initializer.map((t) => [t.name, t])),
    inputs: new Set(graph.input.map((v) => v.name)),
    outputs: new Set(graph.output.map((v) => v.name)),
  };
}

/** The graphs held in a node's attributes, with the step that leads to each. */
export function subgraphsOf(node: NodeProto, nodeIndex: number): { step: PathStep; graph: GraphProto }[] {
  const out: { step: PathStep; graph: GraphProto }[] = [];
  for (const a of node.attribute) {
    if (a.g) out.push({ step: { node: nodeIndex, attr: a.name }, graph: a.g });
    a.graphs.forEach((g, index) => out.push({ step: { node: nodeIndex, attr: a.name, index }, graph: g }));
  }
  return out;
}

/** Names a node's subgraphs read from enclosing scopes (a body's implicit inputs). */
function subgraphOuterNames(node: NodeProto): string[] {
  const names: string[] = [];
  for (const { graph } of subgraphsOf(node, 0)) {
    const local = new Set<string>([...graph.input.map((v) => v.name), ...graph.initializer.map((t) => t.name)]);
    for (const n of graph.node) n.output.forEach((o) => local.add(o));
    for (const n of graph.node) {
      for (const i of n.input) if (i && !local.has(i)) names.push(i);
      for (const inner of subgraphOuterNames(n)) if (!local.has(inner)) names.push(inner);
    }
  }
  return names;
}

export function graphAt(model: ModelProto, path: GraphPath): GraphProto {
  let g = model.graph!;
  for (const step of path) {
    const attr = g.node[step.node]?.attribute.find((a) => a.name === step.attr);
    const next = step.index === undefined ? attr?.g : attr?.graphs[step.index];
    if (!next) throw new Error(`no subgraph at ${pathKey(path)}`);
    g = next;
  }
  return g;
}

/** Index of the graph at `path`, with its chain of enclosing scopes. */
export function indexAt(model: ModelProto, path: GraphPath): GraphIndex {
  let index = indexGraph(model.graph!);
  for (let i = 0; i < path.length; i++) index = indexGraph(graphAt(model, path.slice(0, i + 1)), path.slice(0, i + 1), index);
  return index;
}

/** Every graph of the model, main graph first, each with its scope chain. */
export function allGraphs(model: ModelProto): GraphIndex[] {
  const out: GraphIndex[] = [];
  const visit = (index: GraphIndex, depth: number) => {
    out.push(index);
    if (depth > 64) return; // deeper nesting than any real exporter produces
    index.graph.node.forEach((n, i) => {
      for (const { step, graph } of subgraphsOf(n, i)) visit(indexGraph(graph, [...index.path, step], index), depth + 1);
    });
  };
  if (model.graph) visit(indexGraph(model.graph), 0);
  return out;
}

export function resolveTensor(scope: GraphIndex, name: string): TensorSource {
  for (let s: GraphIndex | undefined = scope; s; s = s.parent) {
    const p = s.producer.get(name);
    if (p !== undefined) {
      const node = s.graph.node[p]!;
      const value = node.opType === 'Constant' && node.domain === '' ? node.attribute.find((a) => a.name === 'value')?.t : undefined;
      return value ? { kind: 'constant', tensor: value, node, scope: s } : { kind: 'node', node, scope: s };
    }
    const init = s.initializers.get(name);
    if (init) return { kind: 'initializer', tensor: init, alsoGraphInput: s.inputs.has(name), scope: s };
    if (s.inputs.has(name)) return { kind: 'graph-input', scope: s };
  }
  return { kind: 'missing' };
}

function factsOfType(tp: TypeProto | undefined): TensorFacts {
  if (tp?.value.case !== 'tensorType') return {};
  const t = tp.value.value;
  const facts: TensorFacts = {};
  if (t.elemType) facts.dtype = t.elemType;
  if (t.shape) {
    facts.shape = t.shape.dim.map((d) =>
      d.value.case === 'dimValue' ? Number(d.value.value) : d.value.case === 'dimParam' ? d.value.value : null,
    );
  }
  return facts;
}

/** What is known of a tensor's dtype and shape, from weights first, then declared types. */
export function tensorFacts(scope: GraphIndex, name: string): TensorFacts {
  const src = resolveTensor(scope, name);
  if (src.kind === 'initializer' || src.kind === 'constant') {
    return { dtype: src.tensor.dataType, shape: src.tensor.dims.map(Number) };
  }
  for (let s: GraphIndex | undefined = scope; s; s = s.parent) {
    const v = s.typed.get(name);
    if (v) return factsOfType(v.type);
  }
  return {};
}

export function displayName(node: NodeProto, index: number): string {
  return node.name || `${node.opType} #${index}`;
}

/** Inverse of nodeId(). */
export function parseNodeId(id: string): { path: PathStep[]; index: number } | undefined {
  const parts = id.split('/');
  const index = Number(parts.pop());
  if (!Number.isInteger(index)) return undefined;
  const path: PathStep[] = [];
  for (const p of parts) {
    const m = /^(\d+)\.([^[]+)(?:\[(\d+)\])?$/.exec(p);
    if (!m) return undefined;
    path.push({ node: Number(m[1]), attr: m[2]!, ...(m[3] !== undefined ? { index: Number(m[3]) } : {}) });
  }
  return { path, index };
}
