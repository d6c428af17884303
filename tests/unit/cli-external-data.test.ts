// The built CLI (dist-cli/opfit.mjs) on models that keep their weights in external data files, as a
// user runs it: inspect, convert, fuse and verify open the .onnx and read from the data file only
// the values a check or rewrite needs; a converted model keeps its references, and saved into
// another folder finds its data file there (hard-linked, else copied; a different file already
// there is never overwritten); a missing data file is one line naming it. Oracles: python3-onnx's
// checker and ONNX Runtime loading each model from its path, the data file beside it.
import { existsSync, mkdirSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync, openSync, writeSync, closeSync, copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { allModelTensors, externalRef } from '../../src/onnx/external';
import { shallowCopy } from '../../src/graph/edit';
import { cli, ensureCli } from '../helpers/cli';
import { DT, graph, makeTensor, model, node, preluModel, valueInfo } from '../helpers/build';
import { maxRelError, randomFeeds, SESSION_OPTIONS } from '../helpers/ort';
import { checkModels } from '../helpers/python';
import { scratchDir } from '../helpers/scratch';

const dir = scratchDir('cli-external');
const DATA = 'net.onnx.data';

beforeAll(() => ensureCli());

/** Moves every initializer's raw_data into one data file at 64-byte-aligned offsets (as exporters do). */
function externalize(m: ModelProto, location: string, base = 0): { model: ModelProto; data: Uint8Array } {
  const parts: Uint8Array[] = [];
  let size = 0;
  const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
  const move = (t: TensorProto): TensorProto => {
    const offset = Math.ceil(size / 64) * 64;
    if (offset > size) parts.push(new Uint8Array(offset - size));
    parts.push(t.rawData);
    size = offset + t.rawData.length;
    return shallowCopy(t, {
      rawData: new Uint8Array(0), dataLocation: 1,
      externalData: [entry('location', location), entry('offset', String(base + offset)), entry('length', String(t.rawData.length))],
    });
  };
  const g = m.graph!;
  const out = shallowCopy(m, { graph: shallowCopy(g, { initializer: g.initializer.map(move) }) });
  const data = new Uint8Array(size);
  let o = 0;
  for (const p of parts) { data.set(p, o); o += p.length; }
  return { model: out, data };
}

/** Conv 3×3 (C→C) → PRelu([C,1,1]) → Conv → PRelu, every weight (slopes too) in `net.onnx.data`. */
function convPrelu(): ModelProto {
  const C = 4;
  let seed = 3;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const w = (n: number) => Array.from({ length: n }, rnd);
  const conv = (i: number, x: string) => node('Conv', [x, `w${i}`, `b${i}`], [`c${i}`], { name: `conv${i}` });
  const prelu = (i: number) => node('PRelu', [`c${i}`, `s${i}`], [i === 1 ? 'y' : `p${i}`], { name: `prelu${i}` });
  return model(graph({
    nodes: [conv(0, 'x'), prelu(0), conv(1, 'p0'), prelu(1)],
    inputs: [valueInfo('x', DT.FLOAT, [1, C, 6, 6])],
    outputs: [valueInfo('y', DT.FLOAT, [1, C, 2, 2])],
    initializers: [0, 1].flatMap((i) => [
      makeTensor(`w${i}`, DT.FLOAT, [C, C, 3, 3], w(C * C * 9)),
      makeTensor(`b${i}`, DT.FLOAT, [C], w(C)),
      makeTensor(`s${i}`, DT.FLOAT, [C, 1, 1], w(C).map((v) => 0.25 + v / 10)),
    ]),
  }), 16);
}

/** Writes model + data file into `sub` and returns the model's path. */
function save(sub: string, name: string, m: ModelProto, data: Uint8Array, location = DATA): string {
  const d = join(dir, sub);
  mkdirSync(d, { recursive: true });
  writeFileSync(join(d, location), data);
  writeFileSync(join(d, name), writeModel(m));
  return join(d, name);
}

async function runPath(path: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const s = await ort.InferenceSession.create(path, SESSION_OPTIONS);
  try {
    const r = await s.run(feeds);
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
  } finally {
    await s.release();
  }
}

const refs = (path: string) =>
  allModelTensors(readModel(new Uint8Array(readFileSync(path)))).map((t) => [t.name, externalRef(t)] as const).filter(([, r]) => r);
const oneLine = (s: string) => s.trim().split('\n');

describe('convert and verify a model whose weights are in a data file', () => {
  const { model: m, data } = externalize(convPrelu(), DATA);
  const input = save('in', 'net.onnx', m, data);
  const feeds = randomFeeds(m, 11);

  it('convert --out-dir: every weight stays external, the data file is linked beside the output, checker and ONNX Runtime agree', async () => {
    const out = join(dir, 'out');
    const r = cli(['convert', input, '--target', 'no-prelu', '--out-dir', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`${input} → ${join(out, 'net.onnx')}: 2 changes`);
    expect(r.stdout).toContain(`  data file ${DATA}: hard-linked into ${out} (no extra disk space; the same file as ${join(dir, 'in', DATA)})`);
    const converted = join(out, 'net.onnx');
    // The references are those of the original, byte for byte the same data file (one inode).
    const before = new Map(refs(input).map(([n, ref]) => [n, JSON.stringify(ref)]));
    const after = refs(converted);
    expect(after.length).toBe(6);
    for (const [name, ref] of after) expect(JSON.stringify(ref), name).toBe(before.get(name));
    expect(statSync(join(out, DATA)).ino).toBe(statSync(join(dir, 'in', DATA)).ino);
    expect(readModel(new Uint8Array(readFileSync(converted))).graph!.node.some((n) => n.opType === 'PRelu')).toBe(false);
    expect(checkModels([converted])[converted]).toBeNull();
    const want = await runPath(input, feeds);
    const got = await runPath(converted, feeds);
    expect(maxRelError(got.y!, want.y!)).toBeLessThan(1e-6);

    // Again into the same folder: the data file there is the same one, left alone.
    const again = cli(['convert', input, '--target', 'no-prelu', '--out-dir', out]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`  data file ${DATA}: already in ${out}, the same data`);
  });

  it('opfit verify: the original against the converted model, both loaded with their data files (exit 0, --local reads the slopes)', () => {
    const r = cli(['verify', input, join(dir, 'out', 'net.onnx'), '--local']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pass: The output agrees within tolerance 1e-5/m);
    expect(r.stdout).toMatch(/prelu0: pass, max abs 0, max rel 0/);
    expect(r.stdout).toMatch(/prelu1: pass, max abs 0, max rel 0/);
  });

  it('verify fails when the converted model computes something else: the data file is really used', () => {
    // Same graph, slope of prelu1 changed in a copy of the data file beside a copy of the model.
    const bad = join(dir, 'tampered');
    mkdirSync(bad, { recursive: true });
    copyFileSync(join(dir, 'out', 'net.onnx'), join(bad, 'net.onnx'));
    const d = new Uint8Array(data);
    const s1 = externalRef(m.graph!.initializer.find((t) => t.name === 's1')!)!;
    new Float32Array(d.buffer, s1.offset, 4).set([3, 3, 3, 3]);
    writeFileSync(join(bad, DATA), d);
    const r = cli(['verify', input, join(bad, 'net.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL/);
  });

  it('convert -o elsewhere --verify: written, data file placed, and proved in ONNX Runtime', () => {
    const out = join(dir, 'verified', 'fixed.onnx');
    mkdirSync(join(dir, 'verified'), { recursive: true });
    const r = cli(['convert', input, '--target', 'no-prelu', '-o', out, '--verify']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/data file net\.onnx\.data: (hard-linked into|copied to)/);
    expect(r.stdout).toMatch(/^pass: The output agrees/m);
    expect(r.stdout).toMatch(/Every rewritten node passed the local check/);
  });

  it('fuse: a decomposed model whose slope is external fuses back into PRelu, the data file placed beside the output', async () => {
    const { model: p, data: pd } = externalize(preluModel({ xShape: [1, 4, 3, 3], slopeShape: [4, 1, 1], slope: [0.25, -0.5, 2, 0.1], opset: 16 }), 'slope.bin');
    const original = save('fuse-in', 'p.onnx', p, pd, 'slope.bin');
    const decomposed = join(dir, 'fuse-in', 'p.where.onnx');
    expect(cli(['convert', original, '--target', 'no-prelu', '--form', 'where', '-o', decomposed]).code).toBe(0);
    const out = join(dir, 'fused', 'p.onnx');
    mkdirSync(join(dir, 'fused'), { recursive: true });
    const r = cli(['fuse', decomposed, '--target', 'onnxruntime', '-o', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('fused 1 pattern into PRelu');
    expect(r.stdout).toContain(`  data file slope.bin: hard-linked into ${join(dir, 'fused')}`);
    expect(refs(out).map(([, ref]) => ref!.location)).toEqual(['slope.bin']);
    expect(checkModels([out])[out]).toBeNull();
    const f = randomFeeds(p, 5);
    expect(maxRelError((await runPath(out, f)).y!, (await runPath(original, f)).y!)).toBeLessThan(1e-6);
  });

  it('a different data file already in the output folder is never overwritten: one line, exit 1, nothing written', () => {
    const out = join(dir, 'taken');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, DATA), new Uint8Array(data.length)); // same size, other bytes
    const r = cli(['convert', input, '--target', 'no-prelu', '--out-dir', out]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([
      `opfit: cannot save ${join(out, 'net.onnx')}: ${join(out, DATA)} already exists and is not the same data as ${join(dir, 'in', DATA)}; ` +
      'refusing to overwrite a data file another model may use: remove it, or save into another folder',
    ]);
    expect(existsSync(join(out, 'net.onnx'))).toBe(false);
    expect(readFileSync(join(out, DATA)).every((b) => b === 0)).toBe(true);
    // A copy with the same bytes (not a link) is the same data: used as it is.
    writeFileSync(join(out, DATA), data);
    const ok = cli(['convert', input, '--target', 'no-prelu', '--out-dir', out]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`already in ${out}, the same data`);
  });

  it('a data file that is a relative symbolic link: the output folder gets the real file', async () => {
    const real = join(dir, 'store');
    const linked = join(dir, 'linked');
    mkdirSync(real, { recursive: true });
    mkdirSync(linked, { recursive: true });
    writeFileSync(join(real, DATA), data);
    symlinkSync(join('..', 'store', DATA), join(linked, DATA));
    writeFileSync(join(linked, 'net.onnx'), writeModel(m));
    const out = join(dir, 'from-link');
    const r = cli(['convert', join(linked, 'net.onnx'), '--target', 'no-prelu', '--out-dir', out]);
    expect(r.code).toBe(0);
    expect(statSync(join(out, DATA)).ino).toBe(statSync(join(real, DATA)).ino);
    expect(maxRelError((await runPath(join(out, 'net.onnx'), feeds)).y!, (await runPath(input, feeds)).y!)).toBeLessThan(1e-6);
  });

  it('without its data file: inspect warns in one line and still reports every node; convert writes the output with its references and exits 1; verify exits 1', () => {
    const alone = join(dir, 'alone');
    mkdirSync(alone, { recursive: true });
    writeFileSync(join(alone, 'net.onnx'), writeModel(m));
    const model = join(alone, 'net.onnx');
    const where = `${model} keeps 6 weights (1.2 kB) in the external data file "${DATA}", which was not found at ${join(alone, DATA)}`;

    const inspect = cli(['inspect', model, '--target', 'no-prelu']);
    expect(inspect.code).toBe(0);
    expect(oneLine(inspect.stderr)).toEqual([`opfit: warning: ${where}: put it there to check the values stored in it (e.g. PRelu slopes); the graph is checked without them`]);
    expect(inspect.stdout).toContain(`${model}: 2 nodes incompatible with`);
    expect(inspect.stdout).toMatch(/\[unsupported\] prelu0 \(PRelu\)/);
    expect(inspect.stdout).toMatch(/\[unsupported\] prelu1 \(PRelu\)/);
    const json = cli(['inspect', model, '--target', 'no-prelu', '--json']);
    expect(JSON.parse(json.stdout).findings).toHaveLength(2);

    const out = join(dir, 'alone-out');
    const convert = cli(['convert', model, '--target', 'no-prelu', '--out-dir', out]);
    expect(convert.code).toBe(1);
    expect(oneLine(convert.stderr)).toEqual([
      `opfit: ${where}: ${join(out, 'net.onnx')} was written with its references to ${DATA}, and runs once that file is beside it in ${out}`,
    ]);
    expect(convert.stdout).toContain(`  data file ${DATA}: not placed (${join(alone, DATA)} does not exist); the output expects it at ${join(out, DATA)}`);
    expect(refs(join(out, 'net.onnx')).map(([, r]) => r!.location)).toEqual(Array(6).fill(DATA));
    // Put the data file there, and the output runs: its references were right.
    writeFileSync(join(out, DATA), data);
    expect(checkModels([join(out, 'net.onnx')])[join(out, 'net.onnx')]).toBeNull();

    const verify = cli(['verify', model, join(dir, 'out', 'net.onnx')]);
    expect(verify.code).toBe(1);
    expect(oneLine(verify.stderr)).toEqual([`opfit: ${where}: ONNX Runtime needs that file to run the model; put it there and run again`]);

    const fuse = cli(['fuse', model, '--target', 'onnxruntime', '-o', join(dir, 'alone-fused.onnx')]);
    expect(fuse.code).toBe(1);
    expect(oneLine(fuse.stderr)).toEqual([`opfit: ${where}: ${join(dir, 'alone-fused.onnx')} was written with its references to ${DATA}, and runs once that file is beside it in ${dir}`]);
  });
});

describe('values read from the data file, and only those', () => {
  /** coreml-ios15 needs all slope values equal on rank-3 inputs: a rule that reads the slope. */
  const coremlModel = (slope: number[], base: number) =>
    externalize(preluModel({ xShape: [1, 3, 5], slopeShape: [3, 1], slope, opset: 16 }), 'slope.bin', base);

  it('inspect reads the slope from the data file for a rule that needs its values; without the file the rule says unknown', () => {
    const { model: m, data } = coremlModel([0.25, 0.5, 0.75], 0);
    const path = save('coreml', 'm.onnx', m, data, 'slope.bin');
    const r = cli(['inspect', path, '--target', 'coreml-ios15', '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).findings).toMatchObject([{ op: 'PRelu', status: 'constraint' }]);
    const { model: same, data: sameData } = coremlModel([0.5, 0.5, 0.5], 0);
    const ok = cli(['inspect', save('coreml-same', 'm.onnx', same, sameData, 'slope.bin'), '--target', 'coreml-ios15', '--json']);
    expect(JSON.parse(ok.stdout).findings).toEqual([]);
    rmSync(join(dir, 'coreml', 'slope.bin'));
    const gone = cli(['inspect', path, '--target', 'coreml-ios15', '--json']);
    expect(gone.code).toBe(0);
    expect(gone.stderr).toMatch(/^opfit: warning: .*"slope\.bin", which was not found at /);
    expect(JSON.parse(gone.stdout).findings).toMatchObject([{ op: 'PRelu', status: 'unknown' }]);
  });

  it('a 3 GB data file (sparse): inspect, convert and verify read the 12 slope bytes at its end, never the file', () => {
    // Node cannot even hold the whole file in one buffer (readFileSync refuses files over 2 GiB),
    // so a command that read it would fail; these finish at once.
    const base = 3_000_000_000;
    const { model: m, data } = coremlModel([0.25, 0.5, 0.75], base);
    const d = join(dir, 'big');
    mkdirSync(d, { recursive: true });
    const fd = openSync(join(d, 'slope.bin'), 'w');
    writeSync(fd, data, 0, data.length, base);
    closeSync(fd);
    truncateSync(join(d, 'slope.bin'), base + 4096);
    writeFileSync(join(d, 'm.onnx'), writeModel(m));
    const model = join(d, 'm.onnx');

    const r = cli(['inspect', model, '--target', 'coreml-ios15', '--json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout).findings).toMatchObject([{ status: 'constraint' }]);
    const out = join(dir, 'big-out');
    const c = cli(['convert', model, '--target', 'no-prelu', '--out-dir', out, '--verify']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toContain('hard-linked into');
    expect(c.stdout).toMatch(/^pass: /m);
    expect(statSync(join(out, 'slope.bin')).size).toBe(base + 4096);
    // The converted model's slope still points at the end of the big file.
    expect(refs(join(out, 'm.onnx')).map(([, r]) => r!.offset)).toContain(base);
  });
});
