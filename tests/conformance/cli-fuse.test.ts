// `opfit fuse` undoes a decomposition: minifasnet decomposed with max-min for no-prelu, fused back for
// onnxruntime, has its 33 PRelu again and ONNX Runtime gives the original's outputs.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModel } from '../../src/onnx/model';
import { cli, ensureCli } from '../helpers/cli';
import { SHARED } from '../helpers/paths';

const MODEL = join(SHARED, 'onnx/minifasnet-v2.onnx');
let dir: string;
beforeAll(() => {
  ensureCli();
  dir = mkdtempSync(join(tmpdir(), 'opfit-cli-fuse-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const count = (path: string, op: string) => readModel(new Uint8Array(readFileSync(path))).graph!.node.filter((n) => n.opType === op).length;

describe('opfit fuse', () => {
  it('folds 33 Max/Min decompositions back into PRelu, and the result verifies against the original', () => {
    const decomposed = join(dir, 'mm.onnx');
    const fused = join(dir, 'fused.onnx');
    expect(cli(['convert', MODEL, '--target', 'no-prelu', '--form', 'max-min', '-o', decomposed]).code).toBe(0);
    expect(count(decomposed, 'PRelu')).toBe(0);
    const r = cli(['fuse', decomposed, '--target', 'onnxruntime', '-o', fused]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fused 33 patterns into PRelu');
    expect(count(fused, 'PRelu')).toBe(33);
    expect(count(fused, 'Max')).toBe(0);
    expect(cli(['verify', MODEL, fused]).code).toBe(0);
  });

  it('fuses nothing for a target without PRelu, and says why', () => {
    const r = cli(['fuse', MODEL, '--target', 'no-prelu', '-o', join(dir, 'same.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('nothing fused, copied unchanged');
    expect(readFileSync(join(dir, 'same.onnx')).equals(readFileSync(MODEL))).toBe(true);
  });
});
