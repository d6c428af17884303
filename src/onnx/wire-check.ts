// When a file fails to decode, walk its protobuf wire format against the ONNX schema to say
// where it broke: the byte offset, the field path (e.g. graph.initializer[3].raw_data) and how
// much of the file was read. Netron's "File format is not onnx.ModelProto" is the floor, not the goal.
import { ScalarType, type DescMessage } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';

class WireFault extends Error {
  constructor(readonly offset: number, readonly path: string, readonly problem: string) {
    super(problem);
  }
}

const DEEP = 'messages are nested more than 100 levels deep';

/** A field path short enough to read: the start and the end of a very deep one. */
function shortPath(path: string): string {
  return path.length <= 160 ? path : `${path.slice(0, 60)} … ${path.slice(-90)}`;
}

function readVarint(b: Uint8Array, pos: number, path: string): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new WireFault(pos, path, 'the file ends in the middle of a number');
    const byte = b[pos++]!;
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
  throw new WireFault(pos, path, 'a number is longer than 10 bytes (not protobuf)');
}

function walk(b: Uint8Array, start: number, end: number, desc: DescMessage, path: string, depth: number): void {
  // protobuf-es decodes at most 100 levels of messages (its recursionLimit): the root is level 1.
  if (depth >= 100) throw new WireFault(start, path, DEEP);
  const counts = new Map<number, number>();
  let pos = start;
  while (pos < end) {
    const tagAt = pos;
    const [tag, afterTag] = readVarint(b, pos, path);
    pos = afterTag;
    const fieldNo = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    const field = desc.fields.find((f) => f.number === fieldNo);
    const index = counts.get(fieldNo) ?? 0;
    counts.set(fieldNo, index + 1);
    const name = field ? field.name : `field ${fieldNo}`;
    const here = `${path}${path ? '.' : ''}${name}${field?.fieldKind === 'list' ? `[${index}]` : ''}`;
    if (fieldNo === 0) throw new WireFault(tagAt, path || 'ModelProto', 'field number 0 is not valid protobuf');
    switch (wireType) {
      case 0:
        pos = readVarint(b, pos, here)[1];
        break;
      case 1:
        if (pos + 8 > end) throw new WireFault(pos, here, 'an 8-byte value runs past the end');
        pos += 8;
        break;
      case 5:
        if (pos + 4 > end) throw new WireFault(pos, here, 'a 4-byte value runs past the end');
        pos += 4;
        break;
      case 2: {
        const [len, afterLen] = readVarint(b, pos, here);
        pos = afterLen;
        const sub = field?.fieldKind === 'message' ? field.message
          : field?.fieldKind === 'list' && field.listKind === 'message' ? field.message
          : undefined;
        if (BigInt(pos) + len > BigInt(end)) {
          // Truncated: descend into what is there, so the deepest broken field is named.
          if (sub) walk(b, pos, end, sub, here, depth + 1);
          throw new WireFault(tagAt, here, `its length prefix says ${len} bytes, but only ${end - pos} remain`);
        }
        if (sub) walk(b, pos, pos + Number(len), sub, here, depth + 1);
        pos += Number(len);
        break;
      }
      default:
        throw new WireFault(tagAt, here, `wire type ${wireType} is not used by ONNX (the bytes are not an ONNX protobuf here)`);
    }
  }
}

