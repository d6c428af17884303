// Applies rewrite forms to PRelu nodes as one transaction: a new model that shares every untouched
// part with the old one (so undo is keeping the old model). The engine, not the forms, owns the
// safety checks: opset raising, unique names, dropping only what it made unused, and a final
// check that the target can run every node it emitted.
import type { GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto } from 'onnx-buf';
import { opsetOf } from '../onnx/model';
import { DT, dtypeName } from '../onnx/dtypes';
import { replaceFunction, replaceGraphAt, shallowCopy } from '../graph/edit';
import { preluFacts, type PreluFacts } from '../graph/prelu';
import { allGraphs, displayName, functionOf, nodeId, pathKey, sameRoot, type GraphIndex, type GraphPath } from '../graph/scope';
import { checkModel, checkNode, INCOMPATIBLE, type Finding } from '../targets/check';
import type { TargetProfile } from '../targets/types';
import { Builder } from './builder';
import { describeBlockers, minIrVersion, raiseBlockers, sinceVersion, type RaiseBlocker } from './opset-raise';
import { FORMS, findForm } from './registry';
import type { Form, FormId } from './types';
import { elementType } from './forms/common';
import { findFusions, fuseGraph, type FusionKind, type FusionMatch } from './fusion';
import { MAX_MODEL_FINDINGS, rewriteBlockers, validateModel } from '../graph/validate';
import { emittedScope, mayBeInvalid } from './emitted-check';

