// Comparing the converted model's outputs with the original's, NaN-aware: NaN in both places is
// agreement, NaN in one is a failure; equal infinities agree; −0.0 against +0.0 is counted (it is
// a real difference, which only exact forms avoid) but is within any tolerance.
import { DT, dtypeName } from '../onnx/dtypes';
import { halfToFloat } from '../onnx/tensor';
import { fmtShape } from '../graph/broadcast';
import type { HostTensor } from './types';

export interface OutputComparison {
  name: string;
  dtype: string;
  shape: number[];
  count: number;
  /** Largest |converted − original| over the positions where both are numbers (∞ if an infinity differs). */
  maxAbs: number;
  /** Largest |converted − original| / |original| (numpy's definition: ∞ where original is 0 and converted is not). */
  maxRel: number;
  /** The position with the largest error relative to the tolerance. */
  worst?: { index: number; original: number; converted: number };
  /** Positions outside the tolerance (NaN in one model only included). */
  outside: number;
  /** NaN in one model but not the other. */
  nanMismatch: number;
  /** NaN in both (agreement, reported so that an all-NaN pass is visible). */
  nanBoth: number;
  /** −0.0 in one and +0.0 in the other. */
  signedZero: number;
  pass: boolean;
  /** Set when the output agrees but nothing was compared as a number (NaN everywhere in both). */
  inconclusive?: string;
  /** Why the outputs could not be compared value by value (shape, dtype, missing output). */
  problem?: string;
}

/** One output's verdict as the app and the CLI print it: an all-NaN agreement is not a pass. */
export function outputVerdict(o: Pick<OutputComparison, 'pass' | 'inconclusive'>): 'pass' | 'FAIL' | 'inconclusive' {
  return !o.pass ? 'FAIL' : o.inconclusive ? 'inconclusive' : 'pass';
}

/** The criterion, in words, for reports: one place, so the app and the CLI say the same. */
export const CRITERION = 'pass when every |converted − original| ≤ T · max(1, |original|), NaN only where the original has NaN';

export function toNumbers(t: HostTensor): ArrayLike<number> {
  if (t.dtype === DT.FLOAT16) return Array.from(t.data as Uint16Array, halfToFloat);
  if (t.data instanceof BigInt64Array || t.data instanceof BigUint64Array) return Array.from(t.data, Number);
  return t.data as ArrayLike<number>;
}

export function compareTensors(name: string, original: HostTensor, converted: HostTensor | undefined, tolerance: number): OutputComparison {
  const base: OutputComparison = {
    name, dtype: dtypeName(original.dtype), shape: original.dims, count: original.data.length,
    maxAbs: 0, maxRel: 0, outside: 0, nanMismatch: 0, nanBoth: 0, signedZero: 0, pass: false,
  };
  if (!converted) return { ...base, problem: `the converted model has no output named ${name}` };
  if (converted.dtype !== original.dtype) return { ...base, problem: `the converted output is ${dtypeName(converted.dtype)}, the original ${dtypeName(original.dtype)}` };
  if (converted.dims.length !== original.dims.length || converted.dims.some((d, i) => d !== original.dims[i])) {
    return { ...base, problem: `the converted output has shape ${fmtShape(converted.dims)}, the original ${fmtShape(original.dims)}` };
  }
  const big = original.data instanceof BigInt64Array || original.data instanceof BigUint64Array;
  const e = toNumbers(original);
  const a = toNumbers(converted);
  let worstScore = -1;
  const r = base;
  for (let i = 0; i < e.length; i++) {
    const ev = e[i]!;
    const av = a[i]!;
    if (big) {
      // int64 beyond 2^53: compare exactly, report the error as a number.
      const eb = (original.data as BigInt64Array)[i]!;
      const ab = (converted.data as BigInt64Array)[i]!;
      if (eb === ab) continue;
      const abs = Math.abs(Number(ab - eb));
      r.maxAbs = Math.max(r.maxAbs, abs);
      r.maxRel = Math.max(r.maxRel, eb === 0n ? Infinity : abs / Math.abs(Number(eb)));
      const scaled = abs / Math.max(1, Math.abs(Number(eb)));
      if (!(scaled <= tolerance)) r.outside++;
      if (scaled > worstScore) { worstScore = scaled; r.worst = { index: i, original: ev, converted: av }; }
      continue;
    }
    const eNaN = Number.isNaN(ev);
    const aNaN = Number.isNaN(av);
    if (eNaN || aNaN) {
      if (eNaN && aNaN) r.nanBoth++;
      else {
        r.nanMismatch++;
        r.outside++;
        if (worstScore < Infinity) { worstScore = Infinity; r.worst = { index: i, original: e[i]!, converted: a[i]! }; }
      }
      continue;
    }
    if (ev === av) {
      if (ev === 0 && Object.is(ev, -0) !== Object.is(av, -0)) r.signedZero++;
      continue;
    }
    const abs = Math.abs(av - ev); // ∞ when an infinity differs
    const rel = ev === 0 ? Infinity : abs / Math.abs(ev);
    if (abs > r.maxAbs) r.maxAbs = abs;
    if (rel > r.maxRel) r.maxRel = rel;
    const scaled = Number.isFinite(ev) ? abs / Math.max(1, Math.abs(ev)) : Infinity;
    if (!(scaled <= tolerance)) r.outside++;
    if (scaled > worstScore) { worstScore = scaled; r.worst = { index: i, original: e[i]!, converted: a[i]! }; }
  }
  r.pass = r.outside === 0;
  // NaN in both everywhere "agrees", but proves nothing: edge values (NaN, ±inf) reached every
  // value of this output (a NaN entering a convolution does that), so no number was compared.
  if (r.pass && e.length > 0 && r.nanBoth === e.length) {
    r.inconclusive = `every value of ${name} is NaN in both models, so no number was compared`;
  }
  return r;
}

/** Compares every output of the original (by name) with the converted model's. */
export function compareOutputs(original: Record<string, HostTensor>, converted: Record<string, HostTensor>, tolerance: number, order?: readonly string[]): OutputComparison[] {
  const names = order ?? Object.keys(original);
  return names.map((name) => compareTensors(name, original[name]!, converted[name], tolerance));
}
