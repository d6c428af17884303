// Acceptance: the CLI's error paths and machine-readable output. Bad input files exit 1 with one
// stderr line that says what the file is (or where it broke); usage errors exit 2.
import { deflateSync, crc32 } from 'node:zlib';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeModel } from '../../src/onnx/model';
import { preluModel } from '../helpers/build';
import { cli, ensureCli, type CliResult } from '../helpers/cli';
import { SHARED, backendTest, fixtureModels } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';

const dir = scratchDir('cli-errors');
const TFLITE = join(SHARED, 'tflite/gtcrn-s3-float32.tflite');
const FIXTURE = join(SHARED, 'onnx/minifasnet-v2.onnx');

/** A 1×1 greyscale PNG: signature, IHDR, IDAT, IEND, each chunk with its CRC. */
function tinyPng(): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(1, 0); // width
  ihdr.writeUInt32BE(1, 4); // height
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  return new Uint8Array(Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.from([0, 0x80]))), // filter byte 0, one grey pixel
    chunk('IEND', new Uint8Array(0)),
  ]));
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

/** Exit 1, nothing on stdout, exactly one stderr line. Returns that line. */
function oneLineFailure(r: CliResult): string {
  expect(r.code, r.stderr).toBe(1);
  expect(r.stdout).toBe('');
  expect(lines(r.stderr), r.stderr).toHaveLength(1);
  return r.stderr.trim();
}

let truncated: string;
let png: string;

beforeAll(() => {
  ensureCli();
  const bytes = readFileSync(FIXTURE);
  truncated = join(dir, 'truncated.onnx');
  writeFileSync(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  png = join(dir, 'picture.png');
  writeFileSync(png, tinyPng());
});

describe('bad input files: exit 1 and one clear line', () => {
  for (const cmd of ['convert', 'inspect'] as const) {
    const args = (file: string) =>
      cmd === 'convert' ? ['convert', file, '--target', 'no-prelu', '-o', join(dir, `${cmd}-out.onnx`)] : ['inspect', file, '--target', 'onnxruntime'];

    it(`${cmd}: a truncated ONNX file names the byte offset and the field`, () => {
      const line = oneLineFailure(cli(args(truncated)));
      expect(line).toMatch(/^opfit: /);
      expect(line).toContain('truncated.onnx');
      expect(line).toMatch(/at byte [\d,]+ in graph\.initializer\[\d+\]\.raw_data/);
      expect(line).toMatch(/truncated or corrupted/);
      expect(line.split('truncated.onnx').length - 1, 'the file is named once').toBe(1);
    });

    it(`${cmd}: a PNG is called a PNG image`, () => {
      const line = oneLineFailure(cli(args(png)));
      expect(line).toMatch(/picture\.png is a PNG image, not an ONNX model/);
    });

    it(`${cmd}: a TFLite model is called TensorFlow Lite, with the way to convert it`, () => {
      const line = oneLineFailure(cli(args(TFLITE)));
      expect(line).toMatch(/gtcrn-s3-float32\.tflite is a TensorFlow Lite model/);
      expect(line).toMatch(/tf2onnx/);
    });

    it(`${cmd}: a missing file says so`, () => {
      const line = oneLineFailure(cli(args(join(dir, 'no-such.onnx'))));
      expect(line).toMatch(/no-such\.onnx: no such file/);
    });
  }

  it('convert: nothing is written for a bad input', () => {
    const out = join(dir, 'never.onnx');
    cli(['convert', png, '--target', 'no-prelu', '-o', out]);
    expect(existsSync(out)).toBe(false);
  });

  it('convert: one bad file in a batch fails the batch but the good ones are written', () => {
    const outDir = join(dir, 'batch');
    const r = cli(['convert', png, FIXTURE, '--target', 'onnxruntime', '--out-dir', outDir]);
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(existsSync(join(outDir, 'minifasnet-v2.onnx'))).toBe(true);
  });
});

describe('a model no form can fix', () => {
  it('exit 1; stdout does not claim there was nothing to rewrite; stderr says why', () => {
    // A [3,1,1] slope on a rank-2 input: invalid PRelu-7+, which a rewrite must not hide.
    const file = join(dir, 'rank2.onnx');
    writeFileSync(file, writeModel(preluModel({ xShape: [2, 3], slopeShape: [3, 1, 1], slope: [1, 2, 3] })));
    const r = cli(['convert', file, '--target', 'no-prelu', '-o', join(dir, 'rank2-out.onnx')]);
    expect(r.code).toBe(1);
    expect(r.stdout).not.toMatch(/nothing to rewrite/);
    expect(r.stdout).toMatch(/1 node not fixed/);
    expect(r.stderr).toMatch(/not fixed: prelu: .*the slope \[3,1,1\] does not broadcast to the input \[2,3\]/);
  });
});

describe('usage errors: exit 2', () => {
  const usage = (args: string[], message: RegExp) => {
    const r = cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/usage:/);
  };
  const out = () => join(dir, 'usage-out.onnx');

  // A mistake in what was asked, not in how: one line saying what to do, no usage text.
  const oneLine = (args: string[], message: RegExp) => {
    const r = cli(args);
    expect(r.code, r.stderr).toBe(2);
    expect(lines(r.stderr), r.stderr).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  };

  it('unknown target', () => oneLine(['convert', FIXTURE, '--target', 'tpu-9000', '-o', out()], /unknown target "tpu-9000"; targets: onnxruntime, tensorrt-5, tensorrt-8, no-prelu/));
  it('missing --target (convert)', () => usage(['convert', FIXTURE, '-o', out()], /--target ID is required/));
  it('missing --target (inspect)', () => usage(['inspect', FIXTURE], /--target ID is required/));
  it('both -o and --out-dir', () => oneLine(['convert', FIXTURE, '--target', 'onnxruntime', '-o', out(), '--out-dir', dir], /exactly one of -o OUT or --out-dir DIR/));
  it('neither -o nor --out-dir', () => usage(['convert', FIXTURE, '--target', 'onnxruntime'], /exactly one of -o OUT or --out-dir DIR/));
  it('unknown form', () => oneLine(['convert', FIXTURE, '--target', 'no-prelu', '--form', 'magic', '-o', out()], /unknown form "magic"/));
  it('unknown option', () => usage(['convert', FIXTURE, '--target', 'no-prelu', '--fast', '-o', out()], /--fast/));
  it('unknown command', () => usage(['fit', FIXTURE], /unknown command "fit"/));
  it('two inputs that would overwrite each other in --out-dir', () => {
    const a = join(backendTest('test_PReLU_1d'), 'model.onnx');
    const b = join(backendTest('test_PReLU_2d'), 'model.onnx');
    oneLine(['convert', a, b, '--target', 'onnxruntime', '--out-dir', join(dir, 'clash')], /would both be written to .*model\.onnx/);
    expect(existsSync(join(dir, 'clash'))).toBe(false);
  });
  it('no output file is written', () => expect(existsSync(out())).toBe(false));
});

