// Numbers as the verify and teaching views show them: −0 distinct from 0, NaN and ±∞ spelled out,
// a real minus sign, and no more digits than a float32 holds.
export function fmtValue(v: number, digits = 6): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '∞';
  if (v === -Infinity) return '−∞';
  if (v === 0) return Object.is(v, -0) ? '−0' : '0';
  const s = Number.isInteger(v) && Math.abs(v) < 1e9 ? String(v) : String(Number(v.toPrecision(digits)));
  return s.replace('-', '−');
}

/** An error figure: 0, a short exponent form, or ∞. */
export function fmtError(v: number): string {
  if (v === 0) return '0';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : '∞';
  return v.toExponential(2);
}