/** rewriteBlockers, once per model object: formsFor and fixAll ask for every node and form. */
const blockerCache = new WeakMap<ModelProto, string | undefined>();
function blockerOf(model: ModelProto): string | undefined {
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

export interface FormOption {
  form: Form;
  available: boolean;
  /** Why not, when unavailable. */
  why?: string;
  /** The same, without the form's and the node's names. */
  reason?: string;
  /** The opset the model would move to, when the form needs a higher one. */
  raisesTo?: number;
}

function locate(model: ModelProto): Map<string, { scope: GraphIndex; index: number }> {
  const map = new Map<string, { scope: GraphIndex; index: number }>();
  for (const scope of allGraphs(model)) scope.graph.node.forEach((_, index) => map.set(nodeId(scope.path, index), { scope, index }));
  return map;
}

function allNames(model: ModelProto): Set<string> {
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
function planPick(model: ModelProto, where: ReadonlyMap<string, { scope: GraphIndex; index: number }>, p: Pick): Planned {
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
function emitPick({ form, facts, label }: Omit<Planned, 'pick' | 'needs'>, b: Builder): Builder {
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
const holderOf = (scope: GraphIndex): number | undefined => scope.fn?.index;

function defaultOpset(imports: readonly { domain: string; version: bigint }[]): number | undefined {
  const o = imports.find((i) => i.domain === '' || i.domain === 'ai.onnx');
  return o === undefined ? undefined : Number(o.version);
}

function withDefaultOpset<T extends { opsetImport: OperatorSetIdProto[] }>(owner: T, version: number): T {
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
function planOpsets(
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

// ---- choosing forms --------------------------------------------------------------------------
//
// What a form does to one node is decided by that node: its facts, the form's opset, whether the
// opset may be raised, and whether the target runs the few nodes the form emits. Rewriting the
// whole model once per node and form to learn that (as formsFor once did) made fixAll quadratic:
// 10,000 nodes with 2,500 PRelu did not finish in 600 s. So each (node, form) is decided here from
// the node alone, with the whole-model parts (the opset-raise blockers) computed once per holder
// and opset pair. Where the answer could depend on more than the node (a function whose opset
// differs from the model's, a name another node also displays under, a model already broken at
// the emitted nodes, the cap on model-level findings) the node and form go the old way: a full
// applyRewrites of that one pick. tests/unit/fixall-local.test.ts holds both ways to one answer.

/** The parts of a model every decision reads: built once per model, whatever the target. */
interface ModelIndex {
  where: Map<string, { scope: GraphIndex; index: number }>;
  /** Every name in the model: new names must avoid them. Never changed. */
  names: Set<string>;
  /** How many nodes, in every scope, are shown under each name (a finding's `node`). */
  shown: Map<string, number>;
}

/**
 * The last model's index: the details panel asks formsFor about one node after another of the same
 * model. Only one is kept, so models held for undo do not keep their indexes alive.
 */
let lastIndex: { model: ModelProto; idx: ModelIndex } | undefined;
function modelIndex(model: ModelProto): ModelIndex {
  if (lastIndex?.model === model) return lastIndex.idx;
  const where = locate(model);
  const shown = new Map<string, number>();
  for (const { scope, index } of where.values()) {
    const name = displayName(scope.graph.node[index]!, index);
    shown.set(name, (shown.get(name) ?? 0) + 1);
  }
  const idx = { where, names: allNames(model), shown };
  lastIndex = { model, idx };
  return idx;
}

/** A name set that reads through to the model's names without copying them; additions stay here. */
class ScratchNames extends Set<string> {
  constructor(private readonly base: ReadonlySet<string>) {
    super();
  }
  override has(name: string): boolean {
    return super.has(name) || this.base.has(name);
  }
}

/** One model, target and set of nodes being rewritten together: what its decisions share. */
interface Chooser {
  model: ModelProto;
  target: TargetProfile;
  also?: ReadonlySet<string>;
  idx: ModelIndex;
  blocked?: string;
  opset: number;
  /** How many model-level findings the model has already (validateModel is cached per model). */
  modelFindings: number;
  /** raiseBlockers per holder, opset pair and (when the node is not in `also`) node. */
  blockers: Map<string, RaiseBlocker[]>;
}

function chooser(model: ModelProto, target: TargetProfile, also?: ReadonlySet<string>): Chooser {
  const blocked = blockerOf(model);
  return {
    model, target, also, blocked,
    idx: modelIndex(model),
    opset: opsetOf(model) ?? 1,
    modelFindings: blocked ? 0 : validateModel(model).length,
    blockers: new Map(),
  };
}

/** The option applyRewrites gives for this one pick: the exhaustive way, and the fallback. */
function optionByRewrite(model: ModelProto, id: string, form: Form, target: TargetProfile, also?: ReadonlySet<string>): FormOption {
  const opset = opsetOf(model) ?? 1;
  try {
    const r = applyRewrites(model, [{ nodeId: id, form: form.id }], target, { alsoRewritten: also });
    const raised = opsetOf(r.model) ?? opset;
    return { form, available: true, raisesTo: raised > opset ? raised : undefined };
  } catch (e) {
    if (e instanceof RewriteRefused) return { form, available: false, why: e.message, reason: e.reason };
    throw e;
  }
}

/** The option for one node and form, decided from the node where that is certain to agree. */
function optionFor(c: Chooser, id: string, form: Form): FormOption {
  try {
    const opset = decideLocally(c, id, form);
    if (opset === 'ask-the-model') return optionByRewrite(c.model, id, form, c.target, c.also);
    return { form, available: true, raisesTo: opset > c.opset ? opset : undefined };
  } catch (e) {
    if (e instanceof RewriteRefused) return { form, available: false, why: e.message, reason: e.reason };
    throw e;
  }
}

/**
 * applyRewrites for one pick, step by step in its order, with the whole-model steps replaced by
 * their local equivalents. Returns the opset the model ends at, throws RewriteRefused as
 * applyRewrites would, or says when only the whole model can tell.
 */
function decideLocally(c: Chooser, id: string, form: Form): number | 'ask-the-model' {
  const { model, target } = c;
  if (c.blocked) throw new RewriteRefused(c.blocked);
  const p = planPick(model, c.idx.where, { nodeId: id, form: form.id });
  // fixAll rewrites a set that holds every node it asks about: one raise verdict serves them all.
  const rewritten = c.also?.has(id) ? c.also : new Set([id, ...(c.also ?? [])]);
  const perNode = rewritten === c.also ? '' : id;
  const plan = planOpsets(model, [p], rewritten, (holder, old, to) => {
    const key = `${holder ?? 'model'}|${old}|${to}|${perNode}`;
    let list = c.blockers.get(key);
    if (!list) c.blockers.set(key, (list = raiseBlockers(model, old, to, rewritten, (s) => holderOf(s) === holder)));
    return list;
  });
  const irVersion = Math.max(Number(model.irVersion), minIrVersion(plan.to));
  const { facts } = p;
  const b = emitPick(p, new Builder(new ScratchNames(c.idx.names), irVersion >= 4 && !facts.scope.fn, facts.node.name || facts.node.output[0] || 'prelu', new Map()));

  // The model's header as the transaction leaves it (opsets, IR version); its graphs are not read.
  let after = model;
  if (plan.raiseModel) after = shallowCopy(withDefaultOpset(after, plan.to), { irVersion: BigInt(irVersion) });
  for (const i of plan.raiseFunctions.keys()) after = replaceFunction(after, i, (f) => withDefaultOpset(f, plan.to));
  // A function at another opset than the model: functionOpsetClash looks at every node of it.
  const opsetAfter = opsetOf(after) ?? 1;
  if (after.functions.some((f) => (defaultOpset(f.opsetImport) ?? opsetAfter) !== opsetAfter)) return 'ask-the-model';
  // A finding names its node by display name: one shared with another node (or the names of
  // model-level findings) could be that other node's finding.
  const heirName = facts.node.name;
  if (heirName && ((c.idx.shown.get(heirName) ?? 0) > 1 || heirName === 'model' || heirName.startsWith('graph ') || heirName.includes(' (node #'))) return 'ask-the-model';
  // Past MAX_MODEL_FINDINGS validateModel stops listing: which findings remain depends on the model.
  if (c.modelFindings + 3 * b.nodes.length >= MAX_MODEL_FINDINGS) return 'ask-the-model';
  const fn = facts.scope.fn ? { index: facts.scope.fn.index, proto: after.functions[facts.scope.fn.index]! } : undefined;
  const scope = emittedScope(facts.scope, b.nodes, b.initializers, fn);
  if (mayBeInvalid(after, facts.scope, scope)) return 'ask-the-model';

  // The target must be able to run everything we emitted; the first node it cannot run says why.
  for (let i = 0; i < b.nodes.length; i++) {
    const left = checkNode(after, scope, i, target);
    if (!left || !INCOMPATIBLE.has(left.status)) continue;
    const reason = `it would add a ${b.nodes[i]!.opType} node, which ${target.name} cannot run: ${left.reason}`;
    throw new RewriteRefused(`${form.label} is not for ${target.name}: ${reason}`, reason);
  }
  return opsetOf(after) ?? c.opset;
}

/** Every form for one chooser's node, best first. */
function optionsFor(c: Chooser, id: string): FormOption[] {
  return sortOptions(FORMS.map((form) => optionFor(c, id, form)));
}

function sortOptions(options: FormOption[]): FormOption[] {
  return options.sort((a, b) =>
    Number(b.available) - Number(a.available) ||
    Number(a.raisesTo !== undefined) - Number(b.raisesTo !== undefined) ||
    a.form.rank - b.form.rank,
  );
}

/** Every form for one node, best first, each either available or with the reason it is not. */
export function formsFor(model: ModelProto, id: string, target: TargetProfile, alsoRewritten?: ReadonlySet<string>): FormOption[] {
  return optionsFor(chooser(model, target, alsoRewritten), id);
}

export interface FixAllResult extends RewriteResult {
  picks: Pick[];
  /** Incompatible nodes no form could fix, with the reason. */
  unfixed: { nodeId: string; node: string; why: string }[];
}

/** The best form for every incompatible PRelu node, applied as one transaction. */
export function fixAll(model: ModelProto, target: TargetProfile): FixAllResult {
  const blocked = blockerOf(model);
  if (blocked) throw new RewriteRefused(blocked);
  const findings = checkModel(model, target).filter((f) => INCOMPATIBLE.has(f.status));
  const prelus = findings.filter((f) => f.op === 'PRelu');
  const all = new Set(prelus.map((f) => f.nodeId));
  const others: FixAllResult['unfixed'] = findings.filter((f) => f.op !== 'PRelu').map((f) => ({ nodeId: f.nodeId, node: f.node, why: `no rewrite for ${f.op}: ${f.reason}` }));
  const c = chooser(model, target, all);
  const chosen = choose(prelus, others, (id) => optionsFor(c, id));
  try {
    return apply(model, target, all, chosen);
  } catch (e) {
    if (!(e instanceof RewriteRefused)) throw e;
    // Each choice held for its node, but not all together (a function raised for one pick past
    // what another's ops allow, …). Choose again the old way, a whole rewrite per node and form;
    // where that chooses the same, the transaction is refused as it always was.
    const again = choose(prelus, others, (id) => sortOptions(FORMS.map((form) => optionByRewrite(model, id, form, target, all))));
    if (samePicks(again.picks, chosen.picks)) throw e;
    return apply(model, target, all, again);
  }
}

/** Each node's best available form, or why none is. */
function choose(prelus: readonly Finding[], others: FixAllResult['unfixed'], optionsOf: (id: string) => FormOption[]): Omit<FixAllResult, 'model' | 'notes'> {
  const picks: Pick[] = [];
  const unfixed = [...others];
  for (const f of prelus) {
    const options = optionsOf(f.nodeId);
    const best = options.find((o) => o.available);
    if (best) picks.push({ nodeId: f.nodeId, form: best.form.id });
    else {
      const byReason = new Map<string, string[]>();
      for (const o of options) byReason.set(o.reason ?? '', [...(byReason.get(o.reason ?? '') ?? []), o.form.label]);
      const why = [...byReason].map(([reason, forms]) => `${forms.join(', ')}: ${reason}`).join('; ');
      unfixed.push({ nodeId: f.nodeId, node: f.node, why: `no form is valid for this node on this target (${why})` });
    }
  }
  return { picks, unfixed };
}

function apply(model: ModelProto, target: TargetProfile, all: ReadonlySet<string>, { picks, unfixed }: Omit<FixAllResult, 'model' | 'notes'>): FixAllResult {
  if (picks.length === 0) return { model, notes: [], picks, unfixed };
  return { ...applyRewrites(model, picks, target, { alsoRewritten: all }), picks, unfixed };
}

const samePicks = (a: readonly Pick[], b: readonly Pick[]) => a.length === b.length && a.every((p, i) => p.nodeId === b[i]!.nodeId && p.form === b[i]!.form);

export interface FuseResult extends RewriteResult {
  /** The patterns fused: the id of the node that computed each pattern's output, and the new PRelu's name. */
  fused: { nodeId: string; node: string; kind: FusionKind }[];
  /** Patterns seen but left alone, with why. */
  skipped: { nodeId: string; why: string }[];
}

/**
 * Fusion as one transaction, the reverse of fixAll: every decomposed PReLU pattern (fusion.ts) that
 * is safe to fuse becomes one PRelu node, as long as the target runs that PRelu; a fused node the
 * target would not run (its slope layout, its type…) is left decomposed, with the reason.
 */
export function fuseAll(model: ModelProto, target: TargetProfile): FuseResult {
  const blocked = blockerOf(model);
  if (blocked) throw new RewriteRefused(blocked);
  const banned = target.unsupportedOps.find((u) => u.op === 'PRelu' && (u.domain ?? '') === '');
  if (banned) return { model, notes: [`${target.name} has no PRelu (${banned.reason}), so nothing is fused.`], fused: [], skipped: [] };
  const refused = new Map<string, string>();
  for (;;) {
    const { matches, misses } = findFusions(model, allGraphs(model));
    const chosen = matches.filter((m) => !refused.has(m.nodeId));
    const skipped = [...misses, ...[...refused].map(([nodeId, why]) => ({ nodeId, why }))];
    if (chosen.length === 0) return { model, notes: [], fused: [], skipped };
    const taken = allNames(model);
    const byGraph = new Map<string, FusionMatch[]>();
    for (const m of chosen) byGraph.set(pathKey(m.scope.path), [...(byGraph.get(pathKey(m.scope.path)) ?? []), m]);
    let out = model;
    const made = new Map<string, string>();
    const notes: string[] = [];
    // Deepest graphs first, so fusing a graph never shifts the node indices in a path to a deeper one.
    for (const items of [...byGraph.values()].sort((a, b) => b[0]!.scope.path.length - a[0]!.scope.path.length)) {
      const scope = items[0]!.scope;
      out = replaceGraphAt(out, scope.path, (g) => {
        const r = fuseGraph(g, scope, items, taken, Number(model.irVersion) >= 4 && !scope.fn);
        r.made.forEach((name, id) => made.set(id, name));
        notes.push(...r.notes);
        return r.graph;
      });
    }
    const names = new Set(made.values());
    const bad = checkModel(out, target).filter((f) => INCOMPATIBLE.has(f.status) && f.op === 'PRelu' && names.has(f.node));
    if (bad.length === 0) {
      const fused = chosen.map((m) => ({ nodeId: m.nodeId, node: made.get(m.nodeId)!, kind: m.kind }));
      return { model: out, notes, fused, skipped };
    }
    for (const f of bad) {
      const id = [...made].find(([, name]) => name === f.node)![0];
      refused.set(id, `fused, it would be a PRelu ${target.name} cannot run: ${f.reason}`);
    }
  }
}
