// Acceptance: the ONNX backend test corpus (Debian libonnx-testdata, ~1,070 models). Every model
// the onnxruntime target has nothing to rewrite in comes out of `opfit convert --target onnxruntime`
// byte-identical, and the core's readModel → writeModel round trip is byte-identical for each.
// The package missing is a failure (install it), unless OPFIT_ALLOW_MISSING_TESTDATA=1.
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { checkModel, INCOMPATIBLE } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { opTable } from '../../src/targets/op-tables';
import { allNodes } from '../helpers/build';
import { cliAsync, ensureCli } from '../helpers/cli';
import { TESTDATA, testdataModels } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';

const models = testdataModels();
const MISSING = `libonnx-testdata is not installed (no models under ${TESTDATA}). Install it with \`apt-get install libonnx-testdata\``;

if (models.length === 0) {
  if (process.env.OPFIT_ALLOW_MISSING_TESTDATA === '1') {
    console.warn(`SKIPPED testdata-roundtrip (OPFIT_ALLOW_MISSING_TESTDATA=1): ${MISSING}.`);
    describe.skip(`libonnx-testdata round trip — SKIPPED: package not installed (OPFIT_ALLOW_MISSING_TESTDATA=1)`, () => {
      it('round trips every model', () => {});
    });
  } else {
    describe('libonnx-testdata round trip', () => {
      it('needs the libonnx-testdata package', () => {
        throw new Error(`${MISSING}, or set OPFIT_ALLOW_MISSING_TESTDATA=1 to skip this test file.`);
      });
    });
  }
} else {
  describe('libonnx-testdata round trip', () => {
    const target = findTarget('onnxruntime')!;
    const dir = scratchDir('testdata');
    /** A unique file name per model: they are all called model.onnx, in <group>/<test>/. */
    const alias = (p: string) => `${basename(dirname(dirname(p)))}__${basename(dirname(p))}.onnx`;
    const bytes = new Map<string, Uint8Array>();
    const untouched: string[] = [];
    const toRewrite: string[] = [];

    beforeAll(() => {
      ensureCli();
      for (const p of models) {
        const b = new Uint8Array(readFileSync(p));
        bytes.set(p, b);
        const bad = checkModel(readModel(b, p), target).filter((f) => INCOMPATIBLE.has(f.status));
        (bad.length ? toRewrite : untouched).push(p);
      }
    });

    it('has the whole corpus', () => {
      expect(models.length, `only ${models.length} models under ${TESTDATA}; reinstall libonnx-testdata`).toBeGreaterThanOrEqual(1000);
    });

    it('readModel → writeModel is byte-identical for every model', () => {
      const differ = models.filter((p) => !Buffer.from(writeModel(readModel(bytes.get(p)!, p))).equals(Buffer.from(bytes.get(p)!)));
      expect(differ, `${differ.length} of ${models.length} models change on a round trip`).toEqual([]);
    });

    it('only PRelu models, and models ONNX Runtime has no kernel for, are flagged for onnxruntime', () => {
      // Since the whole-graph check, a non-PRelu model is flagged only by the ort-cpu op table, and
      // only with "unsupported": tests/conformance/ort-kernels.test.ts proves each such model is one
      // onnxruntime-node cannot create a session for (missing kernel), and no other.
      const tableSource = opTable('ort-cpu')!.source;
      const notPrelu = toRewrite.filter((p) => !allNodes(readModel(bytes.get(p)!)).some((n) => n.opType === 'PRelu'));
      const otherFindings = notPrelu.flatMap((p) =>
        checkModel(readModel(bytes.get(p)!, p), target)
          .filter((f) => INCOMPATIBLE.has(f.status) && (f.status !== 'unsupported' || f.source !== tableSource))
          .map((f) => `${p}: ${f.op} ${f.status}: ${f.reason}`),
      );
      expect(otherFindings).toEqual([]);
      expect(untouched.length).toBeGreaterThanOrEqual(1000);
    });

    it('opfit convert --target onnxruntime copies every untouched model byte for byte', async () => {
      const inDir = join(dir, 'in');
      const outDir = join(dir, 'out');
      mkdirSync(inDir, { recursive: true });
      const links = untouched.map((p) => {
        const link = join(inDir, alias(p));
        symlinkSync(p, link);
        return link;
      });
      // A few CLI processes with a few hundred models each, run side by side.
      const batches = 4;
      const size = Math.ceil(links.length / batches);
      const runs = await Promise.all(
        Array.from({ length: batches }, (_, i) => links.slice(i * size, (i + 1) * size))
          .filter((b) => b.length)
          .map((b) => cliAsync(['convert', ...b, '--target', 'onnxruntime', '--out-dir', outDir])),
      );
      for (const r of runs) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      const differ = untouched.filter((p) => !Buffer.from(readFileSync(join(outDir, alias(p)))).equals(Buffer.from(bytes.get(p)!)));
      expect(differ, `${differ.length} of ${untouched.length} outputs differ from their input`).toEqual([]);
    });
  });
}
