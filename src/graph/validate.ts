// Model-level findings: what makes a model that decodes as protobuf a broken ONNX model — cycles,
// inputs nobody produces, names defined twice, missing or too-new opset imports, unknown domains,
// ops with no schema. They are target-independent, have Finding's shape (checkModel appends them),
// and never throw. Each rule cites the ONNX IR specification and, where measured, the message
// ONNX Runtime 1.30 gives when it refuses such a model (tests/unit/validate.test.ts re-checks both).
// The work is linear in the model's size and the list is capped, so hostile models stay cheap.
import { Version, type ModelProto, type NodeProto } from 'onnx-buf';
import type { Finding } from '../targets/check';
import type { FindingStatus } from '../targets/types';
import { NEWEST_KNOWN_OPSET, OPSET_HISTORY } from '../onnx/opset-history';
import { allGraphs, displayName, nodeId, pathKey, resolveTensor, type GraphIndex, type GraphPath } from './scope';
import { runSteps, type Steps } from '../steps';

/** The `op` of every model-level finding, so nothing takes it for a finding about the node's op (fixAll picks PRelu ones). */
export const MODEL_CHECK = 'model check';
/** The newest IR version the ONNX schema OpFit reads knows. */
export const NEWEST_KNOWN_IR = Version.IR_VERSION as number;
/** More findings than this are summarised in one last finding. */
export const MAX_MODEL_FINDINGS = 200;

const IR_SPEC = 'ONNX IR specification (onnx/onnx docs/IR.md)';
const SRC = {
  cycle: `${IR_SPEC}, "Nodes": "Node dependencies MUST NOT create cycles in the computation graph."`,
  ssa: `${IR_SPEC}, "Nodes": "A value name used in a graph must have a unique definition" (SSA; a graph input may also be an initializer)`,
  input: `${IR_SPEC}, "Nodes": a node input "must refer to either a graph input, a graph initializer or a node output"`,
  nodeNames: `${IR_SPEC}, "Names Within a Graph": within the Node namespace "each name MUST be unique for each given graph"`,
  attrNames: `${IR_SPEC}, "Attributes": an attribute's name "Must be unique among attributes, inputs, and outputs for any given operator and node"`,
  opset: `${IR_SPEC}, "Models": opset_import lists the operator sets the model uses (required since IR version 3)`,
  schema: 'ONNX operator changelog (onnx/onnx docs/Changelog.md, up to opset ' + NEWEST_KNOWN_OPSET + '), as in src/onnx/opset-history.ts',
  newer: 'OpFit knows ONNX operators up to opset ' + NEWEST_KNOWN_OPSET + ' (src/onnx/opset-history.ts) and IR versions up to ' + NEWEST_KNOWN_IR + ' (onnx-buf schema)',
  domain: `${IR_SPEC}, "Operator Sets": an operator is identified by its domain, name and version`,
};

/**
 * Domains some runtime knows without a custom-op library: ONNX's own, ONNX Runtime's contrib and
 * internal ones, and the PyTorch ATen fallback. ONNX Runtime also runs these without an opset_import
 * entry (measured: com.microsoft).
 */
const KNOWN_DOMAINS = new Set([
  '', 'ai.onnx', 'ai.onnx.ml', 'ai.onnx.training', 'ai.onnx.preview', 'ai.onnx.preview.training',
  'com.microsoft', 'com.microsoft.nchwc', 'com.microsoft.experimental', 'com.microsoft.dml', 'com.ms.internal.nhwc', 'org.pytorch.aten',
]);
const IMPLICIT_DOMAINS = new Set(['com.microsoft', 'com.microsoft.nchwc', 'com.microsoft.experimental', 'com.microsoft.dml', 'com.ms.internal.nhwc']);

const norm = (d: string) => (d === 'ai.onnx' ? '' : d);
const quote = (s: string) => `"${s.length > 80 ? `${s.slice(0, 77)}…` : s}"`;
const list = (xs: string[], max = 5) => xs.slice(0, max).join(', ') + (xs.length > max ? `, … (${xs.length} in all)` : '');

class Collector {
  readonly findings: Finding[] = [];
  dropped = 0;

  /** `label`: how the node is named in the finding (default: its display name). */
  add(status: FindingStatus, reason: string, source: string, at?: { scope: GraphIndex; index: number; label?: string }, path: GraphPath = []): void {
    if (this.findings.length >= MAX_MODEL_FINDINGS) {
      this.dropped++;
      return;
    }
    this.summarise(status, reason, source, at, path);
  }

