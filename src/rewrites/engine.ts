// Applies rewrite forms to PRelu nodes as one transaction: a new model that shares every untouched
// part with the old one (so undo is keeping the old model). The engine, not the forms, owns the
// safety checks: opset raising, unique names, dropping only what it made unused, and a final
// check that the target can run every node it emitted. Choosing the forms (formsFor, fixAll) is
// choose.ts, and fusion, the reverse transaction, is fuse-all.ts; both build on what is exported here.
import type { GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto } from 'onnx-buf';
import { opsetOf } from '../onnx/model';
import { DT, dtypeName } from '../onnx/dtypes';
import { replaceFunction, replaceGraphAt, shallowCopy } from '../graph/edit';
import { preluFacts, type PreluFacts } from '../graph/prelu';
import { allGraphs, functionOf, nodeId, pathKey, sameRoot, type GraphIndex, type GraphPath } from '../graph/scope';
import { checkModel, INCOMPATIBLE } from '../targets/check';
import type { TargetProfile } from '../targets/types';
import { Builder } from './builder';
import { describeBlockers, minIrVersion, raiseBlockers, sinceVersion, type RaiseBlocker } from './opset-raise';
import { FORMS, findForm } from './registry';
import type { Form, FormId } from './types';
import { elementType } from './forms/common';
import { rewriteBlockers } from '../graph/validate';

/** rewriteBlockers, once per model object: formsFor and fixAll ask for every node and form. */
const blockerCache = new WeakMap<ModelProto, string | undefined>();
export function blockerOf(model: ModelProto): string | undefined {
  if (!blockerCache.has(model)) blockerCache.set(model, rewriteBlockers(model));
  return blockerCache.get(model);
}

export interface Pick {
  nodeId: string;
  form: FormId;
}

export interface RewriteResult {
  model: ModelProto;
  notes: string[];
}

export class RewriteRefused extends Error {
  /** `reason` is the message without the form and node it is about, when the refusal has one. */
  constructor(message: string, readonly reason: string = message) {
    super(message);
    this.name = 'RewriteRefused';
  }
}

/** Where each node id is: its scope and its index in that scope's graph. */
export function locate(model: ModelProto): Map<string, { scope: GraphIndex; index: number }> {
  const map = new Map<string, { scope: GraphIndex; index: number }>();
  for (const scope of allGraphs(model)) scope.graph.node.forEach((_, index) => map.set(nodeId(scope.path, index), { scope, index }));
  return map;
}

/** Every name the model uses (nodes, values, initializers): new names must avoid them. */
export function allNames(model: ModelProto): Set<string> {
  const names = new Set<string>();
  for (const { graph } of allGraphs(model)) {
    for (const n of graph.node) {
      names.add(n.name);
      n.input.forEach((x) => names.add(x));
      n.output.forEach((x) => names.add(x));
    }
    for (const t of graph.initializer) names.add(t.name);
    for (const v of [...graph.input, ...graph.output, ...graph.valueInfo]) names.add(v.name);
  }
  return names;
}

interface Planned {
  pick: Pick;
  form: Form;
  facts: PreluFacts;
  label: string;
  /** The opset this form needs for this node's element type. */
  needs: number;
}

/** One pick, checked against the node it names: the node, its facts and the form's own refusal. */
export function planPick(model: ModelProto, where: ReadonlyMap<string, { scope: GraphIndex; index: number }>, p: Pick): Planned {
  const at = where.get(p.nodeId);
  const form = findForm(p.form);
  if (!at) throw new RewriteRefused(`there is no node ${p.nodeId} in this model`);
  if (!form) throw new RewriteRefused(`unknown form "${p.form}"; forms are ${FORMS.map((f) => f.id).join(', ')}`);
  const node = at.scope.graph.node[at.index]!;
  const label = node.name || node.output[0] || p.nodeId;
  if (node.opType !== 'PRelu') throw new RewriteRefused(`${label} is a ${node.opType} node, not PRelu`);
  const facts = preluFacts(model, at.scope, at.index);
  const refusal = form.refuse(facts);
  if (refusal) throw new RewriteRefused(`${form.label} cannot rewrite ${label}: ${refusal}`, refusal);
  return { pick: p, form, facts, label, needs: form.minOpset(elementType(facts)) };
}

