// Acceptance for the splice writer: on every shared fixture and every libonnx-testdata model, a
// save assembled from the original bytes of unchanged messages plus re-encoded changed ones is
// byte-identical to a full toBinary re-encode — unchanged, after a one-node edit, and after real
// rewrites (fixAll for no-prelu and onnxruntime). Every recorded byte range is checked against
// toBinary of its own object, so a wrong range cannot hide behind an untouched parent.
import { readFileSync } from 'node:fs';
import { toBinary, type DescMessage } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { encodeModel, readModel, saveModelChunks, writeModel } from '../../src/onnx/model';
import { spanOf } from '../../src/onnx/spans';
import { shallowCopy } from '../../src/graph/edit';
import { fixAll } from '../../src/rewrites/choose';
import { findTarget } from '../../src/targets/registry';
import { fixtureModels, TESTDATA, testdataModels } from '../helpers/paths';

const testdata = testdataModels();
if (testdata.length === 0 && process.env.OPFIT_ALLOW_MISSING_TESTDATA !== '1') {
  throw new Error(`libonnx-testdata is not installed (no models under ${TESTDATA}): apt-get install libonnx-testdata, or set OPFIT_ALLOW_MISSING_TESTDATA=1`);
}
const files = [...fixtureModels(), ...testdata];

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** Every message object of the tree with its type, depth first. */
function* messages(desc: DescMessage, m: Record<string, unknown>): Generator<[DescMessage, Record<string, unknown>]> {
  yield [desc, m];
  for (const f of desc.fields) {
    if (f.fieldKind === 'message') {
      const v = f.oneof ? ((m[f.oneof.localName] as { case?: string; value?: unknown }).case === f.localName ? (m[f.oneof.localName] as { value: unknown }).value : undefined) : m[f.localName];
      if (v) yield* messages(f.message, v as Record<string, unknown>);
    } else if (f.fieldKind === 'list' && f.listKind === 'message') {
      for (const v of m[f.localName] as Record<string, unknown>[]) yield* messages(f.message, v);
    }
  }
}

describe('splice writer on the real corpora', () => {
  const read = new Map<string, { bytes: Uint8Array; model: ModelProto }>();
  const load = (p: string) => {
    let r = read.get(p);
    if (!r) {
      const bytes = new Uint8Array(readFileSync(p));
      r = { bytes, model: readModel(bytes, p) };
      read.set(p, r);
    }
    return r;
  };

  it(`has the corpora (${files.length} models)`, () => {
    expect(fixtureModels().length).toBeGreaterThanOrEqual(5);
    if (process.env.OPFIT_ALLOW_MISSING_TESTDATA !== '1') expect(testdata.length).toBeGreaterThanOrEqual(1000);
  });

  it('every recorded range holds exactly toBinary of its object, and every message of these files has one', () => {
    let recorded = 0;
    const wrong: string[] = [];
    const missing: string[] = [];
    for (const p of files) {
      const { model } = load(p);
      for (const [desc, m] of messages(ModelProtoSchema, model as unknown as Record<string, unknown>)) {
        const s = spanOf(m);
        if (!s) { missing.push(`${p}: ${desc.typeName}`); continue; }
        recorded++;
        if (!same(s.src.subarray(s.start, s.end), toBinary(desc, m as never))) wrong.push(`${p}: ${desc.typeName}`);
      }
    }
    expect(wrong).toEqual([]);
    // These files were written by protobuf's own serializers: all canonical.
    expect(missing).toEqual([]);
    expect(recorded).toBeGreaterThan(40_000);
  });

  it('unchanged: one chunk, the opened bytes themselves', () => {
    const differ = files.filter((p) => {
      const { bytes, model } = load(p);
      const chunks = saveModelChunks(model);
      return chunks.length !== 1 || chunks[0]!.buffer !== bytes.buffer || !same(chunks[0]!, bytes);
    });
    expect(differ).toEqual([]);
  });

  it('one node renamed in every graph that has nodes: spliced save = toBinary', () => {
    const differ: string[] = [];
    for (const p of files) {
      const { model } = load(p);
      const g = model.graph!;
      if (g.node.length === 0) continue;
      const k = g.node.length >> 1;
      const edited = shallowCopy(model, { graph: shallowCopy(g, { node: g.node.map((n, i) => (i === k ? shallowCopy(n, { name: `${n.name}~` }) : n)) }) });
      if (!same(writeModel(edited), encodeModel(edited))) differ.push(p);
    }
    expect(differ).toEqual([]);
  });

  for (const targetId of ['no-prelu', 'onnxruntime']) {
    it(`after fixAll for ${targetId}: spliced save = toBinary for every rewritten model`, () => {
      const target = findTarget(targetId)!;
      const differ: string[] = [];
      let rewritten = 0;
      for (const p of files) {
        const { model } = load(p);
        const r = fixAll(model, target);
        if (r.model === model) continue;
        rewritten++;
        if (!same(writeModel(r.model), encodeModel(r.model))) differ.push(p);
      }
      expect(differ).toEqual([]);
      expect(rewritten).toBeGreaterThanOrEqual(targetId === 'no-prelu' ? 12 : 5);
    });
  }
});