  /** Adds a finding past the cap (the summary of what was dropped). */
  summarise(status: FindingStatus, reason: string, source: string, at?: { scope: GraphIndex; index: number; label?: string }, path: GraphPath = []): void {
    if (at) {
      const node = at.scope.graph.node[at.index]!;
      this.findings.push({ nodeId: nodeId(at.scope.path, at.index), node: at.label ?? displayName(node, at.index), op: MODEL_CHECK, status, reason, source, path: at.scope.path, index: at.index });
    } else {
      const where = path.length ? `graph ${pathKey(path)}` : 'model';
      this.findings.push({ nodeId: '', node: where, op: MODEL_CHECK, status, reason, source, path, index: -1 });
    }
  }
}

const cache = new WeakMap<ModelProto, Finding[]>();

/** Nodes handled between two yields of validateSteps: a few milliseconds of work. */
const NODES_PER_STEP = 4000;

/** Everything that makes this model invalid ONNX, or uncheckable by OpFit; [] for a sound model. */
export function validateModel(model: ModelProto, scopes?: GraphIndex[]): Finding[] {
  return runSteps(validateSteps(model, scopes));
}

/**
 * validateModel in steps: it yields between pieces of a few milliseconds, so a caller on the UI
 * thread can give the page back between them (checkModelSliced). `scopes`: allGraphs(model), when
 * the caller has it already.
 */
export function* validateSteps(model: ModelProto, scopes?: GraphIndex[]): Steps<Finding[]> {
  let found = cache.get(model);
  if (!found) {
    found = yield* computeFindings(model, scopes);
    cache.set(model, found);
  }
  return found;
}

function* computeFindings(model: ModelProto, given?: GraphIndex[]): Steps<Finding[]> {
  const out = new Collector();
  modelLevel(model, out);
  let scopes: GraphIndex[] = given ?? [];
  if (!given) {
    try {
      scopes = allGraphs(model);
    } catch (e) {
      out.add('unsupported', `The model's graphs could not be walked: ${(e as Error).message}.`, IR_SPEC);
    }
    yield;
  }
  const functionKeys = new Set(model.functions.map((f) => `${norm(f.domain)}\u0000${f.name}`));
  const functionDomains = new Set(model.functions.map((f) => norm(f.domain)));
  const domainsSeen = new Map<string, { scope: GraphIndex; index: number; count: number }>();
  for (const scope of scopes) {
    const big = scope.graph.node.length > NODES_PER_STEP;
    // The passes over a big graph yield between their parts too (each ~15–40 ms at 50,000 nodes).
    yield* checkNames(scope, out, big);
    if (big) yield;
    checkInputs(scope, out);
    if (big) yield;
    yield* checkCycles(scope, out, big);
    if (big) yield;
    const nodes = scope.graph.node;
    for (let index = 0; index < nodes.length; index++) {
      const node = nodes[index]!;
      const domain = norm(node.domain);
      if (domain === '') checkSchema(model, scope, index, node, functionKeys, out);
      else if (!functionKeys.has(`${domain}\u0000${node.opType}`)) {
        const seen = domainsSeen.get(domain);
        if (seen) seen.count++;
        else domainsSeen.set(domain, { scope, index, count: 1 });
      }
      if ((index + 1) % NODES_PER_STEP === 0) yield;
    }
  }
  for (const [domain, at] of domainsSeen) {
    const imported = importedVersion(model, at.scope, domain) !== undefined;
    const nodes = `${at.count} node${at.count > 1 ? 's use' : ' uses'} domain ${quote(domain)}`;
    if (!imported && !IMPLICIT_DOMAINS.has(domain) && !functionDomains.has(domain)) {
      out.add('unsupported', `${nodes}, but the model's opset_import has no entry for it, so no runtime knows which version of those ops is meant (ONNX Runtime: "No opset import for domain").`, SRC.opset, at);
    } else if (!KNOWN_DOMAINS.has(domain)) {
      out.add('unknown', `${nodes}, which is neither ONNX's nor ONNX Runtime's, and the model defines no such function: those ops run only where a custom-op library for ${quote(domain)} is registered, and OpFit cannot check them.`, SRC.domain, at);
    }
  }
  if (out.dropped) {
    out.summarise('unknown', `…and ${out.dropped.toLocaleString('en-US')} more problems of the kinds above, not listed: the model breaks the ONNX rules in too many places to list them all.`, IR_SPEC);
  }
  return out.findings;
}

