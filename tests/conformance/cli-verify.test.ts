// `opfit verify` and `opfit convert … --verify` through the built CLI, as a user runs them: a real
// conversion proves itself (exit 0), and a converted model whose numbers were tampered with fails
// (exit 1) — the check can fail.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { makeTensor, readTensorValues } from '../../src/onnx/tensor';
import { shallowCopy } from '../../src/graph/edit';
import { cli, ensureCli } from '../helpers/cli';
import { SHARED } from '../helpers/paths';

const MODEL = join(SHARED, 'onnx/minifasnet-v2.onnx');
let dir: string;
beforeAll(() => {
  ensureCli();
  dir = mkdtempSync(join(tmpdir(), 'opfit-cli-verify-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('opfit verify from the command line', () => {
  it('convert --verify proves a no-prelu conversion of minifasnet (exit 0)', () => {
    const out = join(dir, 'mf.onnx');
    const r = cli(['convert', MODEL, '--target', 'no-prelu', '-o', out, '--verify']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pass: The output agrees/m);
    expect(r.stdout).toMatch(/Every rewritten node passed the local check/);
  });

  it('verify --edge is inconclusive on the whole model (NaN everywhere), passes with --local, and fails once one slope value is changed', () => {
    const out = join(dir, 'mf.onnx');
    const edge = cli(['verify', MODEL, out, '--edge']);
    expect(edge.code).toBe(1);
    expect(edge.stderr).toMatch(/no number was compared.*--local/);
    // The output's own row says so too: NaN in both everywhere is not a pass.
    expect(edge.stdout).toMatch(/^ {2}\S+ +\S+ +\S+ +inconclusive {2}\(NaN in both at \d+\)$/m);
    expect(edge.stdout).not.toMatch(/ pass {2}\(NaN in both/);
    const local = cli(['verify', MODEL, out, '--edge', '--local']);
    expect(local.code).toBe(0);
    expect(local.stdout).toMatch(/^pass \(local check only\)/m);
    expect(cli(['verify', MODEL, out]).code).toBe(0);

    // Tamper: scale the slope of the first Mul that reads a weight.
    const model = readModel(new Uint8Array(readFileSync(out)));
    const g = model.graph!;
    const mul = g.node.find((n) => n.opType === 'Mul' && g.initializer.some((t) => t.name === n.input[0]))!;
    const slope = g.initializer.find((t) => t.name === mul.input[0])!;
    const values = readTensorValues(slope)!.map((v) => v * 1.5);
    const changed = makeTensor(slope.name, slope.dataType, slope.dims.map(Number), values);
    const tampered = shallowCopy(model, { graph: shallowCopy(g, { initializer: g.initializer.map((t) => (t === slope ? changed : t)) }) });
    const bad = join(dir, 'tampered.onnx');
    writeFileSync(bad, writeModel(tampered));

    const r = cli(['verify', MODEL, bad]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^opfit: verify failed/);
    expect(r.stdout).toMatch(/FAIL/);
  });

  it('usage errors exit 2', () => {
    expect(cli(['verify', MODEL]).code).toBe(2);
    expect(cli(['convert', MODEL, '--target', 'no-prelu', '-o', join(dir, 'x.onnx'), '--edge']).code).toBe(2);
  });
});
