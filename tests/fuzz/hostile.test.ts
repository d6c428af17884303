// Issue 6, item 4: hostile input. Generated protobufs — models with colliding names, cycles, odd
// opsets, nested subgraphs, absurd dims (fast-check), and raw wire bytes with lengths past the end —
// and hand-made extremes: deep nesting, huge declared dims and repeated counts, names of megabytes,
// millions of tiny nodes. Each ends in a model or a ModelReadError that says why, in bounded time.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NAME_BYTES, MAX_NODES } from '../../src/onnx/wire-check';
import { openLikeTheApp, within } from './pipeline';

const RUNS = Number(process.env.OPFIT_FUZZ_RUNS ?? 60);
const SEED = Number(process.env.OPFIT_FUZZ_SEED ?? 20260603);

// ---- wire-format helpers ------------------------------------------------------------------------

const enc = new TextEncoder();
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let x = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) x |= 0x80;
    out.push(x);
  } while (v > 0n);
  return out;
}
const concat = (...parts: (Uint8Array | number[])[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const ld = (field: number, body: Uint8Array | number[]) => concat(varint(field * 8 + 2), varint(body.length), body);
const vi = (field: number, v: number | bigint) => concat(varint(field * 8), varint(v));
const str = (field: number, s: string) => ld(field, enc.encode(s));
const OPSET = ld(8, vi(2, 13));
const model = (graph: Uint8Array, ...rest: Uint8Array[]) => concat(vi(1, 8), ld(7, graph), OPSET, ...rest);
// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5; GraphProto: node 1, initializer 5,
// input 11, output 12; AttributeProto: name 1, g 6, type 20; TensorProto: dims 1, data_type 2, name 8, raw_data 9.
const nodeMsg = (inputs: string[], outputs: string[], op: string, name = '', ...attrs: Uint8Array[]) =>
  ld(1, concat(...inputs.map((i) => str(1, i)), ...outputs.map((o) => str(2, o)), ...(name ? [str(3, name)] : []), str(4, op), ...attrs.map((a) => ld(5, a))));
const io = (field: number, name: string) => ld(field, str(1, name));

function nested(depth: number): Uint8Array {
  let g = concat(nodeMsg(['x'], ['y'], 'Relu'), io(11, 'x'), io(12, 'y'));
  for (let i = 0; i < depth; i++) g = concat(nodeMsg(['c'], ['y'], 'If', '', concat(str(1, 'then_branch'), vi(20, 5), ld(6, g))), io(11, 'c'), io(12, 'y'));
  return model(g);
}

// ---- generated models (valid protobuf, hostile content) -------------------------------------------

const NAMES = ['x', 'y', 'a', 'b', 'slope', '', 'x'];
const name = fc.constantFrom(...NAMES);
const opType = fc.constantFrom('PRelu', 'PRelu', 'Relu', 'Add', 'If', 'Loop', 'Scan', 'Constant', 'Where', 'Frob', 'Gelu', 'Identity', 'Mul', 'MyFn');
const domain = fc.constantFrom('', '', '', '', 'ai.onnx', 'com.microsoft', 'com.example', 'local');
const dimValue = fc.oneof(fc.integer({ min: -2, max: 6 }).map(BigInt), fc.constantFrom(2n ** 40n, 2n ** 62n, -(2n ** 62n), 0n));
const dtype = fc.constantFrom(0, 1, 1, 1, 6, 7, 10, 11, 16, 30);
const tensor = fc.record({
  name,
  dataType: dtype,
  dims: fc.array(dimValue, { maxLength: 4 }),
  rawData: fc.uint8Array({ maxLength: 48 }),
  floatData: fc.array(fc.float({ noDefaultInfinity: false }), { maxLength: 6 }),
});
const shapeDim = fc.oneof(dimValue.map((v) => ({ value: { case: 'dimValue' as const, value: v } })), fc.constantFrom('N', '').map((p) => ({ value: { case: 'dimParam' as const, value: p } })));
const valueInfo = fc.record({
  name,
  type: fc.record({ value: fc.record({ case: fc.constant('tensorType' as const), value: fc.record({ elemType: dtype, shape: fc.option(fc.record({ dim: fc.array(shapeDim, { maxLength: 4 }) }), { nil: undefined }) }) }) }),
});
const opset = fc.record({ domain, version: fc.integer({ min: 0, max: 40 }).map(BigInt) });

const { graph } = fc.letrec((tie) => ({
  graph: fc.record({
    name: fc.constantFrom('g', 'body', ''),
    node: fc.array(tie('node'), { maxLength: 6 }),
    input: fc.array(valueInfo, { maxLength: 3 }),
    output: fc.array(valueInfo, { maxLength: 2 }),
    initializer: fc.array(tensor, { maxLength: 3 }),
    valueInfo: fc.array(valueInfo, { maxLength: 3 }),
  }),
  node: fc.record({
    opType,
    domain,
    name: fc.constantFrom('n', 'm', '', 'prelu'),
    input: fc.array(name, { maxLength: 3 }),
    output: fc.array(name, { minLength: 1, maxLength: 2 }),
    attribute: fc.array(tie('attribute'), { maxLength: 2 }),
  }),
  attribute: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ name: fc.constantFrom('alpha', 'axis'), type: fc.constantFrom(1, 2), f: fc.float(), i: fc.bigInt({ min: -5n, max: 5n }) }),
    fc.record({ name: fc.constant('value'), type: fc.constant(4), t: tensor }),
    fc.record({ name: fc.constantFrom('then_branch', 'else_branch', 'body'), type: fc.constant(5), g: tie('graph') }),
  ),
}));

