// `opfit verify` (runVerifyCommand, wired into the CLI by src/cli/main.ts): per-output errors,
// exit 0 on pass, 1 on a difference or bad input (one clear line), 2 on usage errors.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { fixAll } from '../../src/rewrites/choose';
import { findTarget } from '../../src/targets/registry';
import { runVerifyCommand, type Io } from '../../src/cli/verify';
import { SHARED, backendTest } from '../helpers/paths';
import { PYTHON } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';
import { preluModel, DT } from '../helpers/build';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema } from 'onnx-buf';
import { shallowCopy } from '../../src/graph/edit';

const dir = scratchDir('verify-cli');
const NO_PRELU = findTarget('no-prelu')!;
const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');
const converted = join(dir, 'minifasnet.no-prelu.onnx');
writeFileSync(converted, writeModel(fixAll(readModel(new Uint8Array(readFileSync(MINIFASNET))), NO_PRELU).model));

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (s) => out.push(s), err: (s) => err.push(s) };
  const code = await runVerifyCommand(args, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('opfit verify', () => {
  it('passes minifasnet against its conversion, printing each output\'s errors and the seed', async () => {
    const r = await cli(MINIFASNET, converted, '--seed', '5');
    expect(r.code).toBe(0);
    expect(r.out).toContain('input.1          float32 [1,3,80,80]  random, seed 5');
    expect(r.out).toMatch(/max abs\s+max rel\s+result/);
    expect(r.out).toMatch(/\n {2}\S+\s+0\s+0\s+pass/);
    expect(r.out).toMatch(/^pass: (All \d+ outputs agree|The output agrees) within tolerance 1e-5/m);
    expect(r.err).toBe('');
  });

  it('--edge and --local: edge values, and every rewritten node checked on its own', async () => {
    const r = await cli(MINIFASNET, converted, '--edge', '--local');
    expect(r.code).toBe(0);
    expect(r.out).toContain('edge values (NaN, ±inf, −0.0, ±max, …) between random values, seed 1');
    expect(r.out.match(/: pass, max abs 0, max rel 0/g)).toHaveLength(33);
    // NaN reaches every output value of this convolutional model, so the whole-model comparison is
    // inconclusive; the pass comes from the 33 node-by-node checks, and says so.
    expect(r.out).toMatch(/^pass \(local check only\): every value of .* is NaN in both models/m);
    expect(r.out).toContain('Every rewritten node matches the original node on its own.');
  });

  it('exits 1 on a difference, naming the output and the worst value', async () => {
    const a = join(dir, 'a.onnx');
    const b = join(dir, 'b.onnx');
    writeFileSync(a, writeModel(preluModel({ xShape: [4, 3], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 13 })));
    writeFileSync(b, writeModel(preluModel({ xShape: [4, 3], slopeShape: [3], slope: [0.1, 0.2, 0.35], opset: 13 })));
    const r = await cli(a, b, '--tolerance', '1e-3');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/ {2}y\s+\S+\s+\S+\s+FAIL {2}\(\d+ of 12 values outside tolerance; worst at \[\d+\]: original −[\d.]+, converted −[\d.]+\)/);
    expect(r.err).toBe('opfit: verify failed: 1 of 1 output differs beyond tolerance 1e-3: y.');
  });

  it('an original ONNX Runtime cannot run: exit 1 and why, unless --local proves every node against its meaning', async () => {
    const a = join(dir, 'nchw-c.onnx');
    const b = join(dir, 'nchw-c.no-prelu.onnx');
    const m = preluModel({ xShape: [1, 3, 4, 5], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 9 });
    writeFileSync(a, writeModel(m));
    writeFileSync(b, writeModel(fixAll(m, NO_PRELU).model));
    const r = await cli(a, b);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/the original model cannot run in ONNX Runtime: .*broadcast/i);
    expect(r.err).toContain('Run again with --local.');
    const local = await cli(a, b, '--local');
    expect(local.code).toBe(0);
    expect(local.out).toContain('pass (against the intended meaning)');
    expect(local.out).toContain('pass (local check only): the original model cannot run in ONNX Runtime');
  });

  it('--inputs: the ONNX backend test\'s own input_0.pb, and a .npy file written by NumPy, matched by name', async () => {
    const t = backendTest('test_prelu_broadcast');
    const conv = join(dir, 'prelu_broadcast.no-prelu.onnx');
    writeFileSync(conv, writeModel(fixAll(readModel(new Uint8Array(readFileSync(join(t, 'model.onnx')))), NO_PRELU).model));
    const pbs = ['input_0.pb', 'input_1.pb'].map((f) => join(t, 'test_data_set_0', f));
    const r = await cli(join(t, 'model.onnx'), conv, '--inputs', ...pbs, '--tolerance', '0');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`x                float32 [3,4,5]  ${pbs[0]}`);
    expect(r.out).toContain(`slope            float32 [5]  ${pbs[1]}`);

    execFileSync(PYTHON, ['-c', 'import sys, numpy as np; np.save(sys.argv[1], np.linspace(-3, 3, 60, dtype=np.float32).reshape(3, 4, 5))', join(dir, 'x.npy')]);
    copyFileSync(pbs[1]!, join(dir, 'slope.pb'));
    const n = await cli(join(t, 'model.onnx'), conv, '--inputs', join(dir, 'slope.pb'), join(dir, 'x.npy'));
    expect(n.code).toBe(0);
    expect(n.out).toContain(`x                float32 [3,4,5]  ${join(dir, 'x.npy')}`);
  });

  it('a slope kept in an external data file: both models load beside it, and the local check reads it', async () => {
    const slope = Float32Array.of(0.1, -0.2, 0.3, 2);
    const m = preluModel({ xShape: [1, 4, 3, 3], slopeShape: [4, 1, 1], slope: Array.from(slope), opset: 13 });
    const t = m.graph!.initializer[0]!;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    m.graph!.initializer[0] = shallowCopy(t, { rawData: new Uint8Array(0), dataLocation: 1, externalData: [entry('location', 'slopes.bin'), entry('offset', '0'), entry('length', '16')] });
    const a = join(dir, 'ext.onnx');
    const b = join(dir, 'ext.no-prelu.onnx');
    writeFileSync(join(dir, 'slopes.bin'), new Uint8Array(slope.buffer));
    writeFileSync(a, writeModel(m));
    writeFileSync(b, writeModel(fixAll(m, NO_PRELU).model));
    const r = await cli(a, b, '--local', '--edge');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/prelu: pass, max abs 0, max rel 0 — the Less, Mul, Where nodes against the original PRelu node/);
    expect(m.graph!.initializer[0]!.dataType).toBe(DT.FLOAT);
  });

  it('bad input: one clear line and exit 1', async () => {
    const missing = await cli(MINIFASNET, join(dir, 'nope.onnx'));
    expect(missing).toMatchObject({ code: 1, err: `opfit: cannot read ${join(dir, 'nope.onnx')}: no such file` });
    const wrong = await cli(MINIFASNET, converted, '--inputs', join(backendTest('test_prelu_broadcast'), 'test_data_set_0', 'input_1.pb'));
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/^opfit: .*input_1\.pb has shape \[5\], but input input\.1 has rank 4/);
    expect(wrong.err.split('\n')).toHaveLength(1);
    const notTensor = await cli(MINIFASNET, converted, '--inputs', MINIFASNET);
    expect(notTensor.code).toBe(1);
    expect(notTensor.err).toMatch(/^opfit: .*minifasnet-v2\.onnx is neither a NumPy \.npy file nor an ONNX TensorProto \.pb file/);
  });

  it('usage errors: exit 2 with the usage', async () => {
    for (const args of [[MINIFASNET], [MINIFASNET, converted, '--seed', '-1'], [MINIFASNET, converted, '--bogus'], [MINIFASNET, converted, '--inputs']]) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain('usage:\n  opfit verify ORIGINAL CONVERTED');
    }
  });

  it('a bad value: exit 2 and one line saying what is wrong, without the usage', async () => {
    for (const [args, message] of [
      [[MINIFASNET, converted, '--tolerance', 'x'], 'opfit: --tolerance takes a number ≥ 0, not "x"'],
      [[MINIFASNET, converted, '--seed', '1.5'], 'opfit: --seed takes a whole number from 0 to 4294967295, not "1.5"'],
      [[MINIFASNET, converted, '--dim', 'N'], 'opfit: --dim takes NAME=SIZE, not "N"'],
    ] as const) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toBe(message);
    }
  });

  it('two models that do not take the same inputs: bad input (exit 1), said plainly, nothing run', async () => {
    const a = join(dir, 'in-a.onnx');
    const b = join(dir, 'in-b.onnx');
    const c = join(dir, 'in-c.onnx');
    writeFileSync(a, writeModel(preluModel({ xShape: [2, 3], slopeShape: [3], slope: [1, 2, 3], opset: 13 })));
    writeFileSync(b, writeModel(preluModel({ xShape: [2, 3], slopeShape: [3], slope: [1, 2, 3], opset: 13, dtype: DT.DOUBLE })));
    writeFileSync(c, writeModel(preluModel({ xShape: ['N', 3], slopeShape: [3], slope: [1, 2, 3], opset: 13 })));
    const r = await cli(a, b);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(`opfit: the two models do not take the same inputs: input x is float32 in ${a} and float64 in ${b}; verify compares a model with its conversion, which takes the same inputs`);
    // A symbolic dimension matches a fixed one: compared as usual.
    expect((await cli(a, c)).code).toBe(0);
  });
});
