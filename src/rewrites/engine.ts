// Applies rewrite forms to PRelu nodes as one transaction: a new model that shares every untouched
// part with the old one (so undo is keeping the old model). The engine, not the forms, owns the
// safety checks: opset raising, unique names, dropping only what it made unused, and a final
// check that the target can run every node it emitted.
import type { GraphProto, ModelProto, NodeProto, TensorProto } from 'onnx-buf';
import { opsetOf } from '../onnx/model';
import { replaceGraphAt, shallowCopy } from '../graph/edit';
import { preluFacts } from '../graph/prelu';
import { allGraphs, nodeId, pathKey, type GraphIndex, type GraphPath } from '../graph/scope';
import { checkModel, INCOMPATIBLE } from '../targets/check';
import type { TargetProfile } from '../targets/types';
import { Builder } from './builder';
import { minIrVersion, raiseBlocker } from './opset-raise';
import { FORMS, findForm } from './registry';
import type { Form, FormId } from './types';
import { elementType } from './forms/common';

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
  const where = locate(model);
  const opset = opsetOf(model) ?? 1;
  const planned = picks.map((p) => {
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
    return { pick: p, form, facts, label };
  });

  // One opset for the whole transaction: the highest any chosen form needs.
  const needed = Math.max(opset, ...planned.map(({ form, facts }) => form.minOpset(elementType(facts))));
  const notes: string[] = [];
  if (needed > opset) {
    const rewritten = new Set([...picks.map((p) => p.nodeId), ...(opts.alsoRewritten ?? [])]);
    const blocker = raiseBlocker(model, opset, needed, rewritten);
    const which = planned.filter(({ form, facts }) => form.minOpset(elementType(facts)) > opset).map((p) => p.form.label);
    if (blocker) throw new RewriteRefused(`${[...new Set(which)].join(', ')} needs opset ≥ ${needed} (model is opset ${opset}), but ${blocker}`);
    notes.push(`Raised the model from opset ${opset} to ${needed}: every other node keeps its meaning.`);
  }
  const irVersion = Math.max(Number(model.irVersion), minIrVersion(needed));
  const taken = allNames(model);

  // Emit per graph, deepest graphs first, so rewriting a graph never shifts the node indices in a
  // path that leads to a deeper one.
  const byGraph = new Map<string, { path: GraphPath; items: typeof planned }>();
  for (const p of planned) {
    const key = pathKey(p.facts.scope.path);
    const entry = byGraph.get(key) ?? { path: p.facts.scope.path, items: [] };
    entry.items.push(p);
    byGraph.set(key, entry);
  }
  const emitted = new Set<string>();
  const slopes = planned.flatMap((p) => (p.facts.slopeSource.kind === 'initializer' || p.facts.slopeSource.kind === 'constant' ? [{ name: p.facts.slope, path: p.facts.slopeSource.scope.path }] : []));
  const groups = [...byGraph.values()].sort((a, b) => b.path.length - a.path.length);
  let out = model;
  for (const [gi, { path, items }] of groups.entries()) {
    const replacements = new Map<number, NodeProto[]>();
    const inits: TensorProto[] = [];
    for (const { form, facts, label } of items) {
      const b = new Builder(taken, irVersion >= 4, facts.node.name || facts.node.output[0] || 'prelu');
      try {
        form.emit(facts, b);
      } catch (e) {
        throw new RewriteRefused(`${form.label} cannot rewrite ${label}: ${(e as Error).message}`, (e as Error).message);
      }
      // The node that now computes the PRelu's output takes over its name, so the rewritten model
      // still reads like the original (profilers, diffs and users look nodes up by name).
      const heir = b.nodes.find((n) => n.output.includes(facts.node.output[0] ?? ''));
      if (heir && facts.node.name) heir.name = facts.node.name;
      b.nodes.forEach((n) => emitted.add(n.name));
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
  if (needed > opset) {
    out = shallowCopy(out, {
      irVersion: BigInt(irVersion),
      opsetImport: out.opsetImport.map((o) => (o.domain === '' || o.domain === 'ai.onnx' ? shallowCopy(o, { version: BigInt(needed) }) : o)),
    });
  }

  // The target must be able to run everything we emitted; otherwise this form is not for it.
  const left = checkModel(out, target).find((f) => INCOMPATIBLE.has(f.status) && emitted.has(f.node));
  if (left) throw new RewriteRefused(`the result still has a node ${target.name} cannot run (${left.op}: ${left.reason})`);
  return { model: out, notes };
}

/** Removes slope constants that the rewrite left without users (never graph inputs or outputs). */
function dropUnusedSlopes(model: ModelProto, slopes: { name: string; path: GraphPath }[]): ModelProto {
  let out = model;
  const seen = new Set<string>();
  // Deepest first: removing a Constant node from a graph shifts the paths through it.
  for (const { name, path } of [...slopes].sort((a, b) => b.path.length - a.path.length)) {
    const key = `${pathKey(path)}|${name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const graphs = allGraphs(out);
    const used = graphs.some((s) => s.consumers.has(name) || s.outputs.has(name));
    const owner = graphs.find((s) => pathKey(s.path) === pathKey(path));
    if (used || !owner || owner.inputs.has(name)) continue;
    out = replaceGraphAt(out, path, (g: GraphProto) =>
      shallowCopy(g, {
        initializer: g.initializer.filter((t) => t.name !== name),
        node: g.node.filter((n) => !(n.opType === 'Constant' && n.output.length === 1 && n.output[0] === name)),
        valueInfo: g.valueInfo.filter((v) => v.name !== name),
      }),
    );
  }
  return out;
}

/** Every form for one node, best first, each either available or with the reason it is not. */
export function formsFor(model: ModelProto, id: string, target: TargetProfile, alsoRewritten?: ReadonlySet<string>): FormOption[] {
  const opset = opsetOf(model) ?? 1;
  const options = FORMS.map((form): FormOption => {
    try {
      const r = applyRewrites(model, [{ nodeId: id, form: form.id }], target, { alsoRewritten });
      const raised = opsetOf(r.model) ?? opset;
      return { form, available: true, raisesTo: raised > opset ? raised : undefined };
    } catch (e) {
      if (e instanceof RewriteRefused) return { form, available: false, why: e.message, reason: e.reason };
      throw e;
    }
  });
  return options.sort((a, b) =>
    Number(b.available) - Number(a.available) ||
    Number(a.raisesTo !== undefined) - Number(b.raisesTo !== undefined) ||
    a.form.rank - b.form.rank,
  );
}

export interface FixAllResult extends RewriteResult {
  picks: Pick[];
  /** Incompatible nodes no form could fix, with the reason. */
  unfixed: { nodeId: string; node: string; why: string }[];
}

/** The best form for every incompatible PRelu node, applied as one transaction. */
export function fixAll(model: ModelProto, target: TargetProfile): FixAllResult {
  const findings = checkModel(model, target).filter((f) => INCOMPATIBLE.has(f.status));
  const prelus = findings.filter((f) => f.op === 'PRelu');
  const all = new Set(prelus.map((f) => f.nodeId));
  const picks: Pick[] = [];
  const unfixed: FixAllResult['unfixed'] = findings.filter((f) => f.op !== 'PRelu').map((f) => ({ nodeId: f.nodeId, node: f.node, why: `no rewrite for ${f.op}: ${f.reason}` }));
  for (const f of prelus) {
    const options = formsFor(model, f.nodeId, target, all);
    const best = options.find((o) => o.available);
    if (best) picks.push({ nodeId: f.nodeId, form: best.form.id });
    else {
      const byReason = new Map<string, string[]>();
      for (const o of options) byReason.set(o.reason ?? '', [...(byReason.get(o.reason ?? '') ?? []), o.form.label]);
      const why = [...byReason].map(([reason, forms]) => `${forms.join(', ')}: ${reason}`).join('; ');
      unfixed.push({ nodeId: f.nodeId, node: f.node, why: `no form is valid for this node on this target (${why})` });
    }
  }
  if (picks.length === 0) return { model, notes: [], picks, unfixed };
  return { ...applyRewrites(model, picks, target, { alsoRewritten: all }), picks, unfixed };
}