const generatedModel = fc.record({
  irVersion: fc.integer({ min: 0, max: 15 }).map(BigInt),
  opsetImport: fc.array(opset, { maxLength: 3 }),
  graph,
  functions: fc.array(fc.record({ name: fc.constant('MyFn'), domain: fc.constantFrom('local', ''), input: fc.array(name, { maxLength: 2 }), output: fc.array(name, { maxLength: 2 }), node: fc.array(fc.record({ opType, domain, input: fc.array(name, { maxLength: 2 }), output: fc.array(name, { minLength: 1, maxLength: 1 }) }), { maxLength: 3 }), opsetImport: fc.array(opset, { maxLength: 2 }) }), { maxLength: 1 }),
});

// ---- raw wire bytes --------------------------------------------------------------------------------

const { message: rawMessage } = fc.letrec((tie) => ({
  message: fc.array(tie('field'), { maxLength: 6 }).map((fields) => concat(...(fields as Uint8Array[]))),
  field: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.integer({ min: 1, max: 30 }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })).map(([f, v]) => vi(f, v)),
    fc.tuple(fc.integer({ min: 1, max: 30 }), fc.uint8Array({ maxLength: 24 })).map(([f, b]) => ld(f, b)),
    fc.tuple(fc.constantFrom(1, 5, 7, 11, 12, 25, 100, 500), tie('message')).map(([f, m]) => ld(f, m as Uint8Array)),
    // A length prefix far past the end, or a wire type ONNX never uses.
    fc.tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom(2 ** 31, 2 ** 53, 1e6)).map(([f, len]) => concat(varint(f * 8 + 2), varint(len), [1, 2, 3])),
    fc.tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom(3, 4, 6, 7)).map(([f, wt]) => concat(varint(f * 8 + wt), [0])),
  ),
}));

describe('generated hostile input', () => {
  it('generated models (colliding names, cycles, odd opsets, nested subgraphs, absurd dims) open or fail clearly, and Fix all never throws', () => {
    const kinds = { model: 0, error: 0 };
    fc.assert(
      fc.property(generatedModel, (m) => {
        const bytes = toBinary(ModelProtoSchema, create(ModelProtoSchema, m as never));
        kinds[within(3_000, 'a generated model', () => openLikeTheApp(bytes, 'gen.onnx', { fix: true })).kind]++;
      }),
      { numRuns: RUNS * 3, seed: SEED },
    );
    expect(kinds.model).toBeGreaterThan(0);
  });

  it('raw protobuf-like bytes (random fields, lengths past the end, bad wire types) open or fail clearly', () => {
    fc.assert(
      fc.property(rawMessage, (bytes) => {
        within(3_000, 'raw bytes', () => openLikeTheApp(bytes, 'raw.onnx'));
      }),
      { numRuns: RUNS * 3, seed: SEED },
    );
  });
});

