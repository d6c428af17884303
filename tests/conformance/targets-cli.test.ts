// Acceptance (issue 3, CLI): `opfit targets --json`, `opfit inspect MODEL --target ID,ID… --json`
// and `--target ./profile.json` for inspect and convert, run as a user would (the built CLI).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { preluModel } from '../helpers/build';
import { cli, ensureCli, type CliResult } from '../helpers/cli';
import { SHARED, backendTest } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';

const dir = scratchDir('targets-cli');
const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');
const MULTIPARAM = join(backendTest('test_PReLU_2d_multiparam'), 'model.onnx');
let openvinoRepro: string;

interface TargetJson { target: string; findings: { node: string; op: string; status: string; reason: string; source: string }[] }

const json = <T>(r: CliResult): T => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as T;
};

/** Exit 1, nothing on stdout, one stderr line; returns it. */
function oneLineFailure(r: CliResult): string {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
  return r.stderr.trim();
}

beforeAll(() => {
  ensureCli();
  // openvino#35958: X [1,3,2,3], slope [3].
  openvinoRepro = join(dir, 'openvino-35958.onnx');
  writeFileSync(openvinoRepro, writeModel(preluModel({ xShape: [1, 3, 2, 3], slopeShape: [3], slope: [0.1, 0.2, 0.3] })));
});

describe('opfit targets --json', () => {
  it('lists at least 25 targets, each {id, name, version, sources} with at least one source', () => {
    const targets = json<{ id: string; name: string; version: string; sources: string[] }[]>(cli(['targets', '--json']));
    expect(targets.length).toBeGreaterThanOrEqual(25);
    for (const t of targets) {
      expect(Object.keys(t).sort()).toEqual(['id', 'name', 'sources', 'version']);
      expect(t.name && t.version, t.id).toBeTruthy();
      expect(t.sources.length, t.id).toBeGreaterThanOrEqual(1);
    }
    const ids = targets.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['onnxruntime', 'tensorrt-5', 'tensorrt-8', 'no-prelu', 'openvino', 'ncnn', 'coreml-ios15', 'onnx-opset-7', 'onnx-opset-27']) expect(ids).toContain(id);
  });
  it('the text listing has one line per target', () => {
    const r = cli(['targets']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(json<unknown[]>(cli(['targets', '--json'])).length);
  });
});

