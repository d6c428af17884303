// When a file fails to decode, walk its protobuf wire format against the ONNX schema to say
// where it broke: the byte offset, the field path (e.g. graph.initializer[3].raw_data) and how
// much of the file was read. Netron's "File format is not onnx.ModelProto" is the floor, not the goal.
import type { DescMessage } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';

class WireFault extends Error {
  constructor(readonly offset: number, readonly path: string, readonly problem: string) {
    super(problem);
  }
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
  if (depth > 100) throw new WireFault(start, path, 'messages are nested more than 100 levels deep');
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
    if (e instanceof WireFault) {
      const pct = bytes.length ? Math.floor((e.offset / bytes.length) * 100) : 0;
      return `reading failed at byte ${e.offset.toLocaleString('en-US')} in ${e.path || 'the top-level ModelProto'}: ` +
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
