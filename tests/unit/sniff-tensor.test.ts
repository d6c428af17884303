// A TensorProto file (the input_N.pb / output_N.pb of ONNX test data) is named for what it is.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel, ModelReadError } from '../../src/onnx/model';
import { SHARED } from '../helpers/paths';

const pbs = readdirSync(join(SHARED, 'onnx-backend')).flatMap((t) =>
  readdirSync(join(SHARED, 'onnx-backend', t, 'test_data_set_0')).map((f) => join(SHARED, 'onnx-backend', t, 'test_data_set_0', f)),
);

describe('ONNX tensor files', () => {
  it('finds the backend tests\' .pb files', () => expect(pbs.length).toBeGreaterThanOrEqual(26));
  for (const pb of pbs) {
    it(`${pb.split('/').slice(-3).join('/')} is recognised as a tensor, with advice`, () => {
      let err: unknown;
      try {
        readModel(new Uint8Array(readFileSync(pb)), 'x.pb');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ModelReadError);
      expect((err as ModelReadError).detectedFormat).toBe('onnx-tensor');
      expect((err as Error).message).toContain('Open the model.onnx file next to it');
    });
  }
});