describe('hand-made extremes', () => {
  const open = (bytes: Uint8Array, ms = 2_000) => within(ms, 'opening', () => openLikeTheApp(bytes, 'h.onnx', { fix: true }));

  it('subgraphs nested 30 deep open; 40 or 5,000 deep are refused, saying so', () => {
    expect(open(nested(30)).kind).toBe('model');
    for (const depth of [40, 5000]) {
      const out = open(nested(depth));
      expect(out).toMatchObject({ kind: 'error' });
      expect((out as { message: string }).message).toMatch(/^h\.onnx is not a readable ONNX model: its messages are nested more than 100 levels deep at byte [\d,]+ \(32 subgraphs inside each other, in graph\.node\[0\]\.attribute\[0\]\.g\..* … .*\)\. Decoding stops there/);
    }
  });

  it('a length prefix far past the end names the byte, the field and how much was read', () => {
    const graphBody = concat(nodeMsg(['x'], ['y'], 'Relu'), io(11, 'x'), io(12, 'y'));
    const bytes = concat(vi(1, 8), varint(7 * 8 + 2), varint(2 ** 31), graphBody);
    const out = open(bytes);
    expect(out).toMatchObject({ kind: 'error', format: 'corrupt-onnx' });
    expect((out as { message: string }).message).toMatch(/^h\.onnx is not a readable ONNX model: reading failed at byte 2 in graph: its length prefix says 2147483648 bytes, but only \d+ remain\. 2 of [\d,]+ bytes \(\d+%\) were read/);
  });

  it('huge declared dims (2^40 × 2^40 slope, 2^62 shapes) open and are checked without allocating them', () => {
    const slope = ld(5, concat(vi(1, 2n ** 40n), vi(1, 2n ** 40n), vi(2, 1), str(8, 'slope'), ld(9, new Uint8Array(16))));
    const x = ld(11, concat(str(1, 'x'), ld(2, ld(1, concat(vi(1, 1), ld(2, concat(ld(1, vi(1, 2n ** 62n)), ld(1, vi(1, 2n ** 62n)))))))));
    const bytes = model(concat(nodeMsg(['x', 'slope'], ['y'], 'PRelu', 'p'), slope, x, io(12, 'y')));
    expect(open(bytes)).toMatchObject({ kind: 'model' });
  });

  it('tens of millions of repeated values (packed dims) are refused before decoding, with the memory it would take', () => {
    const dims = new Uint8Array(30_000_000).fill(1);
    const bytes = model(ld(5, concat(ld(1, dims), vi(2, 1), str(8, 'w'))));
    const out = open(bytes, 1_000);
    expect(out).toMatchObject({ kind: 'error', format: 'too-large' });
    expect((out as { message: string }).message).toMatch(/^h\.onnx would take more than 1,024 MB of memory once decoded .* OpFit stops there rather than exhaust the page's memory/);
  });

  it('a name of megabytes is refused; one of 60 KB opens', () => {
    const big = 'n'.repeat(4 << 20);
    const out = open(model(concat(nodeMsg(['x'], ['y'], 'Relu', big), io(11, 'x'), io(12, 'y'))), 1_000);
    expect((out as { message: string }).message).toBe(`h.onnx holds a NodeProto.name of 4,194,304 bytes (at byte 23); OpFit refuses names over ${MAX_NAME_BYTES.toLocaleString('en-US')} bytes, which no exporter writes, rather than draw them.`);
    expect(open(model(concat(nodeMsg(['x'], ['y'], 'Relu', 'n'.repeat(60_000)), io(11, 'x'), io(12, 'y')))).kind).toBe('model');
  });

  it('millions of tiny nodes are refused at once; a chain of 100,000 opens, is checked, drawn and saved in seconds', () => {
    const empty = new Uint8Array(2 * 3_000_000);
    for (let i = 0; i < empty.length; i += 2) empty[i] = 0x0a; // graph.node, length 0
    const out = open(model(empty), 1_000);
    expect(out).toMatchObject({ kind: 'error', format: 'too-large' });
    expect((out as { message: string }).message).toMatch(new RegExp(`^h\\.onnx has more than ${MAX_NODES.toLocaleString('en-US')} nodes \\(counted up to byte [\\d,]+ of 6,000,011\\)\\. OpFit stops there so that the page stays responsive`));

    const n = 100_000;
    const chain = Array.from({ length: n }, (_, i) => nodeMsg([i ? `t${i - 1}` : 'x'], [i === n - 1 ? 'y' : `t${i}`], 'Relu'));
    const opened = within(15_000, 'a 100,000-node chain', () => openLikeTheApp(model(concat(...chain, io(11, 'x'), io(12, 'y'))), 'chain.onnx'));
    expect(opened).toMatchObject({ kind: 'model', findings: 0 });
  });
});
