// External data (issue 5, item 3). The model with external data is made by an independent
// producer — Debian's python3-onnx, onnx.save_model(save_as_external_data=True) — from a published
// fixture with 23 PRelu nodes (every tensor over ~64 bytes external, slopes included; the small
// shape tensors stay inline because ONNX Runtime's shape inference cannot read external ones);
// ONNX Runtime (loading the model from its path, data file beside it) and onnx.checker are the
// oracles. Small hand-made models cover a slope a rewrite reshapes in place and a target rule
// that reads slope values from the data file.
import { copyFileSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { create } from '@bufbuild/protobuf';
import { StringStringEntryProtoSchema, type ModelProto, type TensorProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/onnx/model';
import { readModelFile, writeModelFile, placeDataFiles } from '../../src/onnx/node-files';
import { allModelTensors, attachExternalData, blobDataFile, ExternalData, externalRef, missingDataMessage, BROWSER_ADVICE } from '../../src/onnx/external';
import { readTensorValues } from '../../src/onnx/tensor';
import { shallowCopy } from '../../src/graph/edit';
import { applyRewrites } from '../../src/rewrites/engine';
import { fixAll } from '../../src/rewrites/choose';
import { checkModel, INCOMPATIBLE } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { DT, preluModel } from '../helpers/build';
import { maxRelError, randomFeeds, SESSION_OPTIONS } from '../helpers/ort';
import { checkModels, PYTHON } from '../helpers/python';
import { SHARED } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';

const NO_PRELU = findTarget('no-prelu')!;
const ORT = findTarget('onnxruntime')!;
const dir = scratchDir('external-data');
const DATA = 'face-landmark.weights';

async function runPath(path: string, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const s = await ort.InferenceSession.create(path, SESSION_OPTIONS);
  try {
    const r = await s.run(feeds);
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Array.from(v.data as Float32Array)]));
  } finally {
    await s.release();
  }
}

/** Moves every tensor's bytes (raw_data) into `data` at 64-byte-aligned offsets, as exporters do. */
function externalize(m: ModelProto, location: string): { model: ModelProto; data: Uint8Array } {
  const parts: Uint8Array[] = [];
  let size = 0;
  const move = (t: TensorProto): TensorProto => {
    const offset = Math.ceil(size / 64) * 64;
    const pad = offset - size;
    if (pad) parts.push(new Uint8Array(pad));
    parts.push(t.rawData);
    size = offset + t.rawData.length;
    const entry = (key: string, value: string) => create(StringStringEntryProtoSchema, { key, value });
    return shallowCopy(t, {
      rawData: new Uint8Array(0), dataLocation: 1,
      externalData: [entry('location', location), entry('offset', String(offset)), entry('length', String(t.rawData.length))],
    });
  };
  const g = m.graph!;
  const model = shallowCopy(m, { graph: shallowCopy(g, { initializer: g.initializer.map(move) }) });
  const data = new Uint8Array(size);
  let o = 0;
  for (const p of parts) { data.set(p, o); o += p.length; }
  return { model, data };
}