/** Emits one pick's nodes into `b`; refused, with the form's reason, when the form cannot. */
export function emitPick({ form, facts, label }: Omit<Planned, 'pick' | 'needs'>, b: Builder): Builder {
  try {
    form.emit(facts, b);
  } catch (e) {
    throw new RewriteRefused(`${form.label} cannot rewrite ${label}: ${(e as Error).message}`, (e as Error).message);
  }
  // The node that now computes the PRelu's output takes over its name, so the rewritten model
  // still reads like the original (profilers, diffs and users look nodes up by name).
  const heir = b.nodes.find((n) => n.output.includes(facts.node.output[0] ?? ''));
  if (heir && facts.node.name) heir.name = facts.node.name;
  return b;
}

/** Where a scope's default-domain opset comes from: the model (undefined) or model.functions[i]. */
export const holderOf = (scope: GraphIndex): number | undefined => scope.fn?.index;

/** The version a list of opset imports gives the default (ai.onnx) domain, if it imports it. */
export function defaultOpset(imports: readonly { domain: string; version: bigint }[]): number | undefined {
  const o = imports.find((i) => i.domain === '' || i.domain === 'ai.onnx');
  return o === undefined ? undefined : Number(o.version);
}

/** A copy of a model or function with its default-domain import moved to `version`. */
export function withDefaultOpset<T extends { opsetImport: OperatorSetIdProto[] }>(owner: T, version: number): T {
  return shallowCopy(owner, {
    opsetImport: owner.opsetImport.map((o) => (o.domain === '' || o.domain === 'ai.onnx' ? shallowCopy(o, { version: BigInt(version) }) : o)),
  } as Partial<T>);
}

/** "Where needs opset ≥ 9" or, when the element type asks for more, "Where needs opset ≥ 16 for bfloat16". */
function needsText(p: Planned): string {
  const dt = elementType(p.facts);
  const forType = dt !== undefined && p.form.minOpset(dt) > p.form.minOpset(DT.FLOAT) ? ` for ${dtypeName(dt)}` : '';
  return `needs opset ≥ ${p.needs}${forType}`;
}

/** The nodes of a holder's scopes whose definition would change from `old` to `to` (raiseBlockers). */
type BlockersOf = (holder: number | undefined, old: number, to: number) => RaiseBlocker[];

interface OpsetPlan {
  /** The default-domain opset after the transaction: the model's, raised if a form needs it. */
  to: number;
  raiseModel: boolean;
  /** Functions whose default-domain import moves to `to`, with their old version. */
  raiseFunctions: Map<number, number>;
  notes: string[];
}

/**
 * One default-domain opset for the whole transaction: the highest any chosen form needs. The model
 * and every function holding a rewritten node move up to it (a function's body must resolve each
 * op to the same definition as the model would, so it travels with the model), and so do functions
 * that imported the model's own version. Refused, naming the ops, when that would put any other
 * node under a new definition.
 */
export function planOpsets(
  model: ModelProto,
  planned: readonly Planned[],
  rewritten: ReadonlySet<string>,
  blockersOf: BlockersOf = (holder, old, to) => raiseBlockers(model, old, to, rewritten, (s) => holderOf(s) === holder),
): OpsetPlan {
  const from = opsetOf(model) ?? 1;
  // A loop, not Math.max(...): a spread of tens of thousands of picks overflows the call stack.
  let to = from;
  for (const p of planned) to = Math.max(to, p.needs);
  const hosting = new Set(planned.map((p) => holderOf(p.facts.scope)).filter((i): i is number => i !== undefined));
  const raiseFunctions = new Map<number, number>();
  model.functions.forEach((f, i) => {
    const v = defaultOpset(f.opsetImport);
    if (v === undefined) return;
    if (hosting.has(i) ? v < to : from < to && v === from) raiseFunctions.set(i, v);
  });
  const notes: string[] = [];
  const raised = (holder: number | undefined, old: number, what: string) => {
    const blockers = blockersOf(holder, old, to);
    if (blockers.length === 0) {
      notes.push(`Raised ${what} from opset ${old} to ${to}: every other node keeps its definition.`);
      return;
    }
    const wanting = planned.filter((p) => p.needs > old || holderOf(p.facts.scope) === holder);
    const first = wanting.find((p) => p.needs === to) ?? wanting[0] ?? planned[0]!;
    const forms = [...new Set(wanting.map((p) => p.form.label))].join(', ');
    const reason = holder !== undefined && first.needs <= old
      ? `the new nodes must resolve to the same op definitions in ${what} (opset ${old}) as in the model (opset ${to}), but raising ${what} to opset ${to} would change the definition of other nodes' ops: ${describeBlockers(blockers)}. OpFit does not raise an opset when that could change what other nodes compute.`
      : `${needsText(first)}; ${what} is opset ${old}, and raising it would change the definition of other nodes' ops: ${describeBlockers(blockers)}. OpFit does not raise an opset when that could change what other nodes compute.`;
    throw new RewriteRefused(`${forms} ${reason}`, reason);
  };
  if (from < to) raised(undefined, from, 'the model');
  for (const [i, old] of raiseFunctions) raised(i, old, `function ${model.functions[i]!.name}`);
  return { to, raiseModel: from < to, raiseFunctions, notes };
}

