// The in-memory view of one graph: who produces and who consumes each tensor, which tensors are
// weights, and what is known of each tensor's type. Subgraphs (If/Loop/Scan bodies) see the
// tensors of their outer scopes, so an index keeps a link to its parent. A model-local function's
// body (ModelProto.functions) is a scope of its own: it sees only its inputs, has no weights, and
// imports its own opsets; here it is viewed as a GraphProto (see functionGraph).
import { create } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  TensorShapeProto_DimensionSchema,
  TensorShapeProtoSchema,
  TypeProto_TensorSchema,
  TypeProtoSchema,
  ValueInfoProtoSchema,
  type FunctionProto,
  type GraphProto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type TypeProto,
  type ValueInfoProto,
} from 'onnx-buf';
import { runSteps, type Steps } from '../steps';

/** A step into a node's graph attribute (an If branch, a Loop or Scan body). */
export interface SubgraphStep {
  node: number;
  attr: string;
  /** Set for GRAPHS-typed attributes (a list of graphs). */
  index?: number;
  fn?: undefined;
}
/**
 * A step into the body of model.functions[fn]; only ever the first step of a path, rendered "f3".
 * `node` is -1 and `attr` '' so that code walking subgraph steps never takes it for a node of the
 * main graph.
 */
export interface FunctionStep {
  fn: number;
  node: -1;
  attr: '';
  index?: undefined;
}
/** Where a graph lives: [] is the main graph; [{fn}] a function body; other steps go into graph attributes. */
export type PathStep = SubgraphStep | FunctionStep;
export type GraphPath = readonly PathStep[];

export const functionStep = (fn: number): FunctionStep => ({ fn, node: -1, attr: '' });
export const isFunctionStep = (s: PathStep | undefined): s is FunctionStep => s?.fn !== undefined;
/** The function whose body (or a subgraph in it) `path` leads to, if any. */
export const functionOf = (path: GraphPath): number | undefined => (isFunctionStep(path[0]) ? path[0].fn : undefined);
/** Whether two paths lie in the same name space: the main graph's tree, or one function's body tree. */
export const sameRoot = (a: GraphPath, b: GraphPath): boolean => functionOf(a) === functionOf(b);

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
  /** Set when this graph is a function body or lies inside one: the function and its index. */
  fn?: { index: number; proto: FunctionProto };
}

export function pathKey(path: GraphPath): string {
  return path.map((s) => (isFunctionStep(s) ? `f${s.fn}` : `${s.node}.${s.attr}${s.index === undefined ? '' : `[${s.index}]`}`)).join('/');
}

export function nodeId(path: GraphPath, index: number): string {
  const key = pathKey(path);
  return key ? `${key}/${index}` : String(index);
}

/**
 * `extraTypes`: declared types to use where the graph declares none (a function body's inputs and
 * outputs, typed from its call sites).
 */
export function indexGraph(
  graph: GraphProto,
  path: GraphPath = [],
  parent?: GraphIndex,
  fn?: GraphIndex['fn'],
  extraTypes?: readonly ValueInfoProto[],
): GraphIndex {
  return runSteps(indexGraphSteps(graph, path, parent, fn, extraTypes));
}

/** Nodes indexed between two yields of indexGraphSteps (50,000 nodes take ~50–100 ms). */
const INDEX_NODES_PER_STEP = 10_000;

