// Where each decoded message came from in the file. After fromBinary, a second, cheap walk over
// the wire format (length-delimited payloads are skipped, so it costs O(fields), not O(bytes))
// records, for every message object, the byte range of its encoding — but only when those bytes
// are exactly what toBinary would write for the object ("canonical"). The splice writer then
// copies such a message's original bytes instead of re-encoding it, and the result is still
// byte-identical to toBinary. Ranges are keyed by object identity in a WeakMap: edits are
// immutable and share untouched messages (src/graph/edit.ts), so identity means "unchanged".
//
// Canonical means: known fields in ascending field-number order, unknown fields after them, no
// singular field twice, minimal varints (tags, lengths, values; negative int32 as 10 bytes),
// packed fields packed in one non-empty run (unpacked fields unpacked), closed enums holding known
// values, valid UTF-8 strings, NaN payloads that survive a float round trip — and every child
// message canonical. A message that is not canonical gets no range (it is re-encoded) and neither
// do its ancestors; its canonical descendants keep theirs. Shapes the positional mapping cannot
// follow (a singular message field twice, which protobuf merges; groups) drop all ranges of the
// model: it is then re-encoded in full, which is slower but still exact.
import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { BREATHE, runSteps, type Steps } from '../steps';

/** The encoding of one message in `src`: payload [start, end); the tag and length from `head`. */
export interface Span {
  readonly src: Uint8Array;
  readonly start: number;
  readonly end: number;
  /**
   * Offset of the field tag in front of the payload when that tag and length prefix are what
   * toBinary writes (minimal varints), else -1; always -1 for the root message.
   */
  readonly head: number;
  /** The field number that tag names (0 for the root). */
  readonly fieldNo: number;
}

const spans = new WeakMap<object, Span>();

/** The original encoding of a message object, if it was read from bytes and is canonical. */
export function spanOf(message: object): Span | undefined {
  return spans.get(message);
}

export interface SpanStats {
  /** Messages that got a range. */
  recorded: number;
  /** Messages re-encoded on save because their original bytes are not what toBinary writes. */
  nonCanonical: number;
  /** Set when the whole model lost its ranges, with the reason. */
  abandoned?: string;
}

class Abandon extends Error {}

const enum K { Message, MessageList, Scalar, ScalarList, PackedList, Other }

interface FieldInfo {
  kind: K;
  no: number;
  local: string;
  /** Wire type the field's values are written with. */
  wt: number;
  scalar: ScalarType;
  oneof?: string;
  /** A bit for the field's oneof, distinct within its message (0 when not in a oneof). */
  oneofBit: number;
  closedEnum?: Set<number>;
  child?: DescMessage;
}

interface MessageInfo {
  byNo: (FieldInfo | undefined)[];
  extra: Map<number, FieldInfo>;
}

const compiled = new WeakMap<DescMessage, MessageInfo>();

function wireTypeOf(t: ScalarType): number {
  switch (t) {
    case ScalarType.BYTES: case ScalarType.STRING: return 2;
    case ScalarType.DOUBLE: case ScalarType.FIXED64: case ScalarType.SFIXED64: return 1;
    case ScalarType.FIXED32: case ScalarType.SFIXED32: case ScalarType.FLOAT: return 5;
    default: return 0;
  }
}

