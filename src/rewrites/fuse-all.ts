// fuseAll, the fusion transaction: fusion.ts finds the decomposed PReLU patterns and fuses them
// graph by graph; this applies them to the whole model and keeps only the PRelu nodes the target runs.
import type { ModelProto } from 'onnx-buf';
import { replaceGraphAt } from '../graph/edit';
import { allGraphs, pathKey } from '../graph/scope';
import { checkModel, INCOMPATIBLE } from '../targets/check';
import type { TargetProfile } from '../targets/types';
import { findFusions, fuseGraph, type FusionKind, type FusionMatch } from './fusion';
import { allNames, blockerOf, RewriteRefused, type RewriteResult } from './engine';

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
