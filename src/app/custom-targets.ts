// User-made targets: kept in this browser's localStorage, exported and imported as JSON files
// (the same files `opfit --target ./my-npu.json` reads). Validation is the core's.
import { validateProfile } from '../targets/registry';
import type { TargetProfile } from '../targets/types';

const KEY = 'opfit.customTargets.v1';

export function loadCustomTargets(): TargetProfile[] {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return [];
    const list = JSON.parse(raw) as unknown[];
    // A stored profile that no longer validates is dropped, not allowed to break the app.
    return list.flatMap((p) => {
      try {
        return [validateProfile(p, 'stored custom target')];
      } catch {
        return [];
      }
    });
  } catch {
    return [];
  }
}

export function saveCustomTargets(list: TargetProfile[]): void {
  try {
    localStorage.setItem(KEY, JSON.stringify(list));
  } catch {
    // storage full or disabled: the targets still work for this session
  }
}

/** Parses an imported profile file; throws an Error whose message names the bad field. */
export function parseProfileFile(text: string, fileName: string): TargetProfile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`${fileName} is not valid JSON: ${(e as Error).message}`);
  }
  return validateProfile(data, fileName);
}

export function slugify(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'target';
}