/**
 * ONNX lets a function import another version of an opset than the model only when every node of
 * its body resolves to the same definition under both. Returns why the result breaks that for a
 * node it added (or for an old node that kept it before), or undefined.
 */
function functionOpsetClash(before: ModelProto, after: ModelProto, emitted: ReadonlySet<string>): string | undefined {
  const mBefore = opsetOf(before) ?? 1;
  const mAfter = opsetOf(after) ?? 1;
  for (const scope of allGraphs(after)) {
    if (!scope.fn) continue;
    const fAfter = defaultOpset(scope.fn.proto.opsetImport);
    const fBefore = defaultOpset(before.functions[scope.fn.index]?.opsetImport ?? []);
    if (fAfter === undefined || fAfter === mAfter) continue;
    for (const node of scope.graph.node) {
      if (node.domain !== '' && node.domain !== 'ai.onnx') continue;
      if (sinceVersion(node.opType, fAfter) === sinceVersion(node.opType, mAfter)) continue;
      const isNew = emitted.has(node.name);
      if (!isNew && fBefore !== undefined && sinceVersion(node.opType, fBefore) !== sinceVersion(node.opType, mBefore)) continue;
      return `function ${scope.fn.proto.name} imports opset ${fAfter} and the model opset ${mAfter}, and ${node.opType} is defined differently at those two, which ONNX does not allow inside a function`;
    }
  }
  return undefined;
}

/**
 * Rewrites the picked PRelu nodes. Throws RewriteRefused, naming the node and the reason, when any
 * pick cannot be made correct for this target; the model passed in is never changed.
 */
export function applyRewrites(
  model: ModelProto,
  picks: readonly Pick[],
  target: TargetProfile,
  opts: { alsoRewritten?: ReadonlySet<string> } = {},
): RewriteResult {
  // A model that is broken as a model (a cycle, a name defined twice, …) cannot be rewritten correctly.
  const blocked = blockerOf(model);
  if (blocked) throw new RewriteRefused(blocked);
  const where = locate(model);
  const planned = picks.map((p) => planPick(model, where, p));

  const rewritten = new Set([...picks.map((p) => p.nodeId), ...(opts.alsoRewritten ?? [])]);
  const plan = planOpsets(model, planned, rewritten);
  const notes: string[] = [...plan.notes];
  const irVersion = Math.max(Number(model.irVersion), minIrVersion(plan.to));
  const taken = allNames(model);

  // Emit per graph, deepest graphs first, so rewriting a graph never shifts the node indices in a
  // path that leads to a deeper one. (Function bodies are roots of their own: their paths never
  // pass through the main graph's nodes.)
  const byGraph = new Map<string, { path: GraphPath; items: Planned[] }>();
  for (const p of planned) {
    const key = pathKey(p.facts.scope.path);
    const entry = byGraph.get(key) ?? { path: p.facts.scope.path, items: [] };
    entry.items.push(p);
    byGraph.set(key, entry);
  }
  const emitted = new Map<string, string>(); // emitted node name → the form's label
  const slopes = planned.flatMap((p) => (p.facts.slopeSource.kind === 'initializer' || p.facts.slopeSource.kind === 'constant' ? [{ name: p.facts.slope, path: p.facts.slopeSource.scope.path }] : []));
  const groups = [...byGraph.values()].sort((a, b) => b.path.length - a.path.length);
  let out = model;
  for (const [gi, { path, items }] of groups.entries()) {
    const replacements = new Map<number, NodeProto[]>();
    const inits: TensorProto[] = [];
    // Reshaped copies of one constant slope, shared by the PRelu nodes of this graph that use it.
    const shared = new Map<string, string>();
    for (const { form, facts, label } of [...items].sort((a, b) => a.facts.index - b.facts.index)) {
      // A function body has no initializers, and in IR < 4 every initializer must also be a graph
      // input: new constants are Constant nodes there.
      const b = emitPick({ form, facts, label }, new Builder(taken, irVersion >= 4 && !facts.scope.fn, facts.node.name || facts.node.output[0] || 'prelu', shared));
      b.nodes.forEach((n) => emitted.set(n.name, form.label));
      replacements.set(facts.index, b.nodes);
      inits.push(...b.initializers);
      notes.push(`${label}: PRelu → ${form.formula}${b.notes.length ? ` (${b.notes.join('; ')})` : ''}.`);
    }
    out = replaceGraphAt(out, path, (g) =>
      shallowCopy(g, {
        node: g.node.flatMap((n, i) => replacements.get(i) ?? [n]),
        initializer: inits.length ? [...g.initializer, ...inits] : g.initializer,
      }),
    );
    // A slope lives in the graph of its PRelu or an enclosing one, so once every graph at this depth
    // is rewritten, slopes of graphs between this depth and the next are final; drop them now, while
    // their paths are valid (rewriting a shallower graph shifts the node indices in those paths).
    const depth = path.length;
    const next = groups[gi + 1]?.path.length ?? -1;
    if (next < depth) out = dropUnusedSlopes(out, slopes.filter((s) => s.path.length > next && s.path.length <= depth));
  }
  if (plan.raiseModel) out = shallowCopy(withDefaultOpset(out, plan.to), { irVersion: BigInt(irVersion) });
  for (const i of plan.raiseFunctions.keys()) out = replaceFunction(out, i, (f) => withDefaultOpset(f, plan.to));

  const clash = functionOpsetClash(model, out, new Set(emitted.keys()));
  if (clash) {
    const forms = [...new Set(planned.filter((p) => p.facts.scope.fn).map((p) => p.form.label))].join(', ');
    throw new RewriteRefused(`${forms} cannot rewrite inside a function here: ${clash}`, clash);
  }
  // The target must be able to run everything we emitted; otherwise this form is not for it.
  const left = checkModel(out, target).find((f) => INCOMPATIBLE.has(f.status) && emitted.has(f.node));
  if (left) {
    const reason = `it would add a ${left.op} node, which ${target.name} cannot run: ${left.reason}`;
    throw new RewriteRefused(`${emitted.get(left.node)} is not for ${target.name}: ${reason}`, reason);
  }
  return { model: out, notes };
}

