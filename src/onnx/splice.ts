// Saving by splicing: a message that is unchanged since it was read (same object, see spans.ts)
// is written as its original bytes — a view into the opened file, not a copy — and a changed
// message is re-encoded field by field in exactly the order and form toBinary uses
// (@bufbuild/protobuf 2.x, to-binary.js: fields by ascending number, then unknown fields; proto2
// presence by own property; packed runs in one length-delimited record), recursing into its
// children, which are again spliced when unchanged. The output is a list of chunks whose
// concatenation is byte-identical to toBinary(model); saving costs time in proportion to what
// changed, and large byte fields (raw_data) are never copied.
import { toBinary, ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { BinaryWriter, WireType } from '@bufbuild/protobuf/wire';
import { spanOf } from './spans';

/** Byte fields at least this long are passed through as views instead of copied into a chunk. */
const VIEW_MIN = 1024;
/** Runs of small pieces are merged into chunks of about this size. */
const CHUNK = 64 * 1024;

// FeatureSet.FieldPresence, as to-binary.js names them.
const IMPLICIT = 2;
const LEGACY_REQUIRED = 3;

interface Slot {
  len: number;
  /** Bytes emitted before the slot. */
  at: number;
}

/** Collects pieces: small writes in a BinaryWriter, views as they are, length prefixes as slots. */
class Emitter {
  readonly parts: (Uint8Array | Slot)[] = [];
  readonly w = new BinaryWriter();
  private total = 0;
  private readonly stack: Slot[] = [];

  /** Moves what the scratch writer holds into the parts. */
  flush(): void {
    const b = this.w.finish();
    if (b.length) {
      this.parts.push(b);
      this.total += b.length;
    }
  }

  view(b: Uint8Array): void {
    this.flush();
    if (b.length) {
      this.parts.push(b);
      this.total += b.length;
    }
  }

  fork(): void {
    this.flush();
    const s: Slot = { len: 0, at: this.total };
    this.parts.push(s);
    this.stack.push(s);
  }

  join(): void {
    this.flush();
    const s = this.stack.pop()!;
    s.len = this.total - s.at;
    this.total += varintSize(s.len);
  }

  /** The chunks: contiguous views merged, small pieces gathered, length prefixes filled in. */
  chunks(): Uint8Array[] {
    this.flush();
    const out: Uint8Array[] = [];
    let small: Uint8Array[] = [];
    let smallSize = 0;
    const flushSmall = () => {
      if (smallSize === 0) return;
      if (small.length === 1) out.push(small[0]!);
      else {
        const c = new Uint8Array(smallSize);
        let o = 0;
        for (const s of small) { c.set(s, o); o += s.length; }
        out.push(c);
      }
      small = [];
      smallSize = 0;
    };
    // Pieces that lie back to back in one buffer (spliced siblings in the source file) form a run;
    // a long run stays a view, short ones are gathered into fresh chunks.
    let run: Uint8Array | undefined;
    const endRun = () => {
      if (!run) return;
      if (run.length >= VIEW_MIN) {
        flushSmall();
        out.push(run);
      } else {
        small.push(run);
        smallSize += run.length;
        if (smallSize >= CHUNK) flushSmall();
      }
      run = undefined;
    };
    for (const p of this.parts) {
      const b = p instanceof Uint8Array ? p : varintBytes(p.len);
      if (run && b.buffer === run.buffer && run.byteOffset + run.byteLength === b.byteOffset) {
        run = new Uint8Array(b.buffer, run.byteOffset, run.byteLength + b.byteLength);
        continue;
      }
      endRun();
      run = b;
    }
    endRun();
    flushSmall();
    return out;
  }
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) { n = Math.floor(n / 128); size++; }
  return size;
}

function varintBytes(n: number): Uint8Array {
  const out = new Uint8Array(varintSize(n));
  let i = 0;
  while (n > 0x7f) { out[i++] = (n & 0x7f) | 0x80; n = Math.floor(n / 128); }
  out[i] = n;
  return out;
}

function wireTypeOf(t: ScalarType): WireType {
  switch (t) {
    case ScalarType.BYTES: case ScalarType.STRING: return WireType.LengthDelimited;
    case ScalarType.DOUBLE: case ScalarType.FIXED64: case ScalarType.SFIXED64: return WireType.Bit64;
    case ScalarType.FIXED32: case ScalarType.SFIXED32: case ScalarType.FLOAT: return WireType.Bit32;
    default: return WireType.Varint;
  }
}

function writeScalar(em: Emitter, t: ScalarType, v: unknown): void {
  const w = em.w;
  switch (t) {
    case ScalarType.STRING: w.string(v as string); break;
    case ScalarType.BOOL: w.bool(v as boolean); break;
    case ScalarType.DOUBLE: w.double(v as number); break;
    case ScalarType.FLOAT: w.float(v as number); break;
    case ScalarType.INT32: w.int32(v as number); break;
    case ScalarType.INT64: w.int64(v as bigint); break;
    case ScalarType.UINT64: w.uint64(v as bigint); break;
    case ScalarType.FIXED64: w.fixed64(v as bigint); break;
    case ScalarType.FIXED32: w.fixed32(v as number); break;
    case ScalarType.SFIXED32: w.sfixed32(v as number); break;
    case ScalarType.SFIXED64: w.sfixed64(v as bigint); break;
    case ScalarType.SINT64: w.sint64(v as bigint); break;
    case ScalarType.UINT32: w.uint32(v as number); break;
    case ScalarType.SINT32: w.sint32(v as number); break;
    case ScalarType.BYTES: {
      const b = v as Uint8Array;
      if (b instanceof Uint8Array && b.byteLength >= VIEW_MIN) {
        w.uint32(b.byteLength);
        em.view(b);
      } else w.bytes(b);
      break;
    }
  }
}

