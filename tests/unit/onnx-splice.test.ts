// The splice writer (src/onnx/splice.ts) against protobuf-es's own toBinary: byte-identical on
// hand-made encodings that toBinary would NOT write the same way (each must be re-encoded, and its
// canonical siblings still spliced), and zero-copy where nothing changed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toBinary } from '@bufbuild/protobuf';
import { NodeProtoSchema, TensorProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { encodeModel, readModel, saveModelChunks, writeModel } from '../../src/onnx/model';
import { spanOf } from '../../src/onnx/spans';
import { shallowCopy } from '../../src/graph/edit';
import { DT, graph, makeTensor, model, node, valueInfo } from '../helpers/build';
import { SHARED } from '../helpers/paths';

// A minimal protobuf assembler: each case spells out its bytes.
const varint = (n: number | bigint): number[] => {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v > 0x7fn) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return out;
};
const tag = (no: number, wt: number) => varint((no << 3) | wt);
const ld = (no: number, body: number[]) => [...tag(no, 2), ...varint(body.length), ...body];
const str = (no: number, s: string) => ld(no, [...new TextEncoder().encode(s)]);
const vi = (no: number, n: number | bigint) => [...tag(no, 0), ...varint(n)];

// ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8.
// GraphProto: node 1, name 2, initializer 5, input 11, output 12.
// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. AttributeProto: name 1, f 2, i 3, type 20.
// TensorProto: dims 1, data_type 2, float_data 4, int32_data 5, name 8, raw_data 9.
const relu = (name: string) => [...str(1, 'x'), ...str(2, `${name}_y`), ...str(3, name), ...str(4, 'Relu')];
const io = (name: string) => str(1, name);
const opset = ld(8, [...str(1, ''), ...vi(2, 13)]);
const wrap = (graphBody: number[], head: number[] = vi(1, 7)) =>
  new Uint8Array([...head, ...ld(7, [...graphBody, ...ld(11, io('x')), ...ld(12, io('a_y'))]), ...opset]);
const nodes = (...bodies: number[][]) => bodies.flatMap((b) => ld(1, b));

function roundTrip(bytes: Uint8Array) {
  const m = readModel(bytes, 'case.onnx');
  const reference = encodeModel(m);
  expect(Buffer.from(writeModel(m)).equals(Buffer.from(reference))).toBe(true);
  return { m, reference };
}