/**
 * Removes slope constants that the rewrite left without users (never graph inputs or outputs).
 * The graph indexes are built once per call: dropping an unused constant changes no other name's
 * users (a Constant node reads nothing), so one look at the model decides every slope, and each
 * graph loses all its unused slopes in one pass. (Indexing the model per slope made a rewrite of
 * every PRelu in a 10,000-node graph quadratic.)
 */
function dropUnusedSlopes(model: ModelProto, slopes: { name: string; path: GraphPath }[]): ModelProto {
  if (slopes.length === 0) return model;
  const graphs = allGraphs(model);
  const byPath = new Map(graphs.map((s) => [pathKey(s.path), s]));
  // Names are scoped: the main graph's tree and each function body are separate name spaces.
  const usedByRoot = new Map<number, Set<string>>();
  const usedIn = (path: GraphPath): Set<string> => {
    const root = functionOf(path) ?? -1;
    let used = usedByRoot.get(root);
    if (!used) {
      used = new Set();
      for (const s of graphs) {
        if (!sameRoot(s.path, path)) continue;
        for (const name of s.consumers.keys()) used.add(name);
        for (const name of s.outputs) used.add(name);
      }
      usedByRoot.set(root, used);
    }
    return used;
  };
  const drop = new Map<string, { path: GraphPath; names: Set<string> }>();
  for (const { name, path } of slopes) {
    const key = pathKey(path);
    const owner = byPath.get(key);
    if (!owner || owner.inputs.has(name) || usedIn(path).has(name)) continue;
    const entry = drop.get(key) ?? { path, names: new Set<string>() };
    entry.names.add(name);
    drop.set(key, entry);
  }
  let out = model;
  // Deepest first: removing a Constant node from a graph shifts the paths through it.
  for (const { path, names } of [...drop.values()].sort((a, b) => b.path.length - a.path.length)) {
    out = replaceGraphAt(out, path, (g: GraphProto) =>
      shallowCopy(g, {
        initializer: g.initializer.filter((t) => !names.has(t.name)),
        node: g.node.filter((n) => !(n.opType === 'Constant' && n.output.length === 1 && names.has(n.output[0]!))),
        valueInfo: g.valueInfo.filter((v) => !names.has(v.name)),
      }),
    );
  }
  return out;
}