function importedVersion(model: ModelProto, scope: Pick<GraphIndex, 'fn'>, domain: string): number | undefined {
  const imports = scope.fn ? [...scope.fn.proto.opsetImport, ...model.opsetImport] : model.opsetImport;
  const entry = imports.find((o) => norm(o.domain) === domain);
  return entry === undefined ? undefined : Number(entry.version);
}

function modelLevel(model: ModelProto, out: Collector): void {
  const ir = Number(model.irVersion);
  if (model.opsetImport.length === 0 && ir >= 3) {
    out.add('unsupported', `The model lists no opset_import, which every ONNX model since IR version 3 must (this one says IR ${ir}): no runtime knows which version of each operator is meant, and ONNX Runtime refuses it ("Missing opset in the model"). OpFit reads the ops as opset 1 for display only; rewrites are off.`, SRC.opset);
  }
  if (ir > NEWEST_KNOWN_IR) {
    out.add('unknown', `The model says IR version ${ir}; the newest OpFit knows is ${NEWEST_KNOWN_IR}. Fields added since are kept as they are but not understood, so rewrites are off.`, SRC.newer);
  }
  const opsets = [...model.opsetImport, ...model.functions.flatMap((f) => f.opsetImport)];
  for (const o of opsets) {
    if (norm(o.domain) !== '') continue;
    const v = Number(o.version);
    if (v > NEWEST_KNOWN_OPSET) {
      out.add('unknown', `The model imports opset ${v} of the default ONNX domain; OpFit knows operators up to opset ${NEWEST_KNOWN_OPSET}. Operators may have changed in between, so the checks may be wrong and rewrites are off.`, SRC.newer);
      break;
    }
    if (v < 1) {
      out.add('unsupported', `The model imports opset ${v} of the default ONNX domain; ONNX opsets start at 1.`, SRC.opset);
      break;
    }
  }
}

/** Names defined twice (SSA), node outputs shadowing an enclosing graph's names, duplicate node names. */
function* checkNames(scope: GraphIndex, out: Collector, big: boolean): Steps<void> {
  const g = scope.graph;
  const initNames = new Set(g.initializer.map((t) => t.name));
  const inputNames = new Set(g.input.map((v) => v.name));
  // Every definition of a name, in order. A name may be both a graph input and an initializer
  // (IR 3 style): one definition. A repeated input or initializer counts twice.
  type Kind = 'input' | 'initializer' | 'node';
  const eachDefinition = (visit: (name: string, kind: Kind, i: number) => void) => {
    g.input.forEach((v, i) => visit(v.name, 'input', i));
    g.initializer.forEach((t, i) => { if (!inputNames.has(t.name)) visit(t.name, 'initializer', i); });
    g.node.forEach((n, i) => { for (const o of n.output) visit(o, 'node', i); });
  };
  const describe = (kind: Kind, i: number) =>
    kind === 'input' ? (initNames.has(g.input[i]!.name) ? 'a graph input and initializer' : 'a graph input')
    : kind === 'initializer' ? 'an initializer' : `the output of ${displayName(g.node[i]!, i)}`;
  // Two passes: a count per name (a hot loop on big graphs, nothing allocated per name), then the
  // first three definitions and the first two defining nodes of the names defined more than once.
  const count = new Map<string, number>();
  eachDefinition((name) => { if (name) count.set(name, (count.get(name) ?? 0) + 1); });
  if (big) yield;
  const defs = new Map<string, { count: number; whats: string[]; nodes: number[] }>();
  eachDefinition((name, kind, i) => {
    const c = name ? count.get(name)! : 0;
    if (c < 2) return;
    let d = defs.get(name);
    if (!d) defs.set(name, (d = { count: c, whats: [], nodes: [] }));
    if (d.whats.length < 3) d.whats.push(describe(kind, i));
    if (kind === 'node' && d.nodes.length < 2) d.nodes.push(i);
  });
  if (big) yield;
  const reported = new Set<number>();
  for (const [name, d] of defs) {
    const whats = d.whats;
    const reason = `${quote(name)} is defined ${d.count} times (${whats.join(', ')}${d.count > whats.length ? ', …' : ''}); an ONNX value has exactly one definition, and ONNX Runtime refuses the model ("Duplicate definition of name").`;
    // Attached to the second node that defines the name, if a node does.
    const at = d.nodes[d.nodes.length > 1 ? 1 : 0];
    if (at === undefined) out.add('unsupported', reason, SRC.ssa, undefined, scope.path);
    else if (!reported.has(at)) {
      reported.add(at);
      out.add('unsupported', reason, SRC.ssa, { scope, index: at });
    }
  }
  // Inside a subgraph, a node output must not reuse a name an enclosing graph defines.
  if (scope.parent) {
    g.node.forEach((n, i) => {
      const clash = n.output.find((o) => o && definedAbove(scope.parent!, o));
      if (clash && !reported.has(i)) {
        reported.add(i);
        out.add('unsupported', `Its output ${quote(clash)} reuses a name an enclosing graph already defines; inside a subgraph a node output must be distinct from the names visible from outer graphs.`, SRC.ssa, { scope, index: i });
      }
    });
  }
  g.node.forEach((n, i) => {
    if (n.attribute.length < 2) return;
    const seen = new Set<string>();
    const twice = [...new Set(n.attribute.map((a) => a.name).filter((a) => seen.has(a) || !seen.add(a)))];
    if (twice.length) {
      out.add('unsupported', `${twice.length > 1 ? 'Attributes' : 'Attribute'} ${list(twice.map(quote))} ${twice.length > 1 ? 'appear' : 'appears'} more than once on this node; a node's attribute names must be unique, and ONNX Runtime refuses the model ("appeared multiple times").`, SRC.attrNames, { scope, index: i });
    }
  });
  const names = new Map<string, number>();
  g.node.forEach((n, i) => {
    if (!n.name) return;
    const first = names.get(n.name);
    if (first === undefined) names.set(n.name, i);
    else out.add('unsupported', `Node #${first} has the same name, ${quote(n.name)}; node names must be unique within a graph, and ONNX Runtime refuses the model ("two nodes with same node name"). OpFit tells them apart by position.`, SRC.nodeNames, { scope, index: i, label: `${n.name} (node #${i})` });
  });
}

