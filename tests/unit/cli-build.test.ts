// The built CLI is a program: `npm run build:cli` leaves dist-cli/opfit.mjs executable, so the file
// runs on its own (its #!/usr/bin/env node line) and `npx opfit` from the checkout runs it through
// package.json's "bin" (a user trial: "sh: 1: opfit: Permission denied").
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureCli } from '../helpers/cli';
import { CLI, ROOT } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';

const dir = scratchDir('cli-build');
const version = `opfit ${JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version}`;

beforeAll(() => ensureCli());

describe('npm run build:cli', () => {
  it('writes an executable file that runs by itself', () => {
    const out = join(dir, 'opfit.mjs');
    execFileSync('npm', ['run', '-s', 'build:cli', '--', `--outfile=${out}`], { cwd: ROOT, stdio: 'pipe' });
    expect((statSync(out).mode & 0o777).toString(8)).toBe('755');
    const r = spawnSync(out, ['--version'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe(version);
  }, 60_000);

  it('the bundle the tests use (dist-cli/opfit.mjs) is executable and runs by itself', () => {
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    const r = spawnSync(CLI, ['--version'], { encoding: 'utf8' });
    expect(r.error).toBeUndefined();
    expect(r.stdout.trim()).toBe(version);
  });

  it('npx opfit --version from the repository root', () => {
    const r = spawnSync('npx', ['--no-install', 'opfit', '--version'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/Permission denied/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(version);
  }, 60_000);
});