describe('opfit inspect --target ID,ID…', () => {
  it('several targets: a JSON array of the per-target objects, in the order given', () => {
    const out = json<TargetJson[]>(cli(['inspect', MULTIPARAM, '--target', 'onnxruntime,tensorrt-8,openvino,no-prelu', '--json']));
    expect(out.map((o) => o.target)).toEqual(['onnxruntime', 'tensorrt-8', 'openvino', 'no-prelu']);
    for (const o of out) {
      expect(Object.keys(o).sort()).toEqual(['findings', 'target']);
      for (const f of o.findings) expect(Object.keys(f).sort()).toEqual(['node', 'op', 'reason', 'source', 'status']);
    }
    expect(out.map((o) => o.findings.map((f) => f.status))).toEqual([['unsupported'], ['differs'], [], ['unsupported']]);
  });
  it('one target keeps the single-object contract', () => {
    const out = json<TargetJson>(cli(['inspect', MULTIPARAM, '--target', 'openvino', '--json']));
    expect(out).toEqual({ target: 'openvino', findings: [] });
  });
  it('openvino#35958 (X [1,3,2,3], slope [3]): differs on OpenVINO and ncnn, fine on ONNX Runtime', () => {
    const out = json<TargetJson[]>(cli(['inspect', openvinoRepro, '--target', 'onnxruntime,openvino,ncnn', '--json']));
    expect(out[0]!.findings).toEqual([]);
    expect(out[1]!.findings).toMatchObject([{ op: 'PRelu', status: 'differs', reason: expect.stringMatching(/\[3\] on input \[1,3,2,3\]/), source: expect.stringMatching(/35958/) }]);
    expect(out[2]!.findings).toMatchObject([{ op: 'PRelu', status: 'differs' }]);
  });
  it('text output: one block per target', () => {
    const r = cli(['inspect', openvinoRepro, '--target', 'onnxruntime,openvino']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/0 nodes incompatible with ONNX Runtime/);
    expect(r.stdout).toMatch(/1 node incompatible with OpenVINO \(ONNX frontend\)\n {2}\[differs\] prelu \(PRelu\): /);
  });
  it('an unknown id anywhere in the list is a usage error', () => {
    const r = cli(['inspect', MULTIPARAM, '--target', 'onnxruntime,tpu-9000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown target "tpu-9000"/);
  });
});

/** The profile the app would export for an NPU that takes per-channel PRelu slopes only. */
const npu = {
  id: 'custom-my-npu',
  name: 'My NPU',
  version: 'custom',
  description: 'Per-channel PRelu only; Conv allowed.',
  sources: ['vendor datasheet rev 2'],
  unsupportedOps: [],
  allowOps: [{ op: 'Conv' }],
  prelu: [
    { kind: 'slope-constant', source: 'datasheet §4' },
    { kind: 'slope-layouts', allowed: ['channel'], source: 'datasheet §4.2' },
  ],
  ops: { kind: 'none' },
};

describe('--target ./profile.json', () => {
  it('inspect: the file is used as the target (its id in the JSON), allowOps and the PRelu rules apply', () => {
    const file = join(dir, 'my-npu.json');
    writeFileSync(file, JSON.stringify(npu, null, 2));
    const out = json<TargetJson>(cli(['inspect', join(SHARED, 'onnx/gtcrn-s3.onnx'), '--target', file, '--json']));
    expect(out.target).toBe('custom-my-npu');
    const prelus = out.findings.filter((f) => f.op === 'PRelu');
    expect(prelus).toHaveLength(15);
    for (const f of prelus) expect(f).toMatchObject({ status: 'constraint', source: 'datasheet §4.2', reason: expect.stringMatching(/Slope \[1,1,1\] .* is a single value; My NPU takes only one value per channel/) });
    expect(out.findings.some((f) => f.op === 'Conv')).toBe(false); // allowed
    expect(out.findings.filter((f) => f.op === 'Transpose').every((f) => f.status === 'unknown')).toBe(true);
  });
  it('a file and built-in ids mix in one list', () => {
    const file = join(dir, 'my-npu.json');
    writeFileSync(file, JSON.stringify(npu));
    const out = json<TargetJson[]>(cli(['inspect', MINIFASNET, '--target', `onnxruntime,${file}`, '--json']));
    expect(out.map((o) => o.target)).toEqual(['onnxruntime', 'custom-my-npu']);
    expect(out[1]!.findings.filter((f) => f.op === 'PRelu')).toEqual([]); // [C,1,1] is per channel
  });
  it('convert: rewrites what the profile rules out, and the output passes the same profile', () => {
    const file = join(dir, 'scalar-only.json');
    writeFileSync(file, JSON.stringify({ ...npu, id: 'custom-scalar-only', name: 'Scalar only', prelu: [{ kind: 'slope-layouts', allowed: ['scalar'], source: 'test' }] }));
    const out = join(dir, 'minifasnet.scalar-only.onnx');
    const r = cli(['convert', MINIFASNET, '--target', file, '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/33 changes/);
    const converted = readModel(new Uint8Array(readFileSync(out)));
    expect(converted.graph!.node.some((n) => n.opType === 'PRelu')).toBe(false);
    const again = json<TargetJson>(cli(['inspect', out, '--target', file, '--json']));
    expect(again.findings.filter((f) => f.status !== 'unknown')).toEqual([]);
  });

  const bad = (name: string, content: string) => {
    const file = join(dir, name);
    writeFileSync(file, content);
    return file;
  };
  it.each([
    ['a layout that does not exist', { ...npu, prelu: [{ kind: 'slope-layouts', allowed: ['channel', 'diagonal'], source: 's' }] }, 'prelu[0].allowed[1]'],
    ['no sources', { ...npu, sources: [] }, 'sources'],
    ['an unknown rule kind', { ...npu, prelu: [npu.prelu[0], { kind: 'slope-magic', source: 's' }] }, 'prelu[1].kind'],
    ['a bad ops spec', { ...npu, ops: { kind: 'table', table: 'ort-cpu', absent: 'maybe', source: 's' } }, 'ops.absent'],
  ])('inspect and convert refuse a profile with %s, naming "%s" in one line (exit 1)', (name, profile, field) => {
    const file = bad(`${name.replace(/\W+/g, '-')}.json`, JSON.stringify(profile));
    for (const args of [['inspect', MINIFASNET, '--target', file], ['convert', MINIFASNET, '--target', file, '-o', join(dir, 'never.onnx')]]) {
      const line = oneLineFailure(cli(args));
      expect(line).toContain(file);
      expect(line).toContain(`field "${field}"`);
    }
  });
  it('a file that is not JSON, and a missing file: one line, exit 1', () => {
    expect(oneLineFailure(cli(['inspect', MINIFASNET, '--target', bad('broken.json', '{"id": "x",')]))).toMatch(/broken\.json is not valid JSON/);
    expect(oneLineFailure(cli(['inspect', MINIFASNET, '--target', join(dir, 'nowhere.json')]))).toMatch(/cannot read target profile .*nowhere\.json: no such file/);
  });
  it('convert takes one target', () => {
    const r = cli(['convert', MINIFASNET, '--target', 'onnxruntime,no-prelu', '-o', join(dir, 'never.onnx')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/convert takes one target/);
  });
});
