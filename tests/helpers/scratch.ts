// Scratch directories under tests/.out, one per test file and run: two vitest runs in the same
// checkout (a developer and CI, or two people) must not delete each other's files. Removed after
// the file's tests unless OPFIT_KEEP_OUT=1 (to look at what the tests wrote).
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { OUT } from './paths';

export function scratchDir(name: string): string {
  mkdirSync(OUT, { recursive: true });
  const dir = mkdtempSync(join(OUT, `${name}-`));
  afterAll(() => {
    if (process.env.OPFIT_KEEP_OUT !== '1') rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}