describe('non-canonical encodings are re-encoded exactly as toBinary would, siblings still spliced', () => {
  const cases: [string, Uint8Array][] = [
    ['an overlong varint (ir_version 7 as 0x87 0x00)', wrap(nodes(relu('a'), relu('b')), [...tag(1, 0), 0x87, 0x00])],
    ['fields out of order (opset_import before ir_version)', new Uint8Array([...opset, ...vi(1, 7), ...ld(7, [...nodes(relu('a')), ...ld(11, io('x'))])])],
    ['an unknown field before a known one', wrap([...vi(99, 5), ...nodes(relu('a'), relu('b'))])],
    ['a singular field twice (graph name)', wrap([...nodes(relu('a'), relu('b')), ...str(2, 'g1'), ...str(2, 'g2')])],
    ['a negative int32 in 5 bytes (data_type)', wrap([...nodes(relu('a')), ...ld(5, [...vi(1, 2), ...tag(2, 0), 0xff, 0xff, 0xff, 0xff, 0x0f, ...str(8, 't')])])],
    ['a negative int32 in 10 bytes (canonical)', wrap([...nodes(relu('a')), ...ld(5, [...vi(1, 2), ...vi(2, -1), ...str(8, 't')])])],
    ['a packed field written unpacked (float_data)', wrap([...nodes(relu('a')), ...ld(5, [...vi(2, 1), ...tag(4, 5), 0, 0, 0x80, 0x3f, ...tag(4, 5), 0, 0, 0, 0x40, ...str(8, 't')])])],
    ['a packed field in two runs', wrap([...nodes(relu('a')), ...ld(5, [...vi(2, 6), ...ld(5, varint(3)), ...ld(5, varint(4)), ...str(8, 't')])])],
    ['an empty packed run', wrap([...nodes(relu('a')), ...ld(5, [...vi(2, 6), ...ld(5, []), ...str(8, 't')])])],
    ['an unpacked field written packed (dims)', wrap([...nodes(relu('a')), ...ld(5, [...ld(1, [...varint(2), ...varint(3)]), ...vi(2, 1), ...str(8, 't')])])],
    ['invalid UTF-8 in a node name', wrap(nodes(relu('a'), [...str(1, 'x'), ...str(2, 'b_y'), ...ld(3, [0x62, 0xff, 0x62]), ...str(4, 'Relu')]))],
    ['a closed enum with an unknown value (attribute type 99)', wrap(nodes([...relu('a'), ...ld(5, [...str(1, 'k'), ...vi(3, 1), ...vi(20, 99), ...str(21, 'r')])]))],
    ['a signalling-NaN float attribute', wrap(nodes([...relu('a'), ...ld(5, [...str(1, 'k'), ...tag(2, 5), 0x01, 0x00, 0x80, 0x7f, ...vi(20, 1)])]))],
    ['a non-minimal length prefix of a node', wrap([...tag(1, 2), ...[0x80 | relu('a').length, 0x00], ...relu('a'), ...nodes(relu('b'))])],
    ['two members of a oneof (dim_value, then dim_param)', wrap([...nodes(relu('a')), ...ld(13, [...str(1, 'v'), ...ld(2, ld(1, [...vi(1, 1), ...ld(2, ld(1, [...vi(1, 4), ...str(2, 'N')]))]))])])],
    ['a singular message twice (graph, merged on decode)', new Uint8Array([...vi(1, 7), ...ld(7, [...nodes(relu('a')), ...ld(11, io('x'))]), ...ld(7, nodes(relu('b'))), ...opset])],
    ['a bool-like overlong tag (0x88 0x00 for field 1 wt 0)', new Uint8Array([0x88, 0x00, 0x07, ...ld(7, nodes(relu('a'))), ...opset])],
  ];
  for (const [what, bytes] of cases) {
    it(what, () => {
      const { m } = roundTrip(bytes);
      // Every recorded range is exactly toBinary of its object; canonical nodes keep theirs.
      for (const n of m.graph!.node) {
        const s = spanOf(n);
        if (s) expect(Buffer.from(s.src.subarray(s.start, s.end)).equals(Buffer.from(toBinary(NodeProtoSchema, n)))).toBe(true);
      }
      for (const t of m.graph!.initializer) {
        const s = spanOf(t);
        if (s) expect(Buffer.from(s.src.subarray(s.start, s.end)).equals(Buffer.from(toBinary(TensorProtoSchema, t)))).toBe(true);
      }
    });
  }

  it('the cases above are really non-canonical (toBinary changes them), except the controls', () => {
    const changed = cases.filter(([, b]) => !Buffer.from(encodeModel(readModel(b))).equals(Buffer.from(b))).map(([w]) => w);
    expect(cases.filter(([w]) => !changed.includes(w)).map(([w]) => w)).toEqual(['a negative int32 in 10 bytes (canonical)']);
    expect(changed).not.toContain('a negative int32 in 10 bytes (canonical)');
  });

  it('a non-canonical node is re-encoded, its canonical sibling keeps its range', () => {
    const bytes = wrap(nodes(relu('a'), [...str(1, 'x'), ...str(2, 'b_y'), ...ld(3, [0x62, 0xff]), ...str(4, 'Relu')]));
    const m = readModel(bytes);
    expect(spanOf(m.graph!.node[0]!)).toBeDefined();
    expect(spanOf(m.graph!.node[1]!)).toBeUndefined();
    expect(spanOf(m.graph!)).toBeUndefined();
    expect(spanOf(m)).toBeUndefined();
  });

  it('a merged singular message drops every range of the model (still exact)', () => {
    const m = readModel(cases.find(([w]) => w.startsWith('a singular message twice'))![1]);
    expect(spanOf(m)).toBeUndefined();
    expect(spanOf(m.graph!.node[0]!)).toBeUndefined();
    expect(m.graph!.node.map((n) => n.name)).toEqual(['a', 'b']);
  });

  it('edits on top of non-canonical parts are still exact', () => {
    for (const [, bytes] of cases) {
      const m = readModel(bytes);
      const g = m.graph!;
      const renamed = shallowCopy(g.node[0]!, { name: 'renamed' });
      const edited = shallowCopy(m, { graph: shallowCopy(g, { node: [renamed, ...g.node.slice(1), node('Neg', ['x'], ['n'])] }) });
      expect(Buffer.from(writeModel(edited)).equals(Buffer.from(encodeModel(edited)))).toBe(true);
    }
  });
});

