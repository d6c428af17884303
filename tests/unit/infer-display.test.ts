// The canvas labels the tensors a rewrite adds with a dtype and shape worked out by
// src/graph/infer.ts. Oracle: ONNX's own shape inference (Debian python3-onnx) on the same
// rewritten models: every tensor we label must get the type and shape it infers.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { dtypeName } from '../../src/onnx/dtypes';
import { allGraphs, tensorFacts } from '../../src/graph/scope';
import { displayFacts } from '../../src/graph/infer';
import { fmtShape } from '../../src/graph/broadcast';
import { applyRewrites } from '../../src/rewrites/engine';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { FORMS } from '../../src/rewrites/registry';
import { OUT, SHARED } from '../helpers/paths';
import { PYTHON } from '../helpers/python';

const INFER = `
import json, sys, onnx
from onnx import shape_inference
out = {}
for path in sys.argv[1:]:
    m = shape_inference.infer_shapes(onnx.load(path))
    facts = {}
    for v in list(m.graph.value_info) + list(m.graph.output):
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField('dim_value') else None for d in t.shape.dim] if t.HasField('shape') else None
        facts[v.name] = [t.elem_type, dims]
    out[path] = facts
print(json.dumps(out))
`;

const MODELS = ['minifasnet-v2.onnx', 'face-landmark.onnx', 'gtcrn-s3.onnx'];
const label = (dtype: number | undefined, shape: readonly unknown[] | undefined) =>
  `${dtype === undefined ? '?' : dtypeName(dtype)}${shape ? fmtShape(shape as (number | null)[]) : ''}`;

describe('display facts of the tensors a rewrite adds', () => {
  it('agree with ONNX shape inference, for every form that applies, on real models', () => {
    const dir = join(OUT, 'infer-display');
    mkdirSync(dir, { recursive: true });
    const target = findTarget('no-prelu')!;
    const cases: { path: string; added: { name: string; mine: string }[] }[] = [];
    for (const file of MODELS) {
      const model = readModel(new Uint8Array(readFileSync(join(SHARED, 'onnx', file))), file);
      const before = new Set(allGraphs(model).flatMap((s) => s.graph.node.flatMap((n) => n.output)));
      const prelus = checkModel(model, target).filter((f) => f.op === 'PRelu');
      for (const form of FORMS) {
        let rewritten;
        try {
          rewritten = applyRewrites(model, prelus.map((f) => ({ nodeId: f.nodeId, form: form.id })), target).model;
        } catch {
          continue; // this form does not apply to this model (said elsewhere)
        }
        const path = join(dir, `${basename(file, '.onnx')}.${form.id}.onnx`);
        writeFileSync(path, writeModel(rewritten));
        const main = allGraphs(rewritten)[0]!;
        const added = main.graph.node.flatMap((n) => n.output).filter((o) => !before.has(o) && tensorFacts(main, o).dtype === undefined);
        cases.push({ path, added: added.map((name) => { const f = displayFacts(main, name); return { name, mine: label(f.dtype, f.shape) }; }) });
      }
    }
    expect(cases.length).toBeGreaterThanOrEqual(8);
    const inferred = JSON.parse(execFileSync(PYTHON, ['-c', INFER, ...cases.map((c) => c.path)], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Record<string, Record<string, [number, (number | null)[] | null]>>;
    let compared = 0;
    for (const c of cases) {
      for (const { name, mine } of c.added) {
        const ref = inferred[c.path]![name];
        if (!ref) continue; // ONNX could not infer it either (a shape it does not know): nothing to hold us to
        expect(mine, `${basename(c.path)} ${name}`).toBe(label(ref[0], ref[1] ?? undefined));
        compared++;
      }
    }
    // Real coverage: hundreds of new tensors across the forms, not a handful.
    expect(compared).toBeGreaterThan(200);
  });
});