function definedAbove(scope: GraphIndex, name: string): boolean {
  for (let s: GraphIndex | undefined = scope; s; s = s.parent) {
    if (s.producer.has(name) || s.initializers.has(name) || s.inputs.has(name)) return true;
  }
  return false;
}

/** Node inputs and graph outputs that nothing defines, here or in an enclosing graph. */
function checkInputs(scope: GraphIndex, out: Collector): void {
  const where = scope.parent ? ' here or in an enclosing graph' : '';
  scope.graph.node.forEach((n, i) => {
    // Nothing allocated for a node whose inputs all resolve (every node of a sound model).
    if (n.input.every((name) => !name || definedAbove(scope, name))) return;
    const missing = [...new Set(n.input.filter((name) => name && !definedAbove(scope, name)))];
    out.add(
      'unsupported',
      `${missing.length > 1 ? 'Inputs' : 'Input'} ${list(missing.map(quote))} ${missing.length > 1 ? 'are' : 'is'} produced by no node, initializer or graph input${where}, so the node has nothing to read; ONNX Runtime refuses the model ("is not a graph input, initializer, or output of a previous node").`,
      SRC.input,
      { scope, index: i },
    );
  });
  const missingOut = scope.graph.output.map((v) => v.name).filter((name) => name && resolveTensor(scope, name).kind === 'missing');
  if (missingOut.length) {
    const what = scope.fn && scope.path.length === 1 ? `function ${quote(scope.fn.proto.name)}` : scope.path.length ? 'subgraph' : 'graph';
    out.add('unsupported', `The ${what} output${missingOut.length > 1 ? 's' : ''} ${list(missingOut.map(quote))} ${missingOut.length > 1 ? 'are' : 'is'} produced by nothing${where}; ONNX Runtime refuses the model ("Graph output … does not exist in the graph").`, SRC.input, undefined, scope.path);
  }
}