describe('zero copy', () => {
  const file = join(SHARED, 'onnx', 'face-landmark.onnx');
  const bytes = new Uint8Array(readFileSync(file));

  it('tensor bytes are views into the opened file after reading', () => {
    const m = readModel(bytes);
    const raw = m.graph!.initializer.filter((t) => t.rawData.length > 0);
    expect(raw.length).toBeGreaterThan(10);
    for (const t of raw) expect(t.rawData.buffer).toBe(bytes.buffer);
  });

  it('an unchanged model saves as one chunk: the opened bytes themselves', () => {
    const chunks = saveModelChunks(readModel(bytes));
    expect(chunks).toHaveLength(1);
    expect(chunks[0]!.buffer).toBe(bytes.buffer);
    expect(chunks[0]!.byteLength).toBe(bytes.byteLength);
  });

  it('after an edit, everything but the changed path is a view of the file, in few chunks', () => {
    const m = readModel(bytes);
    const g = m.graph!;
    const k = Math.floor(g.node.length / 2);
    const edited = shallowCopy(m, { graph: shallowCopy(g, { node: g.node.map((n, i) => (i === k ? shallowCopy(n, { name: `${n.name}_edited` }) : n)) }) });
    const chunks = saveModelChunks(edited);
    const viewed = chunks.filter((c) => c.buffer === bytes.buffer).reduce((s, c) => s + c.length, 0);
    const total = chunks.reduce((s, c) => s + c.length, 0);
    expect(Buffer.concat(chunks).equals(Buffer.from(encodeModel(edited)))).toBe(true);
    expect(viewed / total).toBeGreaterThan(0.999);
    expect(chunks.length).toBeLessThan(10);
  });

  it('a re-encoded tensor passes its large raw_data through as a view', () => {
    const m = readModel(bytes);
    const g = m.graph!;
    const big = g.initializer.reduce((a, t) => (t.rawData.length > a.rawData.length ? t : a));
    const edited = shallowCopy(m, { graph: shallowCopy(g, { initializer: g.initializer.map((t) => (t === big ? shallowCopy(t, { name: `${t.name}_renamed` }) : t)) }) });
    const chunks = saveModelChunks(edited);
    expect(chunks.some((c) => c.buffer === bytes.buffer && c.byteOffset === big.rawData.byteOffset)).toBe(true);
    expect(Buffer.concat(chunks).equals(Buffer.from(encodeModel(edited)))).toBe(true);
  });

  it('models built in memory (no ranges) encode exactly like toBinary', () => {
    const m = model(graph({
      nodes: [node('Relu', ['x'], ['y'], { name: 'r' })],
      inputs: [valueInfo('x', DT.FLOAT, [1, 3])],
      outputs: [valueInfo('y', DT.FLOAT, [1, 3])],
      initializers: [makeTensor('w', DT.FLOAT, [4096], Array.from({ length: 4096 }, (_, i) => i))],
    }), 13);
    expect(Buffer.from(writeModel(m)).equals(Buffer.from(encodeModel(m)))).toBe(true);
  });
});
