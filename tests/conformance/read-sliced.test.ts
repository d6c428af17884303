// readModelSliced decodes the graph a run of records at a time (the app, so a big graph does not
// hold the page). It must give exactly what readModel gives: the same message (unknown fields
// included), the same bytes on save with and without edits' splicing, tensor bytes still views of
// the file, and the same refusals — on every fixture, every libonnx-testdata model and a generated
// 10,000-node graph, with runs forced small so every model is decoded in many pieces.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRegistry, equals } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { readModel, readModelSliced, saveModelChunks, encodeModel } from '../../src/onnx/model';
import { fixtureModels, OUT, SHARED, testdataModels } from '../helpers/paths';
import { wideGraphModel } from '../../scripts/bench/models';

async function same(path: string) {
  const bytes = new Uint8Array(readFileSync(path));
  let whole;
  try {
    whole = readModel(bytes, path);
  } catch (e) {
    await expect(readModelSliced(bytes, path, { sliceMs: 0 }), path).rejects.toThrow((e as Error).message);
    return 'refused';
  }
  const sliced = await readModelSliced(bytes, path, { sliceMs: 5, runBytes: 64 });
  expect(equals(ModelProtoSchema, sliced, whole, { registry: createRegistry(), unknown: true }), path).toBe(true);
  expect(Buffer.from(encodeModel(sliced)).equals(Buffer.from(encodeModel(whole))), path).toBe(true);
  // The zero-copy save: every chunk of an unedited model is a view of the file's own buffer.
  const chunks = saveModelChunks(sliced);
  expect(chunks.every((c) => c.buffer === bytes.buffer), path).toBe(true);
  expect(Buffer.concat(chunks).equals(Buffer.from(bytes)), path).toBe(true);
  return 'same';
}

describe('readModelSliced', () => {
  it('equals readModel on every fixture model and the backend PReLU tests', async () => {
    const paths = [...fixtureModels(), join(SHARED, 'onnx-backend', 'test_prelu_example', 'model.onnx')];
    for (const p of paths) expect(await same(p)).toBe('same');
  });

  it('equals readModel on every libonnx-testdata model', async () => {
    const models = testdataModels();
    expect(models.length).toBeGreaterThan(1000);
    let n = 0;
    for (const p of models) if ((await same(p)) === 'same') n++;
    expect(n).toBeGreaterThan(1000);
  });

  it('equals readModel on a 10,000-node graph, and gives the thread back while decoding it', async () => {
    const dir = join(OUT, 'read-sliced');
    mkdirSync(dir, { recursive: true });
    const path = wideGraphModel(dir, 'g10k.onnx', 10_000);
    expect(await same(path)).toBe('same');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    await readModelSliced(new Uint8Array(readFileSync(path)), path, { sliceMs: 0, runBytes: 4096 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(3);
  });

  it('refuses what readModel refuses, with the same message (truncated, not ONNX)', async () => {
    const bytes = new Uint8Array(readFileSync(fixtureModels()[0]!));
    for (const cut of [bytes.subarray(0, 40), bytes.subarray(0, Math.floor(bytes.length / 2)), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10, 0, 0])]) {
      let message = '';
      try {
        readModel(cut, 'cut.onnx');
      } catch (e) {
        message = (e as Error).message;
      }
      expect(message).not.toBe('');
      await expect(readModelSliced(cut, 'cut.onnx', { sliceMs: 0, runBytes: 64 })).rejects.toThrow(message);
    }
  });
});