function fieldInfo(f: DescField, oneofBit: number): FieldInfo {
  const base = { no: f.number, local: f.localName, oneof: f.oneof?.localName, oneofBit };
  if (f.fieldKind === 'map' || ((f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message')) && f.delimitedEncoding)) {
    return { ...base, kind: K.Other, wt: -1, scalar: ScalarType.BYTES };
  }
  if (f.fieldKind === 'message') return { ...base, kind: K.Message, wt: 2, scalar: ScalarType.BYTES, child: f.message };
  if (f.fieldKind === 'list' && f.listKind === 'message') return { ...base, kind: K.MessageList, wt: 2, scalar: ScalarType.BYTES, child: f.message };
  const isEnum = f.fieldKind === 'enum' || (f.fieldKind === 'list' && f.listKind === 'enum');
  const scalar = isEnum ? ScalarType.INT32 : (f as { scalar: ScalarType }).scalar;
  const closedEnum = isEnum && f.enum && !f.enum.open ? new Set(f.enum.values.map((v) => v.number)) : undefined;
  if (f.fieldKind === 'list') return { ...base, kind: f.packed ? K.PackedList : K.ScalarList, wt: wireTypeOf(scalar), scalar, closedEnum };
  return { ...base, kind: K.Scalar, wt: wireTypeOf(scalar), scalar, closedEnum };
}

function info(desc: DescMessage): MessageInfo {
  let m = compiled.get(desc);
  if (!m) {
    m = { byNo: [], extra: new Map() };
    for (const f of desc.fields) {
      const k = f.oneof ? desc.oneofs.indexOf(f.oneof) : -1;
      const fi = fieldInfo(f, k >= 0 && k < 31 ? 1 << k : 0);
      if (f.number < 1024) m.byNo[f.number] = fi;
      else m.extra.set(f.number, fi);
    }
    compiled.set(desc, m);
  }
  return m;
}

// The varint just read: low and high 32 bits, its length, and whether it is the shortest form.
let vLo = 0;
let vHi = 0;
let vLen = 0;
let vMinimal = true;

function varint(b: Uint8Array, pos: number, end: number): number {
  let lo = 0;
  let hi = 0;
  let i = 0;
  let byte = 0;
  for (;;) {
    if (pos >= end || i >= 10) throw new Abandon('a varint runs past its message');
    byte = b[pos++]!;
    const bits = byte & 0x7f;
    if (i < 4) lo |= bits << (7 * i);
    else if (i === 4) { lo |= bits << 28; hi |= bits >>> 4; }
    else hi |= bits << (7 * i - 32);
    i++;
    if (byte < 0x80) break;
  }
  vLo = lo >>> 0;
  vHi = hi >>> 0;
  vLen = i;
  vMinimal = i === 1 || (byte !== 0 && (i < 10 || byte === 1));
  return pos;
}

/** Whether the varint just read is what BinaryWriter writes for the value BinaryReader decodes. */
function varintCanonical(t: ScalarType): boolean {
  if (!vMinimal) return false;
  switch (t) {
    case ScalarType.INT32:
      return (vLo | 0) >= 0 ? vHi === 0 : vHi === 0xffffffff && vLen === 10;
    case ScalarType.UINT32: case ScalarType.SINT32:
      return vHi === 0;
    case ScalarType.BOOL:
      return vLen === 1 && vLo <= 1;
    default: // INT64, UINT64, SINT64: every minimal 64-bit varint round-trips
      return true;
  }
}

const scratch = new DataView(new ArrayBuffer(8));
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A float's bits survive getFloat32 → setFloat32 (only NaN payloads can fail to). */
function floatCanonical(view: DataView, at: number): boolean {
  const bits = view.getUint32(at, true);
  if ((bits & 0x7f800000) !== 0x7f800000 || (bits & 0x7fffff) === 0) return true;
  scratch.setFloat32(0, view.getFloat32(at, true), true);
  return scratch.getUint32(0, true) === bits;
}

function doubleCanonical(view: DataView, at: number): boolean {
  const hi = view.getUint32(at + 4, true);
  if ((hi & 0x7ff00000) !== 0x7ff00000) return true;
  scratch.setFloat64(0, view.getFloat64(at, true), true);
  return scratch.getUint32(0, true) === view.getUint32(at, true) && scratch.getUint32(4, true) === hi;
}

function stringCanonical(b: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    if (b[i]! > 0x7f) {
      try {
        utf8.decode(b.subarray(start, end));
        return true;
      } catch {
        return false; // the reader substitutes U+FFFD, so re-encoding differs
      }
    }
  }
  return true;
}

class Walker {
  readonly view: DataView;
  readonly objs: object[] = [];
  readonly heads: number[] = [];
  nonCanonical = 0;
  /** Per nesting depth, occurrence counts of field numbers below 64 (reused: no allocation per message). */
  private readonly countsAt: Int32Array[] = [];

  private counts(depth: number): Int32Array {
    let c = this.countsAt[depth];
    if (!c) this.countsAt[depth] = c = new Int32Array(64);
    else c.fill(0);
    return c;
  }

  constructor(readonly b: Uint8Array) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Whether the last scalar() read a canonical value. */
  private sc = true;

  /** Reads one scalar value of type `t` at `pos` (wire type already checked); sets `sc`. */
  private scalar(t: ScalarType, closed: Set<number> | undefined, pos: number, end: number): number {
    switch (t) {
      case ScalarType.FLOAT:
        if (pos + 4 > end) throw new Abandon('truncated fixed32');
        this.sc = floatCanonical(this.view, pos);
        return pos + 4;
      case ScalarType.DOUBLE:
        if (pos + 8 > end) throw new Abandon('truncated fixed64');
        this.sc = doubleCanonical(this.view, pos);
        return pos + 8;
      case ScalarType.FIXED32: case ScalarType.SFIXED32:
        this.sc = true;
        return pos + 4;
      case ScalarType.FIXED64: case ScalarType.SFIXED64:
        this.sc = true;
        return pos + 8;
      case ScalarType.STRING: case ScalarType.BYTES: {
        pos = varint(this.b, pos, end);
        const ok = vMinimal && vHi === 0;
        const e = pos + vLo;
        if (e > end) throw new Abandon('a length runs past its message');
        this.sc = ok && (t === ScalarType.BYTES || stringCanonical(this.b, pos, e));
        return e;
      }
      default:
        pos = varint(this.b, pos, end);
        this.sc = varintCanonical(t) && (!closed || closed.has(vLo | 0));
        return pos;
    }
  }

  private skip(wt: number, pos: number, end: number): number {
    switch (wt) {
      case 0: return varint(this.b, pos, end);
      case 1: return pos + 8;
      case 5: return pos + 4;
      case 2: {
        pos = varint(this.b, pos, end);
        return pos + vLo + vHi * 2 ** 32;
      }
      default: throw new Abandon(`wire type ${wt} (groups) is not followed`);
    }
  }

  /** Walks the payload [start, end) of `obj`; records its range when canonical and returns that. */
  walk(desc: DescMessage, obj: Record<string, unknown>, start: number, end: number, head: number, fieldNo: number, depth = 0): boolean {
    const b = this.b;
    const m = info(desc);
    let pos = start;
    let ok = true;
    let lastNo = 0;
    let sawUnknown = false;
    const counts = this.counts(depth);
    let bigCounts: Map<number, number> | undefined;
    let oneofs = 0;
    let oneofsOther: Set<string> | undefined;
    while (pos < end) {
      const tagAt = pos;
      pos = varint(b, pos, end);
      const tagOk = vMinimal && vHi === 0;
      if (!tagOk) ok = false;
      const no = vLo >>> 3;
      const wt = vLo & 7;
      const f = no < 1024 ? m.byNo[no] : m.extra.get(no);
      if (!f) {
        sawUnknown = true;
        pos = this.skip(wt, pos, end);
        continue;
      }
      if (sawUnknown || no < lastNo) ok = false;
      lastNo = no;
      let count: number;
      if (no < 64) count = ++counts[no]!;
      else {
        bigCounts ??= new Map();
        count = (bigCounts.get(no) ?? 0) + 1;
        bigCounts.set(no, count);
      }
      if (f.oneof) {
        let seen: boolean;
        if (f.oneofBit) {
          seen = (oneofs & f.oneofBit) !== 0;
          oneofs |= f.oneofBit;
        } else {
          oneofsOther ??= new Set();
          seen = oneofsOther.has(f.oneof);
          oneofsOther.add(f.oneof);
        }
        if (seen && count === 1) {
          if (f.kind === K.Message) throw new Abandon('two members of a oneof');
          ok = false; // the last one wins; toBinary writes only it
        }
      }
      switch (f.kind) {
        case K.Message:
        case K.MessageList: {
          if (wt !== 2) throw new Abandon('a message field with a wrong wire type');
          pos = varint(b, pos, end);
          const lenOk = vMinimal && vHi === 0;
          if (!lenOk) ok = false;
          const bodyEnd = pos + vLo;
          if (bodyEnd > end) throw new Abandon('a message runs past its parent');
          let child: unknown;
          if (f.kind === K.MessageList) child = (obj[f.local] as unknown[])[count - 1];
          else if (count > 1) throw new Abandon('a singular message field twice (merged on decode)');
          else if (f.oneof) {
            const o = obj[f.oneof] as { case?: string; value?: unknown };
            if (o.case !== f.local) throw new Abandon('a oneof message was replaced by a later member');
            child = o.value;
          } else child = obj[f.local];
          if (typeof child !== 'object' || child === null) throw new Abandon('a decoded message is missing');
          if (!this.walk(f.child!, child as Record<string, unknown>, pos, bodyEnd, tagOk && lenOk ? tagAt : -1, no, depth + 1)) ok = false;
          pos = bodyEnd;
          break;
        }
        case K.Scalar:
        case K.ScalarList: {
          if (f.kind === K.Scalar && count > 1) ok = false;
          if (wt !== f.wt) {
            ok = false;
            pos = this.skip(wt, pos, end);
          } else {
            pos = this.scalar(f.scalar, f.closedEnum, pos, end);
            if (!this.sc) ok = false;
          }
          break;
        }
        case K.PackedList: {
          if (wt !== 2 || count > 1) {
            ok = false;
            pos = this.skip(wt, pos, end);
            break;
          }
          pos = varint(b, pos, end);
          if (!vMinimal || vHi !== 0 || vLo === 0) ok = false;
          const runEnd = pos + vLo;
          if (runEnd > end) throw new Abandon('a packed run past its message');
          if (f.scalar === ScalarType.FIXED32 || f.scalar === ScalarType.SFIXED32 || f.scalar === ScalarType.FIXED64 || f.scalar === ScalarType.SFIXED64) {
            pos = runEnd;
          } else if (ok) {
            while (pos < runEnd) {
              pos = this.scalar(f.scalar, f.closedEnum, pos, runEnd);
              if (!this.sc) { ok = false; break; }
            }
          }
          pos = runEnd;
          break;
        }
        default:
          ok = false;
          pos = this.skip(wt, pos, end);
      }
    }
    if (pos !== end) throw new Abandon('a field runs past its message');
    if (ok) {
      this.objs.push(obj);
      this.heads.push(start, end, head, fieldNo);
    } else this.nonCanonical++;
    return ok;
  }
}

/**
 * Records the original byte range of every canonical message of `root`, decoded from `bytes` by
 * fromBinary(desc, bytes). Call it right after decoding, before anything can change the objects.
 */
export function recordSpans(desc: DescMessage, bytes: Uint8Array, root: object): SpanStats {
  return runSteps(recordSpansSteps(desc, bytes, root));
}

/** Ranges registered between two yields of recordSpansSteps. */
const SPANS_PER_STEP = 20_000;

/**
 * recordSpans in steps (src/steps.ts): the walk (one step), then the registration of what it found, a part at a
 * time (50,000 nodes: 75,000 messages; walk ~40–70 ms, registration ~20 ms). Nothing may change the objects meanwhile.
 */
export function* recordSpansSteps(desc: DescMessage, bytes: Uint8Array, root: object): Steps<SpanStats> {
  const w = new Walker(bytes);
  try {
    w.walk(desc, root as Record<string, unknown>, 0, bytes.length, -1, 0);
  } catch (e) {
    if (e instanceof Abandon) return { recorded: 0, nonCanonical: 0, abandoned: e.message };
    throw e;
  }
  yield BREATHE;
  const h = w.heads;
  for (let i = 0; i < w.objs.length; i++) {
    spans.set(w.objs[i]!, { src: bytes, start: h[4 * i]!, end: h[4 * i + 1]!, head: h[4 * i + 2]!, fieldNo: h[4 * i + 3]! });
    if ((i + 1) % SPANS_PER_STEP === 0) yield;
  }
  return { recorded: w.objs.length, nonCanonical: w.nonCanonical };
}
