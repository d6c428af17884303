// Acceptance: every published fixture model (../shared/fixtures/onnx, see its SOURCES.md) converted
// by the CLI for the no-prelu target has no PRelu left in any graph, passes the reference checker
// (python3-onnx's onnx.checker.check_model) and computes the same outputs in ONNX Runtime as the
// original on seeded random inputs. For onnxruntime, models without findings come out byte-identical.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ModelProto } from 'onnx-buf';
import { readModel } from '../../src/onnx/model';
import { checkModel } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { allNodes } from '../helpers/build';
import { cliAsync, ensureCli } from '../helpers/cli';
import { maxRelError, randomFeeds, run } from '../helpers/ort';
import { fixtureModels } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';
import { checkModels } from '../helpers/python';

const models = fixtureModels();
const dir = scratchDir('fixtures');
const outOf = (target: string, src: string) => join(dir, target, basename(src));

/** Nodes of every graph, subgraphs and model-local functions included. */
function opsEverywhere(m: ModelProto): string[] {
  return [...allNodes(m), ...m.functions.flatMap((f) => f.node)].map((n) => n.opType);
}

let checker: Record<string, string | null> = {};

beforeAll(async () => {
  ensureCli();
  // One CLI invocation per target, all models at once; both run side by side.
  const runs = await Promise.all(
    ['no-prelu', 'onnxruntime'].map((t) => cliAsync(['convert', ...models, '--target', t, '--out-dir', join(dir, t)])),
  );
  for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 0 });
  checker = checkModels(models.map((m) => outOf('no-prelu', m)));
});

describe('fixture models → no-prelu, checked by onnx.checker and ONNX Runtime', () => {
  it('has the five published fixture models', () => {
    expect(models.map((m) => basename(m))).toEqual([
      'face-landmark.onnx', 'gtcrn-full.onnx', 'gtcrn-s3.onnx', 'gtcrn-simple.onnx', 'minifasnet-v2.onnx',
    ]);
  });

  for (const src of models) {
    const name = basename(src);
    it(`${name}: PRelu gone, checker passes, same outputs`, async () => {
      const origBytes = new Uint8Array(readFileSync(src));
      const orig = readModel(origBytes, name);
      expect(opsEverywhere(orig)).toContain('PRelu'); // otherwise this fixture proves nothing

      const outBytes = new Uint8Array(readFileSync(outOf('no-prelu', src)));
      const out = readModel(outBytes, name);
      expect(opsEverywhere(out)).not.toContain('PRelu');
      expect(checkModel(out, findTarget('no-prelu')!)).toEqual([]);
      expect(checker[outOf('no-prelu', src)], 'onnx.checker.check_model').toBeNull();

      const feeds = randomFeeds(orig, 0x5eed + name.length);
      const [want, got] = await Promise.all([run(origBytes, feeds), run(outBytes, feeds)]);
      const outputs = orig.graph!.output.map((o) => o.name);
      expect(Object.keys(got).sort()).toEqual([...outputs].sort());
      for (const o of outputs) {
        expect(want[o]!.some(Number.isFinite), `${o} has finite values (else the comparison proves nothing)`).toBe(true);
        expect(maxRelError(got[o]!, want[o]!), `output ${o}`).toBeLessThanOrEqual(1e-4);
      }
    });
  }
});

describe('fixture models → onnxruntime', () => {
  for (const src of models) {
    const name = basename(src);
    it(`${name}: no findings, so the output is byte-identical`, () => {
      const bytes = new Uint8Array(readFileSync(src));
      expect(checkModel(readModel(bytes, name), findTarget('onnxruntime')!)).toEqual([]);
      expect(Buffer.from(readFileSync(outOf('onnxruntime', src))).equals(Buffer.from(bytes))).toBe(true);
    });
  }
});
