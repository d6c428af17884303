// Property: for generated PRelu models — ranks 1–5, every legal slope shape, float32/float64/
// float16/bfloat16/int32/int64/uint32/uint64, slopes as initializer, initializer listed as input,
// Constant node, graph input, shared by two PRelu nodes or stored as external data, the node in the
// main graph, an If branch, a Loop body or a model-local function, opsets 7–21 — every form the
// engine offers gives a model that
//   - is well formed (unique producers, no dangling node, no unused constant it added, value_info
//     only for tensors that exist, the outputs' names kept),
//   - passes onnx.checker.check_model (python3-onnx 1.12, which knows opsets ≤ 17),
//   - computes in ONNX Runtime what the original computes: exactly for `where` (NaN, ±inf and −0.0
//     inputs included; the one allowance is ORT's Where kernel returning +0 for a selected −0, see
//     rewrite-forms.test.ts), within 1 ulp on finite inputs for the others.
// Every decomposition is also fused back for onnxruntime (fusion round trip on generated models).
// The original runs in ORT where ORT has a PRelu for it; otherwise (opset < 16 for non-float32
// types) the reference is x < 0 ? slope·x : x computed here in the model's own precision.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as ort from 'onnxruntime-node';
import type { ModelProto } from 'onnx-buf';
import { writeModel } from '../../src/onnx/model';
import { allGraphs, nodeId } from '../../src/graph/scope';
import { applyRewrites, RewriteRefused } from '../../src/rewrites/engine';
import { fuseAll } from '../../src/rewrites/fuse-all';
import { FORMS } from '../../src/rewrites/registry';
import type { FormId } from '../../src/rewrites/types';
import { findTarget } from '../../src/targets/registry';
import { DT } from '../helpers/build';
import { checkModels } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';
import { build, caseArb, describeCase, ortTensor, reference, runModel, ulps, xValues, type Case } from './prelu-cases';

const NO_PRELU = findTarget('no-prelu')!;
const ORT_TARGET = findTarget('onnxruntime')!;
const scratch = scratchDir('property-forms');
const NUM_RUNS = Number(process.env.OPFIT_PROPERTY_RUNS ?? 300);

// ---- well-formedness --------------------------------------------------------------------------

function wellFormed(before: ModelProto, after: ModelProto): string[] {
  const problems: string[] = [];
  const oldInits = new Set(allGraphs(before).flatMap((s) => s.graph.initializer.map((t) => t.name)));
  for (const scope of allGraphs(after)) {
    const g = scope.graph;
    const produced = new Map<string, number>();
    for (const n of g.node) for (const o of n.output) if (o) produced.set(o, (produced.get(o) ?? 0) + 1);
    for (const [name, count] of produced) if (count > 1) problems.push(`${name} has ${count} producers`);
    for (const n of g.node) {
      for (const o of n.output) if (o && !scope.consumers.has(o) && !scope.outputs.has(o)) problems.push(`node ${n.name || n.opType} output ${o} is used by nothing`);
    }
    for (const t of g.initializer) if (!oldInits.has(t.name) && !scope.consumers.has(t.name)) problems.push(`new initializer ${t.name} is unused`);
    const known = new Set([...produced.keys(), ...scope.inputs, ...scope.initializers.keys()]);
    for (let p = scope.parent; p; p = p.parent) [...p.producer.keys(), ...p.inputs, ...p.initializers.keys()].forEach((k) => known.add(k));
    for (const v of g.valueInfo) if (!known.has(v.name)) problems.push(`value_info for ${v.name}, which no longer exists`);
  }
  const outs = (m: ModelProto) => m.graph!.output.map((o) => o.name);
  if (outs(after).join() !== outs(before).join()) problems.push('graph outputs renamed');
  return problems;
}

// ---- the property -------------------------------------------------------------------------------

const toCheck: { file: string; what: string }[] = [];
const stats = { fused: 0, fuseRefusedByTarget: 0, cases: 0, converted: 0, compared: 0, exactWhere: 0, byForm: {} as Record<string, number>, notRunnable: 0 };
let caseNo = 0;