describe('a published model saved with external data by python3-onnx', () => {
  const model = join(dir, 'face-landmark.onnx');
  let dataSize = 0;
  let feeds: Record<string, ort.Tensor>;
  let expected: Record<string, number[]>;

  beforeAll(async () => {
    execFileSync(PYTHON, ['-c', `
import onnx, sys
m = onnx.load(sys.argv[1])
onnx.save_model(m, sys.argv[2], save_as_external_data=True, all_tensors_to_one_file=True, location=sys.argv[3], size_threshold=100)
`, join(SHARED, 'onnx', 'face-landmark.onnx'), model, DATA]);
    dataSize = readFileSync(join(dir, DATA)).length;
    const { model: m } = readModelFile(model);
    feeds = randomFeeds(m, 7);
    expected = await runPath(model, feeds);
  });

  it('opens with its data file found, and no data byte read to open it', () => {
    const opened = readModelFile(model);
    expect(opened.warning).toBeUndefined();
    expect(opened.report.files.map((f) => [f.location, f.problem])).toEqual([[DATA, undefined]]);
    expect(opened.report.tensors).toBeGreaterThan(50);
    expect(opened.external.bytesRead).toBe(0);
    expect(allModelTensors(opened.model).filter((t) => externalRef(t)).every((t) => t.rawData.length === 0)).toBe(true);
  });

  it('unchanged, it saves byte for byte, references intact', () => {
    const opened = readModelFile(model);
    const out = join(dir, 'unchanged.onnx');
    writeModelFile(opened.model, out);
    expect(readFileSync(out).equals(readFileSync(model))).toBe(true);
  });

  it('a PRelu slope is read from the data file when its values are needed, and nothing else', () => {
    const opened = readModelFile(model);
    const g = opened.model.graph!;
    const slopes = g.node.filter((n) => n.opType === 'PRelu').map((n) => g.initializer.find((t) => t.name === n.input[1])!);
    expect(slopes.filter((t) => externalRef(t)).length).toBeGreaterThanOrEqual(15);
    const slope = slopes.find((t) => externalRef(t))!;
    expect(slope.dataType).toBe(DT.FLOAT);
    const n = slope.dims.reduce((a, d) => a * Number(d), 1);
    const values = readTensorValues(slope, 4096)!;
    expect(values).toHaveLength(n);
    expect(opened.external.bytesRead).toBe(n * 4);
    // The same values as in the original, inline model.
    const inline = readModel(new Uint8Array(readFileSync(join(SHARED, 'onnx', 'face-landmark.onnx'))));
    expect(values).toEqual(readTensorValues(inline.graph!.initializer.find((t) => t.name === slope.name)!, 4096));
  });

  it('fixAll for no-prelu: the saved model keeps its references, passes onnx.checker and runs in ONNX Runtime with its data file', async () => {
    const opened = readModelFile(model);
    const r = fixAll(opened.model, NO_PRELU);
    expect(r.picks.length).toBe(23);
    expect(r.unfixed).toEqual([]);
    const out = join(dir, 'face-landmark.no-prelu.onnx');
    writeModelFile(r.model, out);
    // Every tensor still external, pointing into the same file at ranges the original used.
    const before = new Set(allModelTensors(opened.model).map((t) => JSON.stringify(externalRef(t))));
    const saved = readModelFile(out);
    expect(saved.warning).toBeUndefined();
    for (const t of allModelTensors(saved.model)) {
      if (t.rawData.length) continue; // a scalar the rewrite made
      expect(before.has(JSON.stringify(externalRef(t))), t.name).toBe(true);
    }
    expect(checkModels([out])[out]).toBeNull();
    const got = await runPath(out, feeds);
    for (const k of Object.keys(expected)) expect(maxRelError(got[k]!, expected[k]!), k).toBeLessThan(1e-5);
    // Open, check, rewrite and save read only slopes and scalars: far under 1% of the data.
    expect(opened.external.bytesRead).toBeLessThan(dataSize / 100);
  });

  it('saved into another folder, the data file is linked beside it and the model runs there', async () => {
    const opened = readModelFile(model);
    const r = fixAll(opened.model, NO_PRELU);
    const other = join(dir, 'elsewhere');
    mkdirSync(other, { recursive: true });
    writeModelFile(r.model, join(other, 'out.onnx'));
    expect(placeDataFiles(r.model, dir, other).map((p) => p.action)).toEqual([expect.stringMatching(/^(linked|copied)$/)]);
    const got = await runPath(join(other, 'out.onnx'), feeds);
    for (const k of Object.keys(expected)) expect(maxRelError(got[k]!, expected[k]!), k).toBeLessThan(1e-5);
    expect(placeDataFiles(r.model, dir, other).map((p) => p.action)).toEqual(['present']);
  });

  it('without its data file: a message naming the file and where it was looked for; the graph opens, is checked, rewritten and saved with its references', () => {
    const alone = join(dir, 'alone');
    mkdirSync(alone, { recursive: true });
    copyFileSync(model, join(alone, 'face-landmark.onnx'));
    const opened = readModelFile(join(alone, 'face-landmark.onnx'));
    expect(opened.warning).toBe(
      `face-landmark.onnx keeps ${opened.report.tensors} weights (${(dataSize / 1e6).toFixed(1)} MB) in the external data file "${DATA}", ` +
      `which was not found at ${join(alone, DATA)}. The graph is shown, but values stored there (e.g. a PRelu slope) cannot be read until the file is there.`,
    );
    expect(opened.model.graph!.node.length).toBe(98);
    const findings = checkModel(opened.model, NO_PRELU).filter((f) => INCOMPATIBLE.has(f.status));
    expect(findings).toHaveLength(23);
    const r = fixAll(opened.model, NO_PRELU);
    expect(r.picks).toHaveLength(23);
    const out = join(alone, 'fixed.onnx');
    writeModelFile(r.model, out);
    expect(readModelFile(out).report.files.map((f) => f.location)).toEqual([DATA]);
  });

  it('a data file shorter than the model needs is named with the tensor that does not fit', () => {
    const short = join(dir, 'short');
    mkdirSync(short, { recursive: true });
    copyFileSync(model, join(short, 'face-landmark.onnx'));
    copyFileSync(join(dir, DATA), join(short, DATA));
    truncateSync(join(short, DATA), Math.floor(dataSize / 2));
    const opened = readModelFile(join(short, 'face-landmark.onnx'));
    expect(opened.warning).toMatch(new RegExp(`in "${DATA.replace('.', '\\.')}", which cannot be used: ${DATA.replace('.', '\\.')} has [\\d,]+ bytes, but tensor ".+" needs bytes [\\d,]+–[\\d,]+: it is truncated, or belongs to another export of the model\\.`));
  });

  it('browser path: the data file as a Blob; small tensors read ahead, then values are there synchronously', async () => {
    const bytes = new Uint8Array(readFileSync(model));
    const m = readModel(bytes, 'face-landmark.onnx');
    const data = new ExternalData([blobDataFile(new Blob([readFileSync(join(dir, DATA))]), DATA)]);
    const report = attachExternalData(m, data);
    expect(missingDataMessage('face-landmark.onnx', report, BROWSER_ADVICE)).toBeUndefined();
    const tensors = allModelTensors(m);
    await data.prefetch(tensors);
    const small = tensors.filter((t) => externalRef(t) && t.dims.reduce((a, d) => a * Number(d), 1) <= 4096).reduce((s, t) => s + externalRef(t)!.length!, 0);
    expect(data.bytesRead).toBe(small);
    const before = data.bytesRead;
    expect(fixAll(m, NO_PRELU).unfixed).toEqual([]);
    expect(data.bytesRead).toBe(before);
    // Without the data file, the message tells the browser user what to do.
    const m2 = readModel(bytes, 'face-landmark.onnx');
    expect(missingDataMessage('face-landmark.onnx', attachExternalData(m2, new ExternalData([])), BROWSER_ADVICE)).toContain(
      `in the external data file "${DATA}", which was not opened with it: open the .onnx together with ${DATA} (select both in the file dialog, or drop them together).`,
    );
  });
});

