// Issue 6: real model files, mutated and truncated (fast-check): every case opens as a model or
// ends in a ModelReadError naming the file, within a time limit, and no step throws otherwise.
// Bounded in runs so `npm test` stays quick; OPFIT_FUZZ_RUNS and OPFIT_FUZZ_SEED widen or vary it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHARED, TESTDATA, fixtureModels } from '../helpers/paths';
import { openLikeTheApp, within } from './pipeline';

const RUNS = Number(process.env.OPFIT_FUZZ_RUNS ?? 60);
const SEED = Number(process.env.OPFIT_FUZZ_SEED ?? 20260603);
const LIMIT_MS = 5_000;

/** Fixtures, plus small corpus models with subgraphs, sequences, functions and PRelu. */
const FILES = [
  ...fixtureModels(),
  join(SHARED, 'onnx-backend/test_prelu_broadcast/model.onnx'),
  join(SHARED, 'onnx-backend/test_PReLU_2d_multiparam/model.onnx'),
  ...['test_if', 'test_loop11', 'test_scan9_sum', 'test_sequence_map_add_2_sequences_expanded', 'test_range_float_type_positive_delta_expanded']
    .map((t) => join(TESTDATA, 'node', t, 'model.onnx')),
].filter((p) => {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
});
const BYTES = FILES.map((p) => new Uint8Array(readFileSync(p)));

type Mutation =
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; edits: { at: number; value: number }[] }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'huge-length'; at: number; varint: readonly number[] }
  | { kind: 'duplicate'; from: number; length: number; to: number };

/** Positions are fractions of the file, so one generator serves files of any size. */
const frac = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  frac.map((f) => ({ kind: 'truncate' as const, at: f })),
  fc.array(fc.record({ at: frac, value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 8 }).map((edits) => ({ kind: 'flip' as const, edits })),
  fc.record({ at: frac, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }).map((r) => ({ kind: 'insert' as const, ...r })),
  fc.record({ at: frac, length: fc.integer({ min: 1, max: 4096 }) }).map((r) => ({ kind: 'delete' as const, ...r })),
  // A length prefix (or any varint) overwritten by one that points far past the end.
  fc.record({ at: frac, varint: fc.constantFrom([0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0xff, 0xff, 0x7f]) })
    .map((r) => ({ kind: 'huge-length' as const, ...r })),
  fc.record({ from: frac, length: fc.integer({ min: 1, max: 2048 }), to: frac }).map((r) => ({ kind: 'duplicate' as const, ...r })),
);

function apply(src: Uint8Array, m: Mutation): Uint8Array {
  const at = (f: number) => Math.floor(f * src.length);
  switch (m.kind) {
    case 'truncate':
      return src.slice(0, at(m.at));
    case 'flip': {
      const out = src.slice();
      for (const e of m.edits) out[at(e.at)] = e.value;
      return out;
    }
    case 'insert':
      return concat(src.subarray(0, at(m.at)), Uint8Array.from(m.bytes), src.subarray(at(m.at)));
    case 'delete':
      return concat(src.subarray(0, at(m.at)), src.subarray(Math.min(src.length, at(m.at) + m.length)));
    case 'huge-length': {
      const out = src.slice();
      out.set(m.varint.slice(0, Math.max(0, out.length - at(m.at))), at(m.at));
      return out;
    }
    case 'duplicate': {
      const from = at(m.from);
      return concat(src.subarray(0, at(m.to)), src.subarray(from, from + m.length), src.subarray(at(m.to)));
    }
  }
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let p = 0;
  for (const part of parts) {
    out.set(part, p);
    p += part.length;
  }
  return out;
}

describe('mutated and truncated real models', () => {
  it('has its inputs', () => expect(FILES.length).toBeGreaterThanOrEqual(7));

  it('every mutation ends in a model or a clear error, in bounded time', () => {
    const outcomes = { model: 0, error: 0 };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: BYTES.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (file, mutations) => {
        const bytes = mutations.reduce(apply, BYTES[file]!);
        const out = within(LIMIT_MS, `${FILES[file]} after ${JSON.stringify(mutations)}`, () => openLikeTheApp(bytes, 'mutated.onnx', { fix: true }));
        outcomes[out.kind]++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    // Both outcomes occur: mutations that keep a decodable model, and ones that break it.
    expect(outcomes.model).toBeGreaterThan(0);
    expect(outcomes.error).toBeGreaterThan(0);
  });

  it('every truncation of a real model names the byte and the field where reading stopped', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: BYTES.length - 1 }), frac, (file, f) => {
        const src = BYTES[file]!;
        const cut = src.subarray(0, 1 + Math.floor(f * (src.length - 1)));
        const out = within(LIMIT_MS, `${FILES[file]} cut at ${cut.length}`, () => openLikeTheApp(cut, 'cut.onnx'));
        if (out.kind === 'error') {
          expect(out.message).toMatch(/^cut\.onnx (is not a readable ONNX model: reading failed at byte [\d,]+ in .+ of [\d,]+ bytes \(\d+%\) were read|has a graph but no opset_import.*truncated|starts like an ONNX model .* but has no graph: the file \([\d,]+ bytes\) is probably truncated|is [^,]+, not an ONNX model)/);
        }
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    );
  });
});