describe('every offered form keeps PRelu\'s function (fast-check)', () => {
  it(`${NUM_RUNS} generated models`, async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const dir = join(scratch, `c${caseNo++}`);
        mkdirSync(dir, { recursive: true });
        const m = build(c, dir);
        const origFile = join(dir, 'orig.onnx');
        writeFileSync(origFile, writeModel(m));
        stats.cases++;
        const n = c.xShape.reduce((a, b) => a * b, 1);
        const x = xValues(c, n);
        const runnable = c.dtype !== DT.BFLOAT16;
        const feeds = (): Record<string, ort.Tensor> => ({
          x: ortTensor(c.dtype, x, c.xShape),
          ...(c.source === 'graph-input' ? { slope: ortTensor(c.dtype, c.slope, c.slopeShape) } : {}),
          ...(c.where === 'if' ? { cond: new ort.Tensor('bool', Uint8Array.from([1]), []) } : {}),
        });
        const times = c.source === 'shared' ? 2 : 1;
        let want: number[] | undefined;
        if (runnable) {
          const orig = await runModel(origFile, feeds());
          want = typeof orig === 'string' ? reference(c, x, times) : orig;
          if (typeof orig !== 'string' && c.dtype === DT.FLOAT) {
            // The oracle agrees with the definition (ORT's own PRelu, float32).
            const ref = reference(c, x, times);
            expect(orig.every((v, i) => Object.is(v, ref[i]) || (Number.isNaN(v) && Number.isNaN(ref[i]!))), describeCase(c)).toBe(true);
          }
        }
        let offered = 0;
        for (const form of FORMS) {
          const target = form.id === 'reshape-slope' ? ORT_TARGET : NO_PRELU;
          const ids = prelusOf(m);
          let out: ModelProto;
          try {
            out = applyRewrites(m, ids.map((nodeId) => ({ nodeId, form: form.id })), target).model;
          } catch (e) {
            if (e instanceof RewriteRefused) continue;
            throw e;
          }
          offered++;
          stats.converted++;
          stats.byForm[form.id] = (stats.byForm[form.id] ?? 0) + 1;
          expect(wellFormed(m, out), `${form.id}: ${describeCase(c)}`).toEqual([]);
          const file = join(dir, `${form.id}.onnx`);
          writeFileSync(file, writeModel(out));
          const opset = Number(out.opsetImport.find((o) => o.domain === '')!.version);
          if (opset <= 17 && out.irVersion <= 8n) toCheck.push({ file, what: `${form.id}: ${describeCase(c)}` });
          if (form.id === 'where' || form.id === 'max-min' || form.id === 'relu-neg') await fuseBack(c, m, out, `${form.id}`, dir, want, feeds);
          if (!want) continue;
          const got = await runModel(file, feeds());
          if (typeof got === 'string') {
            // Only a missing kernel excuses a model from the numeric check; anything else is a bug.
            expect(got, `${form.id}: ${describeCase(c)}`).toMatch(/Could not find an implementation/);
            stats.notRunnable++;
            continue;
          }
          stats.compared++;
          const bad = compare(form.id, c, x, got, want);
          expect(bad, `${form.id}: ${describeCase(c)}`).toEqual([]);
          if (form.id === 'where') stats.exactWhere++;
        }
        // Where exists from opset 9 for every type here (bfloat16 from 16): with nothing else in
        // the model to hold a raise back, it must always be offered.
        const whereOk = c.dtype !== DT.BFLOAT16 || c.opset >= 16;
        if (whereOk && !(c.where === 'function' && c.opset < 9 && c.source === 'constant')) expect(offered, describeCase(c)).toBeGreaterThan(0);
      }),
      { numRuns: NUM_RUNS, seed: 20261203, endOnFailure: true, verbose: 2 },
    );
    // The run must have proved something for each form and type family.
    expect(stats.compared).toBeGreaterThan(NUM_RUNS);
    for (const f of ['where', 'max-min', 'relu-neg', 'leaky'] satisfies FormId[]) expect(stats.byForm[f], f).toBeGreaterThan(0);
  }, 120_000);
});

