// What the canvas draws for one graph, as plain data: operator nodes, the graph's inputs and
// outputs, and tensor edges labelled with name, dtype and shape. Weights (initializers and
// Constant nodes) are not drawn; the details panel lists them with the node that reads them.
import { dtypeName } from '../onnx/dtypes';
import { fmtShape } from './broadcast';
import { displayName, nodeId, pathKey, subgraphsOf, type GraphIndex, type GraphPath, type PathStep } from './scope';
import { displayFacts } from './infer';
import { runSteps, type Steps } from '../steps';

export interface ViewNode {
  id: string;
  /** 'outer': a tensor a subgraph reads from an enclosing graph. */
  kind: 'op' | 'input' | 'output' | 'outer';
  label: string;
  opType?: string;
  /** For op nodes: the operator's domain ('' for standard ONNX). */
  domain?: string;
  /** For op nodes: the node's index in its graph. */
  index?: number;
  subgraphs?: { step: PathStep; label: string }[];
}

export interface ViewEdge {
  id: string;
  source: string;
  target: string;
  label: string;
}

export interface GraphView {
  nodes: ViewNode[];
  edges: ViewEdge[];
}

/** "name dtype[shape]": declared, or worked out for display where the model declares nothing (infer.ts). */
export function tensorLabel(scope: GraphIndex, name: string): string {
  const f = displayFacts(scope, name);
  const type = f.dtype !== undefined ? ` ${dtypeName(f.dtype)}` : '';
  const shape = f.shape ? fmtShape(f.shape) : '';
  return `${name}${type}${shape}`;
}

const isWeightNode = (scope: GraphIndex, i: number) => {
  const n = scope.graph.node[i]!;
  return n.opType === 'Constant' && (n.domain === '' || n.domain === 'ai.onnx');
};

/** A tensor this subgraph reads that an enclosing graph computes or takes as input (not a weight). */
function isComputedOutside(scope: GraphIndex, name: string): boolean {
  for (let s = scope.parent; s; s = s.parent) {
    if (s.producer.has(name)) return !isWeightNode(s, s.producer.get(name)!);
    if (s.initializers.has(name)) return false;
    if (s.inputs.has(name)) return true;
  }
  return false;
}

/**
 * An edge whose label is worked out when first read: a big graph draws a few dozen of its 50,000
 * edges. A class, not an object literal with a getter: those cost a closure and an accessor per
 * edge, and the garbage collector most of graphView's time.
 */