type Msg = Record<string, unknown> & { $unknown?: { no: number; wireType: WireType; data: Uint8Array }[] };

interface Compiled {
  fields: DescField[];
  /** Map fields or group-encoded messages: re-encoded whole by toBinary (ONNX has neither). */
  whole: boolean;
}

const compiledMessages = new WeakMap<DescMessage, Compiled>();

function compiled(desc: DescMessage): Compiled {
  let c = compiledMessages.get(desc);
  if (!c) {
    const fields = desc.fields.concat().sort((a, b) => a.number - b.number);
    const whole = fields.some((f) => f.fieldKind === 'map' || ((f.fieldKind === 'message' || (f.fieldKind === 'list' && f.listKind === 'message')) && f.delimitedEncoding));
    c = { fields, whole };
    compiledMessages.set(desc, c);
  }
  return c;
}

/** Whether an implicit-presence singular field holds a non-zero value (to-binary.js's checks). */
function implicitSet(f: DescField, v: unknown): boolean {
  if (f.fieldKind === 'enum') return v !== f.enum.values[0]!.number;
  if (f.fieldKind !== 'scalar') return v !== undefined;
  switch (f.scalar) {
    case ScalarType.BOOL: return v !== false;
    case ScalarType.STRING: return v !== '';
    case ScalarType.BYTES: return !(v instanceof Uint8Array) || v.byteLength > 0;
    case ScalarType.DOUBLE: case ScalarType.FLOAT: return !Object.is(v, 0);
    default: return v != 0; // eslint-disable-line eqeqeq -- matches 0n, 0 and "0", as toBinary does
  }
}

/** One message as a field of its parent: original bytes when unchanged, else re-encoded. */
function writeChild(em: Emitter, fieldNo: number, desc: DescMessage, child: Msg): void {
  const span = spanOf(child);
  if (span) {
    if (span.fieldNo === fieldNo && span.head >= 0) em.view(span.src.subarray(span.head, span.end));
    else {
      em.w.tag(fieldNo, WireType.LengthDelimited).uint32(span.end - span.start);
      em.view(span.src.subarray(span.start, span.end));
    }
    return;
  }
  em.w.tag(fieldNo, WireType.LengthDelimited);
  em.fork();
  writeBody(em, desc, child);
  em.join();
}

function writeBody(em: Emitter, desc: DescMessage, msg: Msg): void {
  const c = compiled(desc);
  if (c.whole) {
    em.view(toBinary(desc, msg as never, { writeUnknownFields: true }));
    return;
  }
  for (const f of c.fields) {
    switch (f.fieldKind) {
      case 'message': case 'scalar': case 'enum': {
        let value: unknown;
        if (f.oneof) {
          const o = msg[f.oneof.localName] as { case?: string; value?: unknown };
          if (o.case !== f.localName) continue;
          value = o.value;
        } else if (f.presence !== IMPLICIT) {
          value = msg[f.localName];
          if (value === undefined || !Object.prototype.hasOwnProperty.call(msg, f.localName)) {
            if (f.presence === LEGACY_REQUIRED) throw new Error(`cannot encode ${f} to binary: required field not set`);
            continue;
          }
        } else {
          value = msg[f.localName];
          if (!implicitSet(f, value)) continue;
        }
        if (f.fieldKind === 'message') writeChild(em, f.number, f.message, value as Msg);
        else {
          const t = f.fieldKind === 'enum' ? ScalarType.INT32 : f.scalar;
          em.w.tag(f.number, wireTypeOf(t));
          writeScalar(em, t, value);
        }
        break;
      }
      case 'list': {
        const items = msg[f.localName] as unknown[];
        if (f.listKind === 'message') {
          for (let i = 0; i < items.length; i++) writeChild(em, f.number, f.message, items[i] as Msg);
          break;
        }
        const t = f.listKind === 'enum' ? ScalarType.INT32 : f.scalar;
        if (f.packed) {
          if (items.length === 0) break;
          em.w.tag(f.number, WireType.LengthDelimited).fork();
          for (let i = 0; i < items.length; i++) writeScalar(em, t, items[i]);
          em.w.join();
        } else {
          const wt = wireTypeOf(t);
          for (let i = 0; i < items.length; i++) {
            em.w.tag(f.number, wt);
            writeScalar(em, t, items[i]);
          }
        }
        break;
      }
      case 'map':
        break; // unreachable: `whole`
    }
  }
  const unknown = msg.$unknown;
  if (unknown) for (const { no, wireType, data } of unknown) em.w.tag(no, wireType).raw(data);
}

/**
 * The encoding of `message` (of type `desc`) as chunks: views into the bytes it was read from for
 * every unchanged message, fresh bytes for the rest. Concatenated, it equals
 * toBinary(desc, message, { writeUnknownFields: true }).
 */
export function encodeChunks(desc: DescMessage, message: object): Uint8Array[] {
  const span = spanOf(message);
  if (span && span.fieldNo === 0) return [span.src.subarray(span.start, span.end)];
  const em = new Emitter();
  if (span) em.view(span.src.subarray(span.start, span.end));
  else writeBody(em, desc, message as Msg);
  return em.chunks();
}

export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}
