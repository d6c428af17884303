// Runs the built CLI (dist-cli/opfit.mjs) as a user would. The bundle is rebuilt first when it is
// missing or older than any core source it is made from, so a test never judges a stale CLI.
import { execSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, ROOT } from './paths';

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'app') newest = Math.max(newest, newestSource(p));
    } else newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the CLI with package.json's own build:cli command when the bundle is stale. */
export function ensureCli(): void {
  if (existsSync(CLI) && statSync(CLI).mtimeMs >= newestSource(join(ROOT, 'src'))) return;
  // Test files run in parallel: build to a private file, then rename (atomic) over the bundle.
  const tmp = `${CLI}.${process.pid}.tmp`;
  execSync(`npm run -s build:cli -- --outfile=${tmp}`, { cwd: ROOT, stdio: 'pipe' });
  renameSync(tmp, CLI);
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], cwd = ROOT): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking: several CLI processes can then use both cores. */
export function cliAsync(args: string[], cwd = ROOT): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
