// A deployment target, as data. Each rule names the source it comes from, so a user can check
// it (../shared/reference/prelu-targets.md gathered the facts; the sources are the runtimes' own).

export type FindingStatus = 'unsupported' | 'constraint' | 'unknown' | 'differs';

/**
 * One constraint a target puts on PRelu; `kind` selects the check in check.ts (checkPreluRule).
 * A non-empty list means the target has PRelu under these constraints; a target that has PRelu
 * with no constraint lists `{ kind: 'supported' }`. An empty list leaves PRelu to `ops`.
 */
export type PreluRule =
  | { kind: 'supported'; source: string }
  | { kind: 'min-opset'; opset: number; source: string }
  | { kind: 'dtypes'; allowed: string[]; source: string }
  | { kind: 'slope-unidirectional'; source: string }
  | { kind: 'legacy-slope-misread'; source: string };

export interface OpUnsupported {
  op: string;
  domain?: string;
  reason: string;
  source: string;
}

export interface TargetProfile {
  id: string;
  name: string;
  version: string;
  description: string;
  sources: string[];
  /** Ops this target cannot run at all (findings, and never emitted by a rewrite). */
  unsupportedOps: OpUnsupported[];
  /** Constraints on PRelu when the target has it (empty when PRelu is in unsupportedOps). */
  prelu: PreluRule[];
  /** What is known of every other op. Absent: only PRelu (and unsupportedOps) are checked. */
  ops?: OpSupport;
}

/** How a target's support for ops other than PRelu is known. */
export type OpSupport =
  /** Every default-domain ONNX op up to `maxOpset` (inclusive) runs; other domains are unknown. */
  | { kind: 'onnx-standard'; maxOpset?: number; source: string }
  /** A per-op table extracted from the runtime's own docs (src/targets/op-tables/<table>.json). */
  | { kind: 'table'; table: string; absent: 'unsupported' | 'unknown'; source: string }
  /** No per-op data: every op but PRelu is "unknown" for this target, never assumed supported. */
  | { kind: 'none' };