describe('rewrites of PRelu nodes whose slope is external', () => {
  const XS = [-2, -0.5, 0, 1, 3];

  async function runWithData(m: ModelProto, data: Uint8Array, name: string, x: Float32Array, xShape: number[]): Promise<number[]> {
    const sub = join(dir, name);
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'slope.bin'), data);
    writeModelFile(m, join(sub, 'model.onnx'));
    const out = await runPath(join(sub, 'model.onnx'), { x: new ort.Tensor('float32', x, xShape) });
    return out.y!;
  }

  it('a [C] slope that must be read per channel: reshaped in place, still pointing into the data file', async () => {
    const slope = [0.25, -1.5, 2];
    const xShape = [1, 3, 2, 5];
    const { model: m0, data } = externalize(preluModel({ xShape, slopeShape: [3], slope, opset: 16 }), 'slope.bin');
    const sub = join(dir, 'reshape');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(sub, 'slope.bin'), data);
    writeModelFile(m0, join(sub, 'orig.onnx'));
    const opened = readModelFile(join(sub, 'orig.onnx'));
    const r = applyRewrites(opened.model, [{ nodeId: '0', form: 'reshape-slope' }], ORT);
    const slopeT = r.model.graph!.initializer.find((t) => t.dims.length === 3)!;
    expect(slopeT.dims.map(Number)).toEqual([3, 1, 1]);
    expect(externalRef(slopeT)).toEqual({ location: 'slope.bin', offset: 0, length: 12 });
    const x = Float32Array.from({ length: 30 }, (_, i) => XS[i % XS.length]!);
    const y = await runWithData(r.model, data, 'reshape-run', x, xShape);
    expect(y).toEqual(Array.from(x, (v, i) => (v < 0 ? Math.fround(slope[Math.floor(i / 10)]! * v) : v)));
  });

  /** coreml-ios15 needs all slope values equal on rank-3 inputs: a rule that reads the values. */
  const COREML = findTarget('coreml-ios15')!;
  const uniformModel = (slope: number[], location: string) =>
    externalize(preluModel({ xShape: [1, 3, 5], slopeShape: [3, 1], slope, opset: 16 }), location);

  it('a target rule that needs the slope values reads them from the data file, and only them', () => {
    for (const [slope, status] of [[[0.25, 0.5, 0.75], 'constraint'], [[0.5, 0.5, 0.5], undefined]] as const) {
      const { model: m0, data } = uniformModel([...slope], 'slope.bin');
      const sub = join(dir, `uniform-${status}`);
      mkdirSync(sub, { recursive: true });
      writeFileSync(join(sub, 'slope.bin'), data);
      writeModelFile(m0, join(sub, 'orig.onnx'));
      const opened = readModelFile(join(sub, 'orig.onnx'));
      expect(opened.external.bytesRead).toBe(0);
      expect(checkModel(opened.model, COREML)[0]?.status).toBe(status);
      expect(opened.external.bytesRead).toBe(12);
    }
  });

  it('with the data file missing, that rule says the values are unknown, and Where still rewrites the node', () => {
    const { model: m0 } = uniformModel([0.25, 0.5, 0.75], 'gone.bin');
    const sub = join(dir, 'gone');
    mkdirSync(sub, { recursive: true });
    writeModelFile(m0, join(sub, 'orig.onnx'));
    const opened = readModelFile(join(sub, 'orig.onnx'));
    expect(opened.warning).toContain('"gone.bin", which was not found at');
    expect(checkModel(opened.model, COREML)).toMatchObject([{ status: 'unknown', reason: expect.stringContaining("The slope's values are not known here") }]);
    const r = applyRewrites(opened.model, [{ nodeId: '0', form: 'where' }], NO_PRELU);
    expect(writeModel(r.model).length).toBeGreaterThan(0);
    expect(r.model.graph!.initializer.some((t) => externalRef(t)?.location === 'gone.bin')).toBe(true);
  });

  it('a location outside the model folder is refused, not read', () => {
    const { model: m0 } = externalize(preluModel({ xShape: [2, 5], slopeShape: [1], slope: [0.5], opset: 16 }), '../secret.bin');
    const sub = join(dir, 'escape');
    mkdirSync(sub, { recursive: true });
    writeFileSync(join(dir, 'secret.bin'), new Uint8Array(4));
    writeModelFile(m0, join(sub, 'orig.onnx'));
    const opened = readModelFile(join(sub, 'orig.onnx'));
    expect(opened.warning).toContain(`in "../secret.bin", which cannot be used: "../secret.bin" points outside the model's folder ("..")`);
    expect(readTensorValues(opened.model.graph!.initializer[0]!)).toBeUndefined();
    expect(opened.external.bytesRead).toBe(0);
  });
});

