// A rewrite form for one PRelu node: a small declarative unit (what it emits, which ops and opset
// it needs, when it does not apply). The engine (engine.ts) does the bookkeeping and safety checks.
import type { PreluFacts } from '../graph/prelu';
import type { Builder } from './builder';

export type FormId = 'where' | 'relu-neg' | 'max-min' | 'leaky' | 'reshape-slope';

export interface Form {
  id: FormId;
  label: string;
  formula: string;
  /** Plainly, where this form's numbers can differ from PRelu's. Empty when exact. */
  caveat: string;
  /** Where a runtime (measured, named) gives other numbers than the form's ONNX meaning. */
  runtimeNote?: string;
  /** Lower is preferred when several forms are valid. Exact forms first. */
  rank: number;
  /** The lowest default-domain opset at which every op this form emits exists for `dtype`. */
  minOpset(dtype: number | undefined): number;
  /** Why this form cannot express this node at all (independent of opset and target), if so. */
  refuse(f: PreluFacts): string | undefined;
  /** Emit nodes computing `f.node.output[0]` from `f.x` and the slope. */
  emit(f: PreluFacts, b: Builder): void;
}
