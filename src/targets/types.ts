// A deployment target, as data. Each rule names the source it comes from, so a user can check
// it (../shared/reference/prelu-targets.md gathered the facts; the sources are the runtimes' own).

export type FindingStatus = 'unsupported' | 'constraint' | 'unknown' | 'differs';

/** One constraint a target puts on PRelu; `kind` selects the check in prelu-check.ts. */
export type PreluRule =
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
}