/** A sentence that names where and why decoding failed. */
export function locateDecodeFailure(bytes: Uint8Array): string {
  try {
    walk(bytes, 0, bytes.length, ModelProtoSchema, '', 0);
  } catch (e) {
    if (e instanceof WireFault && e.problem === DEEP) {
      const graphs = (e.path.match(/\.g\.|\.graphs\[/g) ?? []).length;
      return `its messages are nested more than 100 levels deep at byte ${e.offset.toLocaleString('en-US')} (${graphs} subgraphs inside each other, in ${shortPath(e.path)}). ` +
        'Decoding stops there, as protobuf decoders do, so that a hostile file cannot exhaust the stack; real models nest a few subgraphs at most.';
    }
    if (e instanceof WireFault) {
      const pct = bytes.length ? Math.floor((e.offset / bytes.length) * 100) : 0;
      return `reading failed at byte ${e.offset.toLocaleString('en-US')} in ${shortPath(e.path) || 'the top-level ModelProto'}: ` +
        `${e.problem}. ${e.offset.toLocaleString('en-US')} of ${bytes.length.toLocaleString('en-US')} bytes (${pct}%) were read. ` +
        'The file is probably truncated or corrupted: download or export it again.';
    }
    throw e;
  }
  return 'the protobuf structure is intact but a field holds a value of the wrong kind. Export the model again.';
}

/** Field numbers of the top-level message, read until the first malformed byte (at most 64). */
export function topLevelFields(b: Uint8Array): number[] {
  const out: number[] = [];
  let pos = 0;
  try {
    while (pos < b.length && out.length < 64) {
      const [tag, p] = readVarint(b, pos, '');
      pos = p;
      out.push(Number(tag >> 3n));
      const wt = Number(tag & 7n);
      if (wt === 0) pos = readVarint(b, pos, '')[1];
      else if (wt === 1) pos += 8;
      else if (wt === 5) pos += 4;
      else if (wt === 2) {
        const [len, q] = readVarint(b, pos, '');
        pos = q + Number(len);
      } else break;
    }
  } catch {
    // a malformed tail: the fields seen so far are still evidence
  }
  return out;
}

// ---- the work budget ---------------------------------------------------------------------------
// Decoding is the one step whose cost the file alone decides: about 1 KB of memory and a few µs
// per node, ~50 bytes per int64 element (a BigInt), a copy of every string. A hostile or absurd file
// (millions of empty nodes, tens of millions of dims, a name of megabytes) would freeze the page or
// exhaust its memory before any check could say why. So before decoding, one walk over the wire
// format (payloads skipped, packed runs counted by their bytes) estimates that cost and refuses,
// saying why, what a real model never needs. Messages nested too deep are left to the decoder
// (protobuf-es stops at 100 levels) and locateDecodeFailure, which names them.

/** Nodes, in all graphs and functions together. Real exporters' largest graphs have tens of thousands. */
export const MAX_NODES = 250_000;
/** Estimated memory of the decoded model (JS objects, BigInts, strings), in bytes. */
export const MAX_DECODED_BYTES = 1 << 30;
/** Longest name (of a node, value, tensor, graph, attribute, op or domain), in bytes. */
export const MAX_NAME_BYTES = 1 << 16;

/** Rough heap cost of decoded parts, measured with Node 20 on synthetic models (tests/fuzz/hostile.test.ts). */
const COST = { node: 1000, message: 300, int64: 50, number: 8, string: 60 } as const;

const NAME_FIELDS = new Set(['name', 'input', 'output', 'opType', 'domain', 'refAttrName', 'key']);
const INT64_SCALARS = new Set<number>([ScalarType.INT64, ScalarType.UINT64, ScalarType.SINT64, ScalarType.FIXED64, ScalarType.SFIXED64]);

interface FieldPlan {
  name: string;
  /** Message to descend into, when the field holds messages. */
  child?: DescMessage;
  /** String field (copied into a JS string). */
  string?: boolean;
  /** Scalar list element cost and, for packed varint runs, how to count elements. */
  element?: { cost: number; width: 0 | 4 | 8 };
}

const plans = new WeakMap<DescMessage, Map<number, FieldPlan>>();

function planOf(desc: DescMessage): Map<number, FieldPlan> {
  let plan = plans.get(desc);
  if (plan) return plan;
  plan = new Map();
  for (const f of desc.fields) {
    const p: FieldPlan = { name: f.localName };
    if (f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message')) p.child = f.message;
    else if (f.fieldKind === 'map') p.child = undefined;
    else {
      const scalar = f.fieldKind === 'enum' || (f.fieldKind === 'list' && f.listKind === 'enum') ? ScalarType.INT32 : (f as { scalar: ScalarType }).scalar;
      if (scalar === ScalarType.STRING) p.string = true;
      else if (scalar !== ScalarType.BYTES) {
        const width = scalar === ScalarType.DOUBLE || scalar === ScalarType.FIXED64 || scalar === ScalarType.SFIXED64 ? 8
          : scalar === ScalarType.FLOAT || scalar === ScalarType.FIXED32 || scalar === ScalarType.SFIXED32 ? 4 : 0;
        p.element = { cost: INT64_SCALARS.has(scalar) ? COST.int64 : COST.number, width };
      }
    }
    plan.set(f.number, p);
  }
  plans.set(desc, plan);
  return plan;
}

class OverBudget extends Error {}

interface Tally {
  nodes: number;
  bytes: number;
}

const mb = (n: number) => `${Math.round(n / 2 ** 20).toLocaleString('en-US')} MB`;
const fmtN = (n: number) => n.toLocaleString('en-US');

function measure(b: Uint8Array, start: number, end: number, desc: DescMessage, t: Tally, depth: number): void {
  if (depth > 100) return; // the decoder refuses this; locateDecodeFailure names it
  const plan = planOf(desc);
  const isNode = desc.typeName === 'onnx.NodeProto';
  t.bytes += isNode ? COST.node : COST.message;
  if (isNode && ++t.nodes > MAX_NODES) {
    throw new OverBudget(`has more than ${fmtN(MAX_NODES)} nodes (counted up to byte ${fmtN(start)} of ${fmtN(b.length)}). OpFit stops there so that the page stays responsive: decoding, checking and drawing that many takes many seconds and about 1 KB of memory per node.`);
  }
  if (t.bytes > MAX_DECODED_BYTES) {
    throw new OverBudget(`would take more than ${mb(MAX_DECODED_BYTES)} of memory once decoded (estimated from its first ${fmtN(start)} of ${fmtN(b.length)} bytes: ${fmtN(t.nodes)} nodes and many small numbers or strings). OpFit stops there rather than exhaust the page's memory.`);
  }
  let pos = start;
  while (pos < end) {
    // Tag
    let tag = 0;
    for (let shift = 1, i = 0; ; i++, shift *= 128) {
      if (pos >= end || i > 4) return; // malformed: the decoder will name it
      const x = b[pos++]!;
      tag += (x & 0x7f) * shift;
      if (!(x & 0x80)) break;
    }
    const field = plan.get(Math.floor(tag / 8));
    const wt = tag & 7;
    if (wt === 0) {
      let i = 0;
      while (pos < end && b[pos]! & 0x80 && i < 10) { pos++; i++; }
      pos++;
      if (field?.element) t.bytes += field.element.cost;
    } else if (wt === 1 || wt === 5) {
      pos += wt === 1 ? 8 : 4;
      if (field?.element) t.bytes += field.element.cost;
    } else if (wt === 2) {
      let len = 0;
      for (let shift = 1, i = 0; ; i++, shift *= 128) {
        if (pos >= end || i > 9) return;
        const x = b[pos++]!;
        len += (x & 0x7f) * shift;
        if (!(x & 0x80)) break;
      }
      const stop = pos + len;
      if (stop > end) return; // truncated: the decoder will name it
      if (field?.child) measure(b, pos, stop, field.child, t, depth + 1);
      else if (field?.string) {
        if (len > MAX_NAME_BYTES && NAME_FIELDS.has(field.name)) {
          throw new OverBudget(`holds a ${desc.name}.${field.name} of ${fmtN(len)} bytes (at byte ${fmtN(pos)}); OpFit refuses names over ${fmtN(MAX_NAME_BYTES)} bytes, which no exporter writes, rather than draw them.`);
        }
        t.bytes += COST.string + len;
      } else if (field?.element) {
        // A packed run: fixed-width elements by size, varints by their last bytes.
        let n = 0;
        if (field.element.width) n = len / field.element.width;
        else for (let i = pos; i < stop; i++) if (!(b[i]! & 0x80)) n++;
        t.bytes += n * field.element.cost;
      } else if (field) t.bytes += COST.message; // bytes (a view of the file) or a map entry
      pos = stop;
    } else return; // groups or garbage: the decoder decides
    if (t.bytes > MAX_DECODED_BYTES) {
      throw new OverBudget(`would take more than ${mb(MAX_DECODED_BYTES)} of memory once decoded (estimated from its first ${fmtN(pos)} of ${fmtN(b.length)} bytes). OpFit stops there rather than exhaust the page's memory.`);
    }
  }
}

/**
 * Why decoding this file would cost more than a page can afford (a sentence that follows the
 * file's name), or undefined. Linear in the number of fields, with payloads skipped.
 */
export function overBudget(bytes: Uint8Array): string | undefined {
  try {
    measure(bytes, 0, bytes.length, ModelProtoSchema, { nodes: 0, bytes: 0 }, 0);
  } catch (e) {
    if (e instanceof OverBudget) return e.message;
    throw e;
  }
  return undefined;
}