/** Cycles among a graph's nodes (edges from producers to consumers, subgraph reads included). */
function* checkCycles(scope: GraphIndex, out: Collector, big: boolean): Steps<void> {
  const nodes = scope.graph.node;
  const n = nodes.length;
  // Edges producer → consumer; successors in compressed rows (50,000 nodes: no array per node).
  const eachEdge = (visit: (p: number, c: number) => void) => {
    for (const [name, consumers] of scope.consumers) {
      const p = scope.producer.get(name);
      // A node output that is also a graph input or initializer is ambiguous (an SSA finding), not an edge.
      if (p === undefined || scope.inputs.has(name) || scope.initializers.has(name)) continue;
      for (const c of consumers) visit(p, c);
    }
  };
  const indeg = new Int32Array(n);
  const rowStart = new Int32Array(n + 1);
  eachEdge((p, c) => { rowStart[p + 1]!++; indeg[c]!++; });
  if (big) yield;
  for (let i = 0; i < n; i++) rowStart[i + 1]! += rowStart[i]!;
  const succ = new Int32Array(rowStart[n]!);
  const fill = rowStart.slice(0, n);
  eachEdge((p, c) => { succ[fill[p]!++] = c; });
  if (big) yield;
  // Kahn's algorithm: whatever is never released lies on or after a cycle.
  const queue = new Int32Array(n);
  let tail = 0;
  for (let i = 0; i < n; i++) if (indeg[i] === 0) queue[tail++] = i;
  for (let h = 0; h < tail; h++) {
    const v = queue[h]!;
    for (let e = rowStart[v]!; e < rowStart[v + 1]!; e++) if (--indeg[succ[e]!]! === 0) queue[tail++] = succ[e]!;
  }
  if (tail === n) return;
  // A broken model: predecessors, to name the cycles.
  const pred: number[][] = Array.from({ length: n }, () => []);
  eachEdge((p, c) => pred[c]!.push(p));
  // Every node left has a predecessor that is left too: walking back from one must loop.
  const left = new Uint8Array(n).fill(1);
  for (let h = 0; h < tail; h++) left[queue[h]!] = 0;
  const state = new Uint8Array(n); // 0 unseen, 1 on the current walk, 2 done
  for (let start = 0; start < n; start++) {
    if (!left[start] || state[start]) continue;
    const walk: number[] = [];
    let v = start;
    while (state[v] === 0) {
      state[v] = 1;
      walk.push(v);
      v = pred[v]!.find((p) => left[p])!;
    }
    if (state[v] === 1) {
      // A new cycle: the walk from v on, reversed into data-flow order.
      const loop0 = walk.slice(walk.indexOf(v)).reverse();
      // Named from its first node in the file, in data-flow order.
      let first = loop0[0]!;
      for (const k of loop0) if (k < first) first = k;
      const cycle = [...loop0.slice(loop0.indexOf(first)), ...loop0.slice(0, loop0.indexOf(first))];
      const names = cycle.map((k) => displayName(nodes[k]!, k));
      const what = cycle.length === 1 ? `${names[0]} reads its own output` : `${list(names, 6)} → ${names[0]} form a cycle`;
      out.add('unsupported', `${what}: each waits for another's output, so the graph cannot run; ONNX Runtime refuses the model ("the graph is not acyclic").`, SRC.cycle, { scope, index: first });
    }
    for (const k of walk) state[k] = 2;
  }
}

/** A default-domain op ONNX does not define, or not at the opset the model imports. */
function checkSchema(model: ModelProto, scope: GraphIndex, index: number, node: NodeProto, functionKeys: Set<string>, out: Collector): void {
  if (functionKeys.has(`\u0000${node.opType}`)) return;
  const history = OPSET_HISTORY[node.opType];
  if (!history) {
    out.add('unsupported', `${quote(node.opType)} is not an ONNX operator (no opset up to ${NEWEST_KNOWN_OPSET} defines it) and the model defines no function of that name; a custom op belongs in its own domain. ONNX Runtime refuses the model ("No Op registered").`, SRC.schema, { scope, index });
    return;
  }
  const opset = importedVersion(model, scope, '') ?? (Number(model.irVersion) < 3 ? 1 : undefined);
  if (opset === undefined || opset > NEWEST_KNOWN_OPSET) return;
  if (history[0]! > opset) {
    out.add('unsupported', `${node.opType} first appears in opset ${history[0]}, but the model imports opset ${opset}, where it has no schema; ONNX Runtime refuses the model ("No Op registered for ${node.opType} with domain_version of ${opset}").`, SRC.schema, { scope, index });
  }
}

/**
 * Why no rewrite can be made correct on this model, or undefined. Rewrites rely on one definition
 * per name (to rewire consumers), an acyclic graph, unique attribute names (a subgraph is addressed
 * by its attribute's name) and a known default-domain opset (forms and opset raises are chosen by it). Missing inputs, node names or unknown domains do not block them.
 */
export function rewriteBlockers(model: ModelProto): string | undefined {
  const blocking = validateModel(model).filter((f) =>
    f.source === SRC.ssa || f.source === SRC.cycle || f.source === SRC.newer || f.source === SRC.attrNames || (f.source === SRC.opset && f.nodeId === ''),
  );
  if (blocking.length === 0) return undefined;
  const first = blocking[0]!;
  return `the model is not valid ONNX, so no rewrite can be guaranteed correct: ${first.nodeId ? `${first.node}: ` : ''}${first.reason}` +
    (blocking.length > 1 ? ` (and ${blocking.length - 1} more such problem${blocking.length > 2 ? 's' : ''})` : '');
}
