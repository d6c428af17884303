// Choosing forms: which forms can rewrite one PRelu node for a target (formsFor), and the best
// form for every incompatible PRelu node, applied as one transaction (fixAll).
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
import type { ModelProto } from 'onnx-buf';
import { opsetOf } from '../onnx/model';
import { replaceFunction, shallowCopy } from '../graph/edit';
import { displayName, type GraphIndex } from '../graph/scope';
import { MAX_MODEL_FINDINGS, validateModel } from '../graph/validate';
import { checkModel, checkNode, INCOMPATIBLE, type Finding } from '../targets/check';
import type { TargetProfile } from '../targets/types';
import { Builder } from './builder';
import { emittedScope, mayBeInvalid } from './emitted-check';
import { minIrVersion, raiseBlockers, type RaiseBlocker } from './opset-raise';
import { FORMS } from './registry';
import type { Form } from './types';
import {
  allNames, applyRewrites, blockerOf, defaultOpset, emitPick, holderOf, locate, planOpsets, planPick, RewriteRefused, withDefaultOpset,
  type Pick, type RewriteResult,
} from './engine';

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
