// The CLI on file-system mistakes (found by a trial user): one line, exit 1, and never writing over
// the input model; usage mistakes exit 2. Plus --version.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, ensureCli } from '../helpers/cli';
import { SHARED } from '../helpers/paths';

let dir: string;
let model: string;
const original = readFileSync(join(SHARED, 'onnx/gtcrn-s3.onnx'));

beforeAll(() => {
  ensureCli();
  dir = mkdtempSync(join(tmpdir(), 'opfit-cli-files-'));
  model = join(dir, 'm.onnx');
  copyFileSync(join(SHARED, 'onnx/gtcrn-s3.onnx'), model);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const oneLine = (s: string) => s.trim().split('\n');

describe('opfit convert and the file system', () => {
  it('refuses -o pointing at the input itself (exit 1, one line) and leaves the input as it was', () => {
    const r = cli(['convert', model, '--target', 'no-prelu', '-o', model]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`opfit: refusing to overwrite the input ${model}: write the converted model somewhere else`]);
    expect(readFileSync(model).equals(original)).toBe(true);
  });

  it('refuses --out-dir that is the input\'s own folder', () => {
    const r = cli(['convert', model, '--target', 'no-prelu', '--out-dir', dir]);
    expect(r.code).toBe(1);
    expect(readFileSync(model).equals(original)).toBe(true);
  });

  it('a missing output folder is created, for -o as for --out-dir, and the output says so', () => {
    const r = cli(['convert', model, '--target', 'no-prelu', '-o', join(dir, 'nope', 'x.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`  created the folder ${join(dir, 'nope')}`);
    expect(readFileSync(join(dir, 'nope', 'x.onnx')).length).toBeGreaterThan(0);
  });

  it('an output folder that cannot be created: one line naming it', () => {
    writeFileSync(join(dir, 'plain'), 'x');
    const r = cli(['convert', model, '--target', 'no-prelu', '-o', join(dir, 'plain', 'sub', 'x.onnx')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`opfit: cannot write ${join(dir, 'plain', 'sub', 'x.onnx')}: ${join(dir, 'plain', 'sub')} exists and is not a directory`]);
  });

  it('-o naming a directory: one line pointing to --out-dir', () => {
    mkdirSync(join(dir, 'adir'), { recursive: true });
    const r = cli(['convert', model, '--target', 'no-prelu', '-o', join(dir, 'adir')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/is a directory \(use --out-dir DIR/);
  });

  it('--out-dir naming a file: one line', () => {
    writeFileSync(join(dir, 'afile'), 'x');
    const r = cli(['convert', model, '--target', 'no-prelu', '--out-dir', join(dir, 'afile')]);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`opfit: cannot write ${join(dir, 'afile', 'm.onnx')}: ${join(dir, 'afile')} exists and is not a directory`]);
  });

  it('a directory as the model: one line', () => {
    const r = cli(['inspect', dir, '--target', 'onnxruntime']);
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([`opfit: ${dir} is a directory; give the path of an .onnx file`]);
  });

  it('inspect --strict exits 3 when a node is incompatible, 0 when none is', () => {
    expect(cli(['inspect', model, '--target', 'no-prelu', '--strict']).code).toBe(3);
    expect(cli(['inspect', model, '--target', 'onnxruntime', '--strict']).code).toBe(0);
    expect(cli(['inspect', model, '--target', 'no-prelu']).code).toBe(0);
  });

  it('--version prints the package version', () => {
    const r = cli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`opfit ${JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version}`);
  });
});
