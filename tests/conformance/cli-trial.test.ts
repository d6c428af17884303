// Problems a first-time user found with the CLI: writing over the input through a hard link, a
// usage text missing flags, the whole usage text for a mistake that needs one line, -o and
// --out-dir treating a missing folder differently, and verify blaming a conversion for two
// unrelated models.
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema } from 'onnx-buf';
import { shallowCopy } from '../../src/graph/edit';
import { writeModel } from '../../src/onnx/model';
import { OPTIONS } from '../../src/cli/options';
import { preluModel } from '../helpers/build';
import { cli, ensureCli } from '../helpers/cli';
import { SHARED } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';

const dir = scratchDir('cli-trial');
const MINIFASNET = join(SHARED, 'onnx/minifasnet-v2.onnx');
const original = readFileSync(MINIFASNET);
const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

beforeAll(() => ensureCli());

describe('never writing over the input, whatever the path says', () => {
  it('-o a hard link to the input: refused, exit 1, the input unchanged', () => {
    const h1 = join(dir, 'h1.onnx');
    const h2 = join(dir, 'h2.onnx');
    copyFileSync(MINIFASNET, h1);
    linkSync(h1, h2);
    const r = cli(['convert', h1, '--target', 'no-prelu', '-o', h2]);
    expect(r.code, r.stdout).toBe(1);
    expect(lines(r.stderr)).toEqual([`opfit: refusing to overwrite the input ${h1} (${h2} is the same file): write the converted model somewhere else`]);
    expect(readFileSync(h1).equals(original)).toBe(true);
  });

  it('--out-dir where DIR/<name> is a hard link to the input: refused, the input unchanged', () => {
    const input = join(dir, 'linked', 'm.onnx');
    mkdirSync(join(dir, 'linked', 'hd'), { recursive: true });
    copyFileSync(MINIFASNET, input);
    linkSync(input, join(dir, 'linked', 'hd', 'm.onnx'));
    const r = cli(['convert', input, '--target', 'no-prelu', '--out-dir', join(dir, 'linked', 'hd')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to overwrite the input .*m\.onnx/);
    expect(readFileSync(input).equals(original)).toBe(true);
  });

  it('a symbolic link to the input is refused as before', () => {
    const input = join(dir, 'sym-in.onnx');
    copyFileSync(MINIFASNET, input);
    symlinkSync(input, join(dir, 'sym-out.onnx'));
    const r = cli(['convert', input, '--target', 'no-prelu', '-o', join(dir, 'sym-out.onnx')]);
    expect(r.code).toBe(1);
    expect(readFileSync(input).equals(original)).toBe(true);
  });

  it('in a batch, an output that is another input (a hard link) is refused before anything is written', () => {
    mkdirSync(join(dir, 'batch', 'out'), { recursive: true });
    const a = join(dir, 'batch', 'a.onnx');
    const b = join(dir, 'batch', 'b.onnx');
    copyFileSync(MINIFASNET, a);
    copyFileSync(MINIFASNET, b);
    linkSync(b, join(dir, 'batch', 'out', 'a.onnx'));
    const r = cli(['convert', a, b, '--target', 'no-prelu', '--out-dir', join(dir, 'batch', 'out')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refusing to overwrite the input .*b\.onnx/);
    expect(readFileSync(b).equals(original)).toBe(true);
  });

  it('-o naming a data file the input reads: refused, the data file unchanged', () => {
    const folder = join(dir, 'ext');
    mkdirSync(folder, { recursive: true });
    // The slope kept in slope.bin beside the model.
    const m = preluModel({ xShape: [2, 3], slopeShape: [3], slope: [0.1, 0.2, 0.3], opset: 13 });
    const slope = m.graph!.initializer[0]!;
    writeFileSync(join(folder, 'slope.bin'), slope.rawData);
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    const moved = shallowCopy(slope, { rawData: new Uint8Array(0), dataLocation: 1, externalData: [entry('location', 'slope.bin'), entry('length', String(slope.rawData.length))] });
    writeFileSync(join(folder, 'm.onnx'), writeModel(shallowCopy(m, { graph: shallowCopy(m.graph!, { initializer: [moved] }) })));
    const data = readFileSync(join(folder, 'slope.bin'));
    const r = cli(['convert', join(folder, 'm.onnx'), '--target', 'no-prelu', '-o', join(folder, 'slope.bin')]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(lines(r.stderr)).toEqual([`opfit: refusing to overwrite ${join(folder, 'slope.bin')}, a data file ${join(folder, 'm.onnx')} reads: write the converted model somewhere else`]);
    expect(readFileSync(join(folder, 'slope.bin')).equals(data)).toBe(true);
  });

  it('fuse: -o a hard link to the input is refused too', () => {
    const f1 = join(dir, 'f1.onnx');
    copyFileSync(MINIFASNET, f1);
    linkSync(f1, join(dir, 'f2.onnx'));
    const r = cli(['fuse', f1, '--target', 'onnxruntime', '-o', join(dir, 'f2.onnx')]);
    expect(r.code).toBe(1);
    expect(readFileSync(f1).equals(original)).toBe(true);
  });

  it('a written output leaves no temporary file behind', () => {
    mkdirSync(join(dir, 'clean'), { recursive: true });
    const r = cli(['convert', MINIFASNET, '--target', 'no-prelu', '-o', join(dir, 'clean', 'out.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'clean'))).toEqual(['out.onnx']);
  });
});

describe('the usage text', () => {
  it('names every flag the CLI accepts', () => {
    const help = cli(['--help']).stdout;
    const flags = new Set(['--help', '-h', '--version', '-V', '--inputs']);
    for (const options of Object.values(OPTIONS)) {
      for (const [name, o] of Object.entries(options)) {
        flags.add(name.length === 1 ? `-${name}` : `--${name}`);
        if ('short' in o && o.short) flags.add(`-${o.short}`);
      }
    }
    expect(flags.has('--strict')).toBe(true);
    const missing = [...flags].filter((f) => !new RegExp(`(^|[\\s\\[(|])${f.replace(/-/g, '\\-')}(?![\\w-])`, 'm').test(help));
    expect(missing).toEqual([]);
  });

  it('--help after a command prints the usage, exit 0', () => {
    const r = cli(['convert', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage:/);
  });
});

describe('a mistake in what was asked: one line saying what to do, exit 2, no usage text', () => {
  const oneLine = (args: string[], message: RegExp) => {
    const r = cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/usage:/);
  };
  const out = () => join(dir, 'never.onnx');

  it('two inputs with one file name going to one --out-dir', () => {
    const other = join(dir, 'same', 'minifasnet-v2.onnx');
    mkdirSync(join(dir, 'same'), { recursive: true });
    copyFileSync(MINIFASNET, other);
    oneLine(['convert', MINIFASNET, other, '--target', 'no-prelu', '--out-dir', join(dir, 'clash')], /would both be written to .*; convert them into different --out-dir directories/);
    expect(existsSync(join(dir, 'clash'))).toBe(false);
  });
  it('unknown target', () => oneLine(['convert', MINIFASNET, '--target', 'tpu-9000', '-o', out()], /unknown target "tpu-9000"; targets: /));
  it('unknown form', () => oneLine(['convert', MINIFASNET, '--target', 'no-prelu', '--form', 'magic', '-o', out()], /unknown form "magic"; forms: /));
  it('a bad --tolerance', () => oneLine(['convert', MINIFASNET, '--target', 'no-prelu', '-o', out(), '--verify', '--tolerance', 'x'], /--tolerance takes a number/));
  it('-o with several models', () => oneLine(['convert', MINIFASNET, MINIFASNET, '--target', 'no-prelu', '-o', out()], /-o takes one model; use --out-dir/));
  it('verify: a bad --seed', () => oneLine(['verify', MINIFASNET, MINIFASNET, '--seed', '1.5'], /--seed takes a whole number/));
  it('nothing was written', () => expect(existsSync(out())).toBe(false));

  it('an unknown flag or a missing argument still prints the usage text', () => {
    for (const args of [['convert', MINIFASNET, '--target', 'no-prelu', '--fast', '-o', out()], ['inspect', MINIFASNET], ['convert', MINIFASNET, '--target', 'no-prelu']]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/usage:/);
    }
  });
});

describe('-o and --out-dir: a missing folder is created by both', () => {
  it('-o into a folder that does not exist creates it and says so', () => {
    const out = join(dir, 'new', 'deeper', 'x.onnx');
    const r = cli(['convert', MINIFASNET, '--target', 'no-prelu', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
    expect(r.stdout).toContain(`created the folder ${join(dir, 'new', 'deeper')}`);
  });
  it('--out-dir the same way', () => {
    const r = cli(['convert', MINIFASNET, '--target', 'no-prelu', '--out-dir', join(dir, 'made')]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'made', 'minifasnet-v2.onnx'))).toBe(true);
    expect(r.stdout).toContain(`created the folder ${join(dir, 'made')}`);
  });
  it('fuse -o too', () => {
    const r = cli(['fuse', MINIFASNET, '--target', 'onnxruntime', '-o', join(dir, 'fnew', 'x.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'fnew', 'x.onnx'))).toBe(true);
  });
});

describe('verify on two models that do not take the same inputs', () => {
  it('says so plainly (not "the conversion broke it"), exit 1', () => {
    const a = join(dir, 'va.onnx');
    const b = join(dir, 'vb.onnx');
    writeFileSync(a, writeModel(preluModel({ xShape: [3, 4, 5], slopeShape: [5], slope: [1, 2, 3, 4, 5], opset: 13 })));
    writeFileSync(b, writeModel(preluModel({ xShape: [5], slopeShape: [5], slope: [1, 2, 3, 4, 5], opset: 13 })));
    const r = cli(['verify', a, b]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/broke/);
    expect(lines(r.stderr)).toEqual([`opfit: the two models do not take the same inputs: input x is [3,4,5] in ${a} and [5] in ${b}; verify compares a model with its conversion, which takes the same inputs`]);
  });
});