/** indexGraph in steps (src/steps.ts). */
export function* indexGraphSteps(
  graph: GraphProto,
  path: GraphPath = [],
  parent?: GraphIndex,
  fn?: GraphIndex['fn'],
  extraTypes?: readonly ValueInfoProto[],
): Steps<GraphIndex> {
  const producer = new Map<string, number>();
  const consumers = new Map<string, number[]>();
  // A hot loop on big graphs (50,000 nodes): no per-node sets or arrays. A node is listed once per
  // name it reads, however many times it reads it; subgraphs add the outer names they read.
  const use = (name: string, i: number) => {
    if (!name) return;
    const list = consumers.get(name);
    if (!list) consumers.set(name, [i]);
    else if (list[list.length - 1] !== i) list.push(i);
  };
  const nodes = graph.node;
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    for (const o of n.output) if (o) producer.set(o, i);
    for (const name of n.input) use(name, i);
    if (n.attribute.length) for (const name of subgraphOuterNames(n)) use(name, i);
    if ((i + 1) % INDEX_NODES_PER_STEP === 0) yield;
  }
  const typed = new Map<string, ValueInfoProto>();
  for (const v of extraTypes ?? []) typed.set(v.name, v);
  for (const v of [...graph.valueInfo, ...graph.input, ...graph.output]) if (v.type || !typed.has(v.name)) typed.set(v.name, v);
  const scopeFn = fn ?? parent?.fn;
  return {
    graph, path, parent, producer, consumers, typed, ...(scopeFn ? { fn: scopeFn } : {}),
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

const functionGraphs = new WeakMap<FunctionProto, GraphProto>();

/**
 * A function body viewed as a graph: its nodes and value_info, its inputs and outputs as untyped
 * value infos, no initializers. The same FunctionProto always gives the same object.
 */
export function functionGraph(fn: FunctionProto): GraphProto {
  let g = functionGraphs.get(fn);
  if (!g) {
    const vi = (name: string) => create(ValueInfoProtoSchema, { name });
    g = create(GraphProtoSchema, { name: fn.name, node: fn.node, input: fn.input.map(vi), output: fn.output.map(vi), valueInfo: fn.valueInfo });
    functionGraphs.set(fn, g);
  }
  return g;
}

function rootGraph(model: ModelProto, path: GraphPath): GraphProto {
  const first = path[0];
  if (!isFunctionStep(first)) return model.graph!;
  const fn = model.functions[first.fn];
  if (!fn) throw new Error(`no function at ${pathKey(path)}`);
  return functionGraph(fn);
}

export function graphAt(model: ModelProto, path: GraphPath): GraphProto {
  let g = rootGraph(model, path);
  for (const [i, step] of path.entries()) {
    if (isFunctionStep(step)) {
      if (i === 0) continue;
      throw new Error(`a function step can only start a path: ${pathKey(path)}`);
    }
    const attr = g.node[step.node]?.attribute.find((a) => a.name === step.attr);
    const next = step.index === undefined ? attr?.g : attr?.graphs[step.index];
    if (!next) throw new Error(`no subgraph at ${pathKey(path)}`);
    g = next;
  }
  return g;
}

/** The index of a function's body, its inputs and outputs typed from its call sites where they agree. */
function functionIndex(model: ModelProto, fnIndex: number, seen: ReadonlySet<number> = new Set()): GraphIndex {
  const proto = model.functions[fnIndex]!;
  return indexGraph(functionGraph(proto), [functionStep(fnIndex)], undefined, { index: fnIndex, proto }, callSiteTypes(model, fnIndex, seen));
}

/**
 * The main graph's index, for the last two main graphs asked about: opening a model indexes it for
 * the check and again for the canvas (50,000 nodes: ~50 ms each). Indexes are never changed after
 * they are built, and a graph is a value (edits make new ones), so sharing one is safe; only two are
 * kept, so models held for undo do not keep theirs.
 */
const recentRoots: { graph: GraphProto; index: GraphIndex }[] = [];
function mainIndex(graph: GraphProto): GraphIndex {
  return runSteps(mainIndexOf(graph));
}

function* mainIndexOf(graph: GraphProto): Steps<GraphIndex> {
  const hit = recentRoots.find((r) => r.graph === graph);
  if (hit) return hit.index;
  const index = yield* indexGraphSteps(graph);
  recentRoots.unshift({ graph, index });
  recentRoots.length = Math.min(recentRoots.length, 2);
  return index;
}

/**
 * Indexes the model's main graph in steps, into the cache every later indexAt/allGraphs of this
 * model reads: the app warms it this way so that no single task indexes a big graph.
 */
export function* mainIndexSteps(model: ModelProto): Steps<GraphIndex | undefined> {
  return model.graph ? yield* mainIndexOf(model.graph) : undefined;
}

/** indexAt in steps: the main graph's index may have to be built (see mainIndexSteps). */
export function* indexAtSteps(model: ModelProto, path: GraphPath): Steps<GraphIndex> {
  if (functionOf(path) === undefined && model.graph) yield* mainIndexOf(model.graph);
  return indexAt(model, path);
}

/** Index of the graph at `path`, with its chain of enclosing scopes. */
export function indexAt(model: ModelProto, path: GraphPath): GraphIndex {
  const fn = functionOf(path);
  const start = fn === undefined ? 0 : 1;
  let index = fn === undefined ? mainIndex(model.graph!) : functionIndex(model, fn);
  for (let i = start; i < path.length; i++) index = indexGraph(graphAt(model, path.slice(0, i + 1)), path.slice(0, i + 1), index);
  return index;
}

function graphTree(root: GraphIndex, out: GraphIndex[]): void {
  const visit = (index: GraphIndex, depth: number) => {
    out.push(index);
    if (depth > 64) return; // deeper nesting than any real exporter produces
    index.graph.node.forEach((n, i) => {
      for (const { step, graph } of subgraphsOf(n, i)) visit(indexGraph(graph, [...index.path, step], index), depth + 1);
    });
  };
  visit(root, 0);
}

/** Every graph of the model, main graph first, each with its scope chain; then each function body's tree. */
export function allGraphs(model: ModelProto): GraphIndex[] {
  const out: GraphIndex[] = [];
  if (model.graph) graphTree(mainIndex(model.graph), out);
  model.functions.forEach((_, i) => graphTree(functionIndex(model, i), out));
  return out;
}

const mainTrees = new WeakMap<ModelProto, GraphIndex[]>();
/** The main graph's tree of indexes, once per model (call-site typing looks through it for every function). */
function mainTree(model: ModelProto): GraphIndex[] {
  let tree = mainTrees.get(model);
  if (!tree) {
    tree = [];
    if (model.graph) graphTree(indexGraph(model.graph), tree);
    mainTrees.set(model, tree);
  }
  return tree;
}

/** Nodes that call model.functions[fnIndex], in every graph (a function may call another). */
function callSites(model: ModelProto, fnIndex: number, seen: ReadonlySet<number>): { scope: GraphIndex; node: NodeProto }[] {
  const fn = model.functions[fnIndex]!;
  const norm = (d: string) => (d === 'ai.onnx' ? '' : d);
  const calls = (n: NodeProto) => n.opType === fn.name && norm(n.domain) === norm(fn.domain) && n.overload === fn.overload;
  const scopes: GraphIndex[] = [...mainTree(model)];
  const inner = new Set([...seen, fnIndex]);
  model.functions.forEach((other, i) => {
    if (inner.has(i) || !other.node.some((n) => calls(n) || subgraphsOf(n, 0).length > 0)) return;
    graphTree(functionIndex(model, i, inner), scopes);
  });
  return scopes.flatMap((scope) => scope.graph.node.filter(calls).map((node) => ({ scope, node })));
}

/**
 * Declared types for a function's formal inputs and outputs, from the actual arguments at its call
 * sites: the element type where every call site agrees, the shape where every call site gives the
 * same rank (a dim that differs between call sites is left unknown).
 */
function callSiteTypes(model: ModelProto, fnIndex: number, seen: ReadonlySet<number>): ValueInfoProto[] {
  // Models are values here (every edit returns a new ModelProto), so the answer is cached per model:
  // without it, every allGraphs() would re-scan every graph for every function's call sites.
  const cached = seen.size === 0 ? callSiteCache.get(model)?.get(fnIndex) : undefined;
  if (cached) return cached;
  const types = computeCallSiteTypes(model, fnIndex, seen);
  if (seen.size === 0) {
    const perModel = callSiteCache.get(model) ?? new Map<number, ValueInfoProto[]>();
    perModel.set(fnIndex, types);
    callSiteCache.set(model, perModel);
  }
  return types;
}

const callSiteCache = new WeakMap<ModelProto, Map<number, ValueInfoProto[]>>();

function computeCallSiteTypes(model: ModelProto, fnIndex: number, seen: ReadonlySet<number>): ValueInfoProto[] {
  const fn = model.functions[fnIndex]!;
  if (seen.has(fnIndex) || seen.size > 16) return [];
  const sites = callSites(model, fnIndex, seen);
  if (sites.length === 0) return [];
  const out: ValueInfoProto[] = [];
  const formals: [string, (n: NodeProto) => string | undefined][] = [
    ...fn.input.map((name, i): [string, (n: NodeProto) => string | undefined] => [name, (n) => n.input[i]]),
    ...fn.output.map((name, i): [string, (n: NodeProto) => string | undefined] => [name, (n) => n.output[i]]),
  ];
  for (const [formal, actualOf] of formals) {
    const facts = sites.map(({ scope, node }) => {
      const actual = actualOf(node);
      return actual ? tensorFacts(scope, actual) : {};
    });
    const dtypes = new Set(facts.map((f) => f.dtype));
    const dtype = dtypes.size === 1 ? [...dtypes][0] : undefined;
    const ranks = new Set(facts.map((f) => f.shape?.length));
    let shape: Dim[] | undefined;
    if (ranks.size === 1 && facts[0]!.shape) {
      shape = facts[0]!.shape.map((d, k) => (facts.every((f) => f.shape![k] === d) ? d : null));
    }
    if (dtype === undefined && !shape) continue;
    out.push(typedValueInfo(formal, dtype, shape));
  }
  return out;
}

function typedValueInfo(name: string, dtype: number | undefined, shape: Dim[] | undefined): ValueInfoProto {
  const tensorType = create(TypeProto_TensorSchema, {
    elemType: dtype ?? 0,
    shape: shape
      ? create(TensorShapeProtoSchema, {
          dim: shape.map((d) =>
            create(TensorShapeProto_DimensionSchema, {
              value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : typeof d === 'string' ? { case: 'dimParam', value: d } : { case: undefined },
            }),
          ),
        })
      : undefined,
  });
  return create(ValueInfoProtoSchema, { name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: tensorType } }) });
}

/**
 * The opset a node of `domain` resolves against in this scope: a function body's own opset_import,
 * else the model's ("" and "ai.onnx" are the same default domain).
 */
export function scopeOpset(model: ModelProto, scope: Pick<GraphIndex, 'fn'>, domain = ''): number | undefined {
  const norm = (d: string) => (d === 'ai.onnx' ? '' : d);
  const imports = scope.fn ? [...scope.fn.proto.opsetImport, ...model.opsetImport] : model.opsetImport;
  const entry = imports.find((o) => norm(o.domain) === norm(domain));
  return entry === undefined ? undefined : Number(entry.version);
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
  for (const [k, p] of parts.entries()) {
    const f = /^f(\d+)$/.exec(p);
    if (f) {
      if (k !== 0) return undefined;
      path.push(functionStep(Number(f[1])));
      continue;
    }
    const m = /^(\d+)\.([^[]+)(?:\[(\d+)\])?$/.exec(p);
    if (!m) return undefined;
    path.push({ node: Number(m[1]), attr: m[2]!, ...(m[3] !== undefined ? { index: Number(m[3]) } : {}) });
  }
  return { path, index };
}