/**
 * Fusion round trip on the generated model: the decomposed form fused back for onnxruntime has the
 * original PRelu count (unless the target would not run the PRelu, which must be the reason given),
 * is well formed, passes the checker and computes exactly the original's outputs.
 */
async function fuseBack(c: Case, orig: ModelProto, decomposed: ModelProto, label: string, dir: string, want: number[] | undefined, feeds: () => Record<string, ort.Tensor>): Promise<void> {
  const r = fuseAll(decomposed, ORT_TARGET);
  const what = `fuse after ${label}: ${describeCase(c)}`;
  const count = prelusOf(orig).length;
  if (r.fused.length < count) {
    expect(r.skipped.map((s) => s.why).filter((why) => !why.startsWith('fused, it would be a PRelu')), what).toEqual([]);
    stats.fuseRefusedByTarget++;
    return;
  }
  stats.fused++;
  expect(r.fused.length, what).toBe(count);
  expect(prelusOf(r.model).length, what).toBe(count);
  expect(wellFormed(orig, r.model), what).toEqual([]);
  const file = join(dir, `${label}-fused.onnx`);
  writeFileSync(file, writeModel(r.model));
  const opset = Number(r.model.opsetImport.find((o) => o.domain === '')!.version);
  if (opset <= 17 && r.model.irVersion <= 8n) toCheck.push({ file, what });
  if (!want) return;
  const got = await runModel(file, feeds());
  if (typeof got === 'string') return void expect(got, what).toMatch(/Could not find an implementation/);
  expect(got.every((v, i) => Object.is(v, want[i]) || (Number.isNaN(v) && Number.isNaN(want[i]!))), what).toBe(true);
}

function prelusOf(m: ModelProto): string[] {
  return allGraphs(m).flatMap((s) => s.graph.node.flatMap((n, i) => (n.opType === 'PRelu' ? [nodeId(s.path, i)] : [])));
}

function compare(form: FormId, c: Case, x: number[], got: number[], want: number[]): string[] {
  const bad: string[] = [];
  const exact = form === 'where' || form === 'leaky' || form === 'reshape-slope';
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if (Object.is(g, w) || (Number.isNaN(g) && Number.isNaN(w))) continue;
    if (exact) {
      // ONNX Runtime's Where returns +0 for a selected −0 (a zero slope and x < 0).
      if (form === 'where' && Object.is(w, -0) && Object.is(g, 0) && x[i]! < 0) continue;
      bad.push(`x=${x[i]}: want ${Object.is(w, -0) ? '-0' : w}, got ${Object.is(g, -0) ? '-0' : g}`);
      continue;
    }
    // The others: only finite inputs count, within 1 ulp (so +0 and −0 are equal).
    if (!Number.isFinite(x[i]!)) continue;
    if (ulps(c.dtype, g, w) > 1) bad.push(`x=${x[i]}: want ${w}, got ${g}`);
  }
  return bad;
}

afterAll(() => {
  // One python process for every converted model the checker knows the opset of.
  const result = checkModels(toCheck.map((t) => t.file));
  const failed = toCheck.filter((t) => result[t.file] !== null).map((t) => `${t.what}: ${result[t.file]}`);
  expect(failed).toEqual([]);
  expect(toCheck.length).toBeGreaterThan(NUM_RUNS / 2);
  console.log(`property: ${stats.cases} models, ${stats.converted} conversions (${JSON.stringify(stats.byForm)}), ${stats.compared} compared in ORT, ${stats.notRunnable} without an ORT kernel, ${toCheck.length} checked by onnx.checker; fusion round trips: ${stats.fused} fused back, ${stats.fuseRefusedByTarget} left decomposed because onnxruntime would not run the PRelu`);
  expect(stats.fused).toBeGreaterThan(NUM_RUNS / 2);
});
