// All built-in targets. Adding a target = adding a JSON file in profiles/ and one line here.
import type { PreluRule, TargetProfile } from './types';
import onnxruntime from './profiles/onnxruntime.json';
import tensorrt5 from './profiles/tensorrt-5.json';
import tensorrt8 from './profiles/tensorrt-8.json';
import noPrelu from './profiles/no-prelu.json';

const RULE_KINDS = new Set<PreluRule['kind']>(['min-opset', 'dtypes', 'slope-unidirectional', 'legacy-slope-misread']);

/** Checks a profile's shape and names the first bad field, so a broken file gets a clear error. */
export function validateProfile(p: unknown, where = 'target profile'): TargetProfile {
  const bad = (field: string, want: string): never => {
    throw new Error(`${where}: field "${field}" ${want}`);
  };
  if (typeof p !== 'object' || p === null) bad('(root)', 'must be a JSON object');
  const o = p as Record<string, unknown>;
  for (const f of ['id', 'name', 'version', 'description'] as const) if (typeof o[f] !== 'string' || !o[f]) bad(f, 'must be a non-empty string');
  if (!Array.isArray(o.sources) || o.sources.length === 0 || o.sources.some((s) => typeof s !== 'string')) bad('sources', 'must be a non-empty list of strings');
  if (!Array.isArray(o.unsupportedOps)) bad('unsupportedOps', 'must be a list');
  (o.unsupportedOps as unknown[]).forEach((u, i) => {
    const r = u as Record<string, unknown>;
    for (const f of ['op', 'reason', 'source']) if (typeof r?.[f] !== 'string') bad(`unsupportedOps[${i}].${f}`, 'must be a string');
  });
  if (!Array.isArray(o.prelu)) bad('prelu', 'must be a list');
  (o.prelu as unknown[]).forEach((u, i) => {
    const r = u as Record<string, unknown>;
    if (!RULE_KINDS.has(r?.kind as PreluRule['kind'])) bad(`prelu[${i}].kind`, `must be one of ${[...RULE_KINDS].join(', ')}`);
    if (typeof r.source !== 'string' || !r.source) bad(`prelu[${i}].source`, 'must cite a source');
    if (r.kind === 'min-opset' && typeof r.opset !== 'number') bad(`prelu[${i}].opset`, 'must be a number');
    if (r.kind === 'dtypes' && !Array.isArray(r.allowed)) bad(`prelu[${i}].allowed`, 'must be a list of dtype names');
  });
  return p as TargetProfile;
}

export const TARGETS: readonly TargetProfile[] = [onnxruntime, tensorrt5, tensorrt8, noPrelu].map((p) =>
  validateProfile(p, `built-in target ${(p as { id?: string }).id}`),
);

export function findTarget(id: string): TargetProfile | undefined {
  return TARGETS.find((t) => t.id === id);
}