class TensorEdge implements ViewEdge {
  #label?: string;
  readonly #scope: GraphIndex;
  constructor(readonly id: string, readonly source: string, readonly target: string, readonly tensor: string, scope: GraphIndex) {
    this.#scope = scope;
  }
  get label(): string {
    return (this.#label ??= tensorLabel(this.#scope, this.tensor));
  }
}

export function graphView(scope: GraphIndex): GraphView {
  return runSteps(graphViewSteps(scope));
}

/** Nodes viewed between two yields of graphViewSteps. */
const VIEW_NODES_PER_STEP = 10_000;

/** graphView in steps (src/steps.ts). */
export function* graphViewSteps(scope: GraphIndex): Steps<GraphView> {
  const nodes: ViewNode[] = [];
  const edges: ViewEdge[] = [];
  const inputId = (name: string) => `in:${name}`;
  const outerId = (name: string) => `outer:${name}`;
  const outer = new Set<string>();
  const edge = (id: string, source: string, target: string, tensor: string): ViewEdge => new TensorEdge(id, source, target, tensor, scope);
  for (const v of scope.graph.input) {
    if (!scope.initializers.has(v.name)) nodes.push({ id: inputId(v.name), kind: 'input', label: v.name });
  }
  // A hot loop on big graphs: ids from one path key, no per-node sets or subgraph lists.
  const key = pathKey(scope.path);
  const idOf = (i: number) => (key ? `${key}/${i}` : String(i));
  const nodesIn = scope.graph.node;
  for (let i = 0; i < nodesIn.length; i++) {
    if (i && i % VIEW_NODES_PER_STEP === 0) yield;
    const n = nodesIn[i]!;
    if (isWeightNode(scope, i)) continue;
    const id = idOf(i);
    const subs = n.attribute.length ? subgraphsOf(n, i).map(({ step }) => ({ step, label: step.index === undefined ? step.attr : `${step.attr}[${step.index}]` })) : [];
    nodes.push({ id, kind: 'op', label: displayName(n, i), opType: n.opType, domain: n.domain === 'ai.onnx' ? '' : n.domain, index: i, subgraphs: subs.length ? subs : undefined });
    n.input.forEach((input, k) => {
      if (!input || n.input.indexOf(input) !== k) return; // one edge per tensor, however often it is read
      const p = scope.producer.get(input);
      let source: string | undefined;
      if (p !== undefined) source = isWeightNode(scope, p) ? undefined : idOf(p);
      else if (scope.inputs.has(input) && !scope.initializers.has(input)) source = inputId(input);
      else if (!scope.initializers.has(input) && scope.parent && isComputedOutside(scope, input)) {
        source = outerId(input);
        if (!outer.has(input)) {
          outer.add(input);
          nodes.push({ id: source, kind: 'outer', label: input });
        }
      }
      if (source) edges.push(edge(`${source}->${id}:${input}`, source, id, input));
    });
  }
  for (const v of scope.graph.output) {
    const id = `out:${v.name}`;
    nodes.push({ id, kind: 'output', label: v.name });
    const p = scope.producer.get(v.name);
    const source = p !== undefined ? idOf(p) : scope.inputs.has(v.name) ? inputId(v.name) : undefined;
    if (source) edges.push(edge(`${source}->${id}`, source, id, v.name));
  }
  return { nodes, edges };
}

/** One thing a search can find: a drawn node of some graph, with what it is found by. */
export interface SearchEntry {
  /** The view node id (as graphView gives it) in the graph at `path`. */
  id: string;
  path: GraphPath;
  /** pathKey(path). */
  graph: string;
  kind: ViewNode['kind'];
  name: string;
  opType: string;
  /** Tensors it reads and writes (a graph input or output: its own name). */
  tensors: string[];
  /** Lower-cased name, op type and tensors, one per line, for substring matching. */
  hay: string;
}

/** What a search can find in these graphs (allGraphs(model), or one graph): op nodes, inputs, outputs. */
export function searchEntries(scopes: readonly GraphIndex[]): SearchEntry[] {
  const out: SearchEntry[] = [];
  const entry = (e: Omit<SearchEntry, 'hay' | 'graph'>) => out.push({ ...e, graph: pathKey(e.path), hay: `${e.name}\n${e.opType}\n${e.tensors.join('\n')}`.toLowerCase() });
  for (const scope of scopes) {
    for (const v of scope.graph.input) {
      if (!scope.initializers.has(v.name)) entry({ id: `in:${v.name}`, path: scope.path, kind: 'input', name: v.name, opType: 'input', tensors: [v.name] });
    }
    scope.graph.node.forEach((n, i) => {
      if (isWeightNode(scope, i)) return;
      entry({ id: nodeId(scope.path, i), path: scope.path, kind: 'op', name: displayName(n, i), opType: n.opType, tensors: [...n.input, ...n.output].filter(Boolean) });
    });
    for (const v of scope.graph.output) entry({ id: `out:${v.name}`, path: scope.path, kind: 'output', name: v.name, opType: 'output', tensors: [v.name] });
  }
  return out;
}

export interface SearchHit {
  entry: SearchEntry;
  /** What matched: the name, the op type, or one of its tensors (named). */
  by: 'name' | 'op' | 'tensor';
  tensor?: string;
}

/**
 * Entries whose name, op type or a tensor contains `query` (case-insensitive): the graph at
 * `current` first, then the others; names before op types before tensors. `total` counts them all,
 * `hits` holds the first `limit`.
 */
export function searchGraphs(entries: readonly SearchEntry[], query: string, current: string, limit = 50): { total: number; hits: SearchHit[] } {
  const q = query.trim().toLowerCase();
  if (!q) return { total: 0, hits: [] };
  // Current graph first; within it, exact names, exact op types ("Relu" before "PRelu_1"), names
  // containing the query, op types containing it, tensors.
  const buckets: SearchHit[][] = Array.from({ length: 10 }, () => []);
  let total = 0;
  for (const e of entries) {
    if (!e.hay.includes(q)) continue;
    total++;
    const rank = e.graph === current ? 0 : 5;
    const name = e.name.toLowerCase();
    const op = e.opType.toLowerCase();
    if (name === q) buckets[rank]!.push({ entry: e, by: 'name' });
    else if (op === q) buckets[rank + 1]!.push({ entry: e, by: 'op' });
    else if (name.includes(q)) buckets[rank + 2]!.push({ entry: e, by: 'name' });
    else if (op.includes(q)) buckets[rank + 3]!.push({ entry: e, by: 'op' });
    else buckets[rank + 4]!.push({ entry: e, by: 'tensor', tensor: e.tensors.find((t) => t.toLowerCase().includes(q)) });
  }
  const hits: SearchHit[] = [];
  for (const b of buckets) for (const h of b) { if (hits.length >= limit) break; hits.push(h); }
  return { total, hits };
}
