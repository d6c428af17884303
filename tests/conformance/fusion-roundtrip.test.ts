// Acceptance (fusion round trip): each published fixture model, decomposed with each PRelu-free
// form (Where, Max/Min, two-ReLU) and fused back for onnxruntime, has its original PRelu count
// again, every PRelu where it was (same output tensor, same node name, same slope values), passes
// onnx.checker, and computes exactly the original's outputs in ONNX Runtime.
import { readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ModelProto } from 'onnx-buf';
import { readModel, writeModel } from '../../src/onnx/model';
import { readTensorValues } from '../../src/onnx/tensor';
import { allGraphs, resolveTensor } from '../../src/graph/scope';
import { applyRewrites } from '../../src/rewrites/engine';
import { fuseAll } from '../../src/rewrites/fuse-all';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import type { FormId } from '../../src/rewrites/types';
import { randomFeeds, run } from '../helpers/ort';
import { fixtureModels } from '../helpers/paths';
import { checkModels } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';

const NO_PRELU = findTarget('no-prelu')!;
const ORT = findTarget('onnxruntime')!;
const FORMS: FormId[] = ['where', 'max-min', 'relu-neg'];
const dir = scratchDir('fusion-roundtrip');
const written: string[] = [];

/** Every PRelu: its output, its name, and its slope's values (read through any scope). */
function prelus(m: ModelProto): { output: string; name: string; slope: number[] | undefined }[] {
  return allGraphs(m).flatMap((scope) =>
    scope.graph.node.flatMap((n) => {
      if (n.opType !== 'PRelu') return [];
      const src = resolveTensor(scope, n.input[1]!);
      const slope = src.kind === 'initializer' || src.kind === 'constant' ? readTensorValues(src.tensor) : undefined;
      return [{ output: n.output[0]!, name: n.name, slope }];
    }),
  );
}

function ids(m: ModelProto): string[] {
  return checkModel(m, NO_PRELU).filter((f) => f.op === 'PRelu').map((f) => f.nodeId);
}

describe.each(fixtureModels().map((f) => [basename(f), f]))('%s', (name, file) => {
  const bytes = new Uint8Array(readFileSync(file));
  const orig = readModel(bytes, name);
  const before = prelus(orig);
  const feeds = randomFeeds(orig, 0xf00d + name.length);
  let want: Record<string, number[]> | undefined;

  it.each(FORMS)('decomposed with %s and fused back: same PRelu nodes, same outputs', async (form) => {
    expect(before.length).toBeGreaterThan(0);
    const decomposed = applyRewrites(orig, ids(orig).map((nodeId) => ({ nodeId, form })), NO_PRELU).model;
    expect(prelus(decomposed)).toEqual([]);
    const r = fuseAll(decomposed, ORT);
    expect(r.skipped).toEqual([]);
    expect(r.fused).toHaveLength(before.length);
    const after = prelus(r.model);
    const key = (p: { output: string }) => p.output;
    expect([...after].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...before].sort((a, b) => key(a).localeCompare(key(b))));
    // Nothing the decomposition added is left behind: the same node count as the original.
    expect(allGraphs(r.model).reduce((n, s) => n + s.graph.node.length, 0)).toBe(allGraphs(orig).reduce((n, s) => n + s.graph.node.length, 0));
    const out = writeModel(r.model);
    const f = join(dir, `${basename(name, '.onnx')}-${form}.onnx`);
    writeFileSync(f, out);
    written.push(f);
    want ??= await run(bytes, feeds);
    const got = await run(out, feeds);
    for (const o of Object.keys(want)) expect(got[o], o).toEqual(want[o]);
  });
});

afterAll(() => {
  const result = checkModels(written);
  expect(Object.entries(result).filter(([, e]) => e !== null)).toEqual([]);
});
