// A deployment target, as data. Each rule names the source it comes from, so a user can check
// it (../shared/reference/prelu-targets.md gathered the facts; the sources are the runtimes' own).

import type { SlopeLayout } from '../graph/prelu';

export type FindingStatus = 'unsupported' | 'constraint' | 'unknown' | 'differs';

/** How a PRelu's slope spreads over its input, in ONNX terms: see classifySlope in src/graph/prelu.ts. */
export type { SlopeLayout };
export const SLOPE_LAYOUTS: readonly SlopeLayout[] = ['scalar', 'channel', 'last-axis', 'elementwise'];

/** Restricts a rule to models whose default-domain opset lies in [min, max] (both inclusive). */
export interface OpsetRange {
  min?: number;
  max?: number;
}

interface RuleBase {
  source: string;
  /** The rule applies only to models whose opset is in this range (e.g. dtypes that changed). */
  opsets?: OpsetRange;
}

/**
 * One constraint a target puts on PRelu; `kind` selects the check in check.ts (checkPreluRule).
 * A non-empty list means the target has PRelu under these constraints; a target that has PRelu
 * with no constraint lists `{ kind: 'supported' }`. An empty list leaves PRelu to `ops`.
 * Rules are tried in order and the first one a node breaks is its finding.
 */
export type PreluRule =
  | (RuleBase & { kind: 'supported' })
  /** No PRelu for models below this opset ("unsupported"). */
  | (RuleBase & { kind: 'min-opset'; opset: number })
  /** No PRelu for models above this opset ("unsupported"). */
  | (RuleBase & { kind: 'max-opset'; opset: number })
  /** The input's element type must be one of these (names as in src/onnx/dtypes.ts). */
  | (RuleBase & { kind: 'dtypes'; allowed: string[] })
  /** The input's element type must not be one of these (when only the rejected ones are sourced). */
  | (RuleBase & { kind: 'dtypes-rejected'; rejected: string[] })
  /** The slope must broadcast to the input under ONNX-7 rules (trailing axes aligned). */
  | (RuleBase & { kind: 'slope-unidirectional' })
  /** The slope must be an initializer or a Constant node's value, not computed or fed at run time. */
  | (RuleBase & { kind: 'slope-constant' })
  /** The slope's layout (classifySlope) must be one of these. */
  | (RuleBase & { kind: 'slope-layouts'; allowed: SlopeLayout[] })
  /** A slope of two or more dimensions must have the input's rank (1-D and single-value slopes are exempt). */
  | (RuleBase & { kind: 'slope-same-rank' })
  /** The slope may vary along one input axis at most (any single axis; several non-1 axes fail). */
  | (RuleBase & { kind: 'slope-single-axis' })
  /** For inputs of these ranks (every rank when absent), all slope values must be equal. */
  | (RuleBase & { kind: 'slope-uniform'; ranks?: number[] })
  /** The input's rank must lie in [min, max]. */
  | (RuleBase & { kind: 'x-ranks'; min: number; max: number })
  /** "differs": the target broadcasts an opset < 7 (per-channel) slope from the last axis. */
  | (RuleBase & { kind: 'legacy-slope-misread' })
  /**
   * "differs": a 1-D slope whose length equals the input's axis-1 size is applied per channel
   * (OpenVINO's Caffe heuristic); any other slope is broadcast numpy-style.
   */
  | (RuleBase & { kind: 'slope-1d-channel-heuristic' })
  /**
   * "differs": a slope of several values is applied along input axis 1 whatever its shape
   * (ncnn: num_slope values indexed by its channel, or by its row for a 2-D Mat).
   */
  | (RuleBase & { kind: 'slope-read-per-channel' });

export type PreluRuleKind = PreluRule['kind'];

export interface OpUnsupported {
  op: string;
  domain?: string;
  reason: string;
  source: string;
}

/** An op a (custom) target runs whatever `ops` says. Domain '' (or absent) is the default domain. */
export interface OpAllowed {
  op: string;
  domain?: string;
}

export interface TargetProfile {
  id: string;
  name: string;
  version: string;
  description: string;
  sources: string[];
  /** Ops this target cannot run at all (findings, and never emitted by a rewrite). */
  unsupportedOps: OpUnsupported[];
  /** Ops that run regardless of `ops` (for user-made targets); unsupportedOps and PRelu rules still apply. */
  allowOps?: OpAllowed[];
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
