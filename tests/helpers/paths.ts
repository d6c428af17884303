// Where the tests find their real inputs. ../shared holds published models (see its SOURCES.md);
// Debian's libonnx-testdata holds ONNX's backend test corpus.
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
/**
 * The shared fixtures: OPFIT_FIXTURES if set, else ../shared/fixtures beside the checkout, else the
 * workplace's /work/shared/fixtures (a clone made elsewhere, e.g. in /tmp, still finds them).
 */
export const SHARED = [process.env.OPFIT_FIXTURES, resolve(ROOT, '../shared/fixtures'), '/work/shared/fixtures']
  .filter((p): p is string => !!p)
  .find((p) => existsSync(join(p, 'SOURCES.md'))) ?? resolve(ROOT, '../shared/fixtures');
export const CLI = join(ROOT, 'dist-cli/opfit.mjs');
export const OUT = join(ROOT, 'tests/.out');
/** libonnx-testdata's corpus; OPFIT_TESTDATA points elsewhere (e.g. to try the "not installed" path). */
export const TESTDATA = process.env.OPFIT_TESTDATA ?? '/usr/share/libonnx-testdata/data';

export const backendTest = (name: string) => join(SHARED, 'onnx-backend', name);

export function backendPreluTests(): string[] {
  return readdirSync(join(SHARED, 'onnx-backend')).filter((d) => /^test_prelu_/i.test(d)).sort();
}

export function fixtureModels(): string[] {
  return readdirSync(join(SHARED, 'onnx')).filter((f) => f.endsWith('.onnx')).sort().map((f) => join(SHARED, 'onnx', f));
}

/** Every model.onnx in libonnx-testdata, or [] when the package is not installed. */
export function testdataModels(): string[] {
  if (!existsSync(TESTDATA)) return [];
  const out: string[] = [];
  for (const group of readdirSync(TESTDATA)) {
    for (const test of readdirSync(join(TESTDATA, group))) {
      const m = join(TESTDATA, group, test, 'model.onnx');
      if (existsSync(m)) out.push(m);
    }
  }
  return out.sort();
}