describe('machine-readable output', () => {
  it('targets --json lists the built-in targets, the four original ones first', () => {
    const r = cli(['targets', '--json']);
    expect(r.code).toBe(0);
    const targets = JSON.parse(r.stdout) as { id: string; name: string; sources: string[] }[];
    expect(targets.map((t) => t.id).slice(0, 4)).toEqual(['onnxruntime', 'tensorrt-5', 'tensorrt-8', 'no-prelu']);
    for (const t of targets) {
      expect(t.name).toBeTruthy();
      expect(t.sources.length).toBeGreaterThan(0);
    }
  });

  const shape = (stdout: string) => {
    const json = JSON.parse(stdout);
    expect(Object.keys(json).sort()).toEqual(['findings', 'target']);
    for (const f of json.findings) {
      expect(Object.keys(f).sort()).toEqual(['node', 'op', 'reason', 'source', 'status']);
      for (const v of Object.values(f)) expect(typeof v).toBe('string');
      expect(['unsupported', 'constraint', 'unknown', 'differs']).toContain(f.status);
    }
    return json as { target: string; findings: { node: string; op: string; status: string; reason: string; source: string }[] };
  };

  it('inspect --json: {target, findings: [{node, op, status, reason, source}]}', () => {
    const r = cli(['inspect', join(backendTest('test_PReLU_2d_multiparam'), 'model.onnx'), '--target', 'tensorrt-8', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const json = shape(r.stdout);
    expect(json.target).toBe('tensorrt-8');
    expect(json.findings).toHaveLength(1);
    expect(json.findings[0]).toMatchObject({ op: 'PRelu', status: 'differs' });
    expect(json.findings[0]!.source).toMatch(/onnx-tensorrt/);
  });

  it('inspect --json on every fixture for no-prelu: one unsupported finding per PRelu', () => {
    for (const m of fixtureModels()) {
      const r = cli(['inspect', m, '--target', 'no-prelu', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const json = shape(r.stdout);
      expect(json.target).toBe('no-prelu');
      expect(json.findings.length).toBeGreaterThan(0);
      for (const f of json.findings) expect(f).toMatchObject({ op: 'PRelu', status: 'unsupported' });
    }
  });

  it('inspect --json with nothing to report gives an empty list', () => {
    const r = cli(['inspect', FIXTURE, '--target', 'onnxruntime', '--json']);
    expect(r.code).toBe(0);
    expect(shape(r.stdout)).toEqual({ target: 'onnxruntime', findings: [] });
  });
});
