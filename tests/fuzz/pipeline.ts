// What the app does with a file the user opens, minus React: read, attach (no) data files, check,
// build the canvas view and lay it out, save, and Fix all. A fuzz case passes when this ends in a
// model or a ModelReadError, within a time limit, and nothing else throws.
import { ModelReadError, encodeModel, readModel, writeModel } from '../../src/onnx/model';
import { connectDataFiles } from '../../src/onnx/external';
import { allGraphs } from '../../src/graph/scope';
import { graphView } from '../../src/graph/view';
import { layeredLayout } from '../../src/graph/layout';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { RewriteRefused } from '../../src/rewrites/engine';
import { fixAll } from '../../src/rewrites/choose';
import { rewriteBlockers } from '../../src/graph/validate';

export type Outcome = { kind: 'model'; nodes: number; findings: number } | { kind: 'error'; message: string; format?: string };

const ORT = findTarget('onnxruntime')!;
const NO_PRELU = findTarget('no-prelu')!;

/** Opens bytes as the app does; throws only on a failure the app would not turn into a message. */
export function openLikeTheApp(bytes: Uint8Array, name = 'fuzz.onnx', o: { fix?: boolean } = {}): Outcome {
  let model;
  try {
    model = readModel(bytes, name);
  } catch (e) {
    if (e instanceof ModelReadError) {
      if (!e.message.startsWith(name)) throw new Error(`a ModelReadError that does not name the file: ${e.message}`);
      return { kind: 'error', message: e.message, format: e.detectedFormat };
    }
    throw e;
  }
  connectDataFiles(model, name, []);
  const findings = checkModel(model, ORT);
  let nodes = 0;
  // Every graph the canvas can show (it draws one at a time), laid out as the layout worker does.
  for (const scope of allGraphs(model)) {
    const view = graphView(scope);
    nodes += view.nodes.length;
    layeredLayout({ nodes: view.nodes.map((n) => ({ id: n.id, width: 120, height: 40 })), edges: view.edges });
  }
  // Saving the unchanged model: the splice writer must agree with a plain re-encode.
  const saved = writeModel(model);
  const plain = encodeModel(model);
  if (saved.length !== plain.length || !saved.every((b, i) => b === plain[i])) throw new Error('writeModel and encodeModel disagree');
  // Fix all, as the store runs it: not on a model validate.ts says no rewrite can be correct for.
  if (o.fix && !rewriteBlockers(model)) {
    for (const target of [ORT, NO_PRELU]) {
      try {
        const r = fixAll(model, target);
        writeModel(r.model);
      } catch (e) {
        if (!(e instanceof RewriteRefused)) throw e;
      }
    }
  }
  return { kind: 'model', nodes, findings: findings.length };
}

/** Runs `f` and fails if it takes longer than `ms`. */
export function within<T>(ms: number, what: string, f: () => T): T {
  const t0 = performance.now();
  const out = f();
  const took = performance.now() - t0;
  if (took > ms) throw new Error(`${what} took ${Math.round(took)} ms (limit ${ms} ms)`);
  return out;
}
