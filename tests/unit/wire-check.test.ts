// Where a damaged file broke: locateDecodeFailure walks the protobuf wire format against the ONNX
// schema. Offsets are checked against positions found independently in the intact file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelReadError, readModel, writeModel } from '../../src/onnx/model';
import { locateDecodeFailure, topLevelFields } from '../../src/onnx/wire-check';
import { DT, graph, model, node, valueInfo } from '../helpers/build';
import { SHARED } from '../helpers/paths';

const varintLength = (n: number) => {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    len++;
  }
  return len;
};
const fmt = (n: number) => n.toLocaleString('en-US');

describe('a truncated real fixture', () => {
  for (const name of ['minifasnet-v2.onnx', 'face-landmark.onnx', 'gtcrn-s3.onnx']) {
    it(`${name} cut in half: the initializer whose raw_data is cut, at the byte its field starts`, () => {
      const full = Buffer.from(readFileSync(join(SHARED, 'onnx', name)));
      const cut = Math.floor(full.length / 2);
      // Independently: find each initializer's bytes in the intact file, and the one spanning the cut.
      const inits = readModel(new Uint8Array(full)).graph!.initializer;
      let found: { i: number; start: number; len: number } | undefined;
      let from = 0;
      inits.forEach((t, i) => {
        if (found || t.rawData.length === 0) return;
        const start = full.indexOf(Buffer.from(t.rawData), from);
        expect(start, `initializer ${i} is in the file`).toBeGreaterThan(0);
        from = start + t.rawData.length;
        if (start <= cut && cut < start + t.rawData.length) found = { i, start, len: t.rawData.length };
      });
      expect(found, 'the cut falls inside some raw_data').toBeDefined();
      const { i, start, len } = found!;
      const fieldAt = start - varintLength(len) - 1; // tag (field 9, one byte) + length varint

      const msg = locateDecodeFailure(new Uint8Array(full.subarray(0, cut)));
      expect(msg).toContain(`reading failed at byte ${fmt(fieldAt)} in graph.initializer[${i}].raw_data`);
      expect(msg).toContain(`its length prefix says ${len} bytes, but only ${cut - start} remain`);
      expect(msg).toContain(`of ${fmt(cut)} bytes`);
    });
  }

  it('readModel throws a ModelReadError with the same sentence, naming the file', () => {
    const full = readFileSync(join(SHARED, 'onnx', 'gtcrn-s3.onnx'));
    const cut = new Uint8Array(full.subarray(0, 5000));
    const err = (() => {
      try {
        readModel(cut, 'gtcrn-s3.onnx');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ModelReadError);
    expect((err as ModelReadError).detectedFormat).toBe('corrupt-onnx');
    expect((err as Error).message).toMatch(/^gtcrn-s3\.onnx is not a readable ONNX model: reading failed at byte [\d,]+ in graph\.node\[\d+\]\./);
    expect((err as Error).message).toContain(locateDecodeFailure(cut));
  });

  it('a file cut inside its last varint says the file ends in a number', () => {
    const full = readFileSync(join(SHARED, 'onnx', 'gtcrn-s3.onnx'));
    const msg = locateDecodeFailure(new Uint8Array(full.subarray(0, full.length - 1)));
    expect(msg).toMatch(new RegExp(`at byte ${fmt(full.length - 1)} in opset_import\\[0\\]\\.version: the file ends in the middle of a number`));
  });
});

describe('tiny models damaged at known places', () => {
  const nodeName = 'a_node_name_long_enough_to_cut';
  const bytes = writeModel(
    model(graph({ nodes: [node('Relu', ['x'], ['y'], { name: nodeName })], inputs: [valueInfo('x', DT.FLOAT, [2])], outputs: [valueInfo('y', DT.FLOAT, [2])] }), 13),
  );
  const nameAt = Buffer.from(bytes).indexOf(nodeName);

  it('cut inside a node name: graph.node[0].name, at its tag', () => {
    const msg = locateDecodeFailure(bytes.subarray(0, nameAt + 5));
    expect(msg).toContain(`reading failed at byte ${nameAt - 2} in graph.node[0].name: its length prefix says ${nodeName.length} bytes, but only 5 remain`);
  });

  it('a wrong wire type names the field it hit', () => {
    const bad = bytes.slice();
    bad[nameAt - 2] = (3 << 3) | 7; // NodeProto.name (field 3) with wire type 7
    expect(locateDecodeFailure(bad)).toContain(`at byte ${nameAt - 2} in graph.node[0].name: wire type 7 is not used by ONNX`);
  });

  it('field number 0 is reported where it sits', () => {
    expect(locateDecodeFailure(new Uint8Array([0x08, 0x07, 0x00, 0x00]))).toContain('at byte 2 in ModelProto: field number 0 is not valid protobuf');
  });

  it('an intact file is not blamed on truncation', () => {
    expect(locateDecodeFailure(bytes)).toMatch(/structure is intact/);
  });

  it('topLevelFields reads ModelProto field numbers up to the damage', () => {
    expect(topLevelFields(bytes)).toEqual([1, 2, 7, 8]); // ir_version, producer_name, graph, opset_import
    expect(topLevelFields(bytes.subarray(0, nameAt))).toEqual([1, 2, 7]);
  });
});

describe('a file cut exactly between fields still decodes', () => {
  /** Byte offsets where each top-level field starts (a minimal walk: varint and length-delimited only). */
  function fieldStarts(b: Uint8Array): { field: number; at: number }[] {
    const out: { field: number; at: number }[] = [];
    const varint = (pos: number): [number, number] => {
      let v = 0;
      for (let shift = 1; ; shift *= 128) {
        const byte = b[pos++]!;
        v += (byte & 0x7f) * shift;
        if (byte < 0x80) return [v, pos];
      }
    };
    for (let pos = 0; pos < b.length; ) {
      const at = pos;
      const [tag, p] = varint(pos);
      if ((tag & 7) === 0) pos = varint(p)[1];
      else if ((tag & 7) === 2) {
        const [len, q] = varint(p);
        pos = q + len;
      } else throw new Error(`unexpected wire type ${tag & 7} at ${at}`);
      out.push({ field: tag >>> 3, at });
    }
    return out;
  }

  it('cut right before opset_import (the last field exporters write): reported as truncated, not read as opset 1', () => {
    const full = new Uint8Array(readFileSync(join(SHARED, 'onnx', 'face-landmark.onnx')));
    const fields = fieldStarts(full);
    expect(fields.at(-1)!.field).toBe(8); // opset_import
    const prefix = full.subarray(0, fields.at(-1)!.at);
    expect(() => readModel(prefix, 'face-landmark.onnx')).toThrow(ModelReadError);
    expect(() => readModel(prefix, 'face-landmark.onnx')).toThrow(/^face-landmark\.onnx has a graph but no opset_import.*probably truncated/);
  });
});
