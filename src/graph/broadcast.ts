// ONNX broadcasting rules (onnx/onnx docs/Broadcasting.md), on shapes that may be partly unknown.
import type { Dim } from './scope';

export type BroadcastVerdict =
  | { ok: true }
  | { ok: false; why: string }
  | { ok: 'unknown'; why: string };

export const fmtShape = (s: readonly Dim[]) => `[${s.map((d) => (d === null ? '?' : d)).join(',')}]`;

/**
 * Can `b` be broadcast to `a` in one direction (numpy rules, trailing axes aligned, b's dims
 * each 1 or equal)? This is what PRelu-7+ requires of its slope.
 */
export function unidirectional(b: readonly Dim[], a: readonly Dim[]): BroadcastVerdict {
  if (b.length > a.length) {
    return { ok: false, why: `the slope has rank ${b.length} but the input only rank ${a.length}` };
  }
  const offset = a.length - b.length;
  let unknown: string | undefined;
  for (let i = 0; i < b.length; i++) {
    const bd = b[i]!;
    const ad = a[offset + i]!;
    if (bd === 1) continue;
    if (typeof bd === 'number' && typeof ad === 'number') {
      if (bd !== ad) {
        return {
          ok: false,
          why: `slope dim ${i} (${bd}) lines up with input axis ${offset + i} (${ad}), and ${bd} is neither 1 nor ${ad}`,
        };
      }
      continue;
    }
    if (bd === ad && typeof bd === 'string') continue;
    unknown ??= `input axis ${offset + i} has no known size`;
  }
  return unknown ? { ok: 'unknown', why: unknown } : { ok: true };
}

/** Numpy broadcast result shape of two shapes (bidirectional), or undefined if they do not broadcast. */
export function broadcastShape(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = a[a.length - n + i] ?? 1;
    const y = b[b.length - n + i] ?? 1;
    if (x === 1) out.push(y);
    else if (y === 1 || x === y) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') return undefined;
    else out.push(null);
  }
  return out;
}
