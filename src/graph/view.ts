// What the canvas draws for one graph, as plain data: operator nodes, the graph's inputs and
// outputs, and tensor edges labelled with name, dtype and shape. Weights (initializers and
// Constant nodes) are not drawn; the details panel lists them with the node that reads them.
import { dtypeName } from '../onnx/dtypes';
import { fmtShape } from './broadcast';
import { displayName, nodeId, subgraphsOf, tensorFacts, type GraphIndex, type PathStep } from './scope';

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

export function tensorLabel(scope: GraphIndex, name: string): string {
  const f = tensorFacts(scope, name);
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

export function graphView(scope: GraphIndex): GraphView {
  const nodes: ViewNode[] = [];
  const edges: ViewEdge[] = [];
  const inputId = (name: string) => `in:${name}`;
  const outerId = (name: string) => `outer:${name}`;
  const outer = new Set<string>();
  for (const v of scope.graph.input) {
    if (!scope.initializers.has(v.name)) nodes.push({ id: inputId(v.name), kind: 'input', label: v.name });
  }
  scope.graph.node.forEach((n, i) => {
    if (isWeightNode(scope, i)) return;
    const id = nodeId(scope.path, i);
    const subs = subgraphsOf(n, i).map(({ step }) => ({ step, label: step.index === undefined ? step.attr : `${step.attr}[${step.index}]` }));
    nodes.push({ id, kind: 'op', label: displayName(n, i), opType: n.opType, domain: n.domain === 'ai.onnx' ? '' : n.domain, index: i, subgraphs: subs.length ? subs : undefined });
    const seen = new Set<string>();
    for (const input of n.input) {
      if (!input || seen.has(input)) continue;
      seen.add(input);
      const p = scope.producer.get(input);
      let source: string | undefined;
      if (p !== undefined) source = isWeightNode(scope, p) ? undefined : nodeId(scope.path, p);
      else if (scope.inputs.has(input) && !scope.initializers.has(input)) source = inputId(input);
      else if (!scope.initializers.has(input) && scope.parent && isComputedOutside(scope, input)) {
        source = outerId(input);
        if (!outer.has(input)) {
          outer.add(input);
          nodes.push({ id: source, kind: 'outer', label: input });
        }
      }
      if (source) edges.push({ id: `${source}->${id}:${input}`, source, target: id, label: tensorLabel(scope, input) });
    }
  });
  for (const v of scope.graph.output) {
    const id = `out:${v.name}`;
    nodes.push({ id, kind: 'output', label: v.name });
    const p = scope.producer.get(v.name);
    const source = p !== undefined ? nodeId(scope.path, p) : scope.inputs.has(v.name) ? inputId(v.name) : undefined;
    if (source) edges.push({ id: `${source}->${id}`, source, target: id, label: tensorLabel(scope, v.name) });
  }
  return { nodes, edges };
}
