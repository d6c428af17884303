// checkModelSliced is what the app runs while a model loads: it must give the same findings as
// checkModel, in the same order, give the thread back on big graphs, and stop when cancelled.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/onnx/model';
import { checkModel, checkModelSliced } from '../../src/targets/check';
import { findTarget } from '../../src/targets/registry';
import { DT, graph, makeTensor, model, node, valueInfo } from '../helpers/build';
import { fixtureModels } from '../helpers/paths';

/** A chain of `n` nodes: Conv → PRelu → Relu …, with a broken tail (a cycle and a missing input) for model-level findings. */
function bigChain(n: number) {
  const nodes = [];
  let prev = 'x';
  for (let i = 0; i < n; i++) {
    const op = ['Conv', 'PRelu', 'Relu'][i % 3]!;
    const inputs = op === 'Conv' ? [prev, 'w'] : op === 'PRelu' ? [prev, 'slope'] : [prev];
    nodes.push(node(op, inputs, [`t${i}`], { name: `n${i}` }));
    prev = `t${i}`;
  }
  nodes.push(node('Add', ['c1', 'nowhere'], ['c0'], { name: 'loop-a' }), node('Relu', ['c0'], ['c1'], { name: 'loop-b' }));
  return model(graph({
    nodes,
    inputs: [valueInfo('x', DT.FLOAT, [1, 4, 8, 8])],
    outputs: [valueInfo(prev, DT.FLOAT, [1, 4, 8, 8])],
    initializers: [makeTensor('w', DT.FLOAT, [4, 4, 1, 1], Array(16).fill(0.5)), makeTensor('slope', DT.FLOAT, [4], [0.25, 0.5, 2, -1])],
  }), 13);
}

describe('checkModelSliced', () => {
  const targets = ['onnxruntime', 'no-prelu', 'tensorrt-8', 'tflite-gpu', 'coreml-ios15', 'openvino', 'onnx-opset-7'].map((id) => findTarget(id)!);

  it('gives exactly what checkModel gives, on every fixture model and target', async () => {
    for (const path of fixtureModels()) {
      const m = readModel(new Uint8Array(readFileSync(path)), path);
      for (const t of targets) expect(await checkModelSliced(m, t, { sliceMs: 0 }), `${path} × ${t.id}`).toEqual(checkModel(m, t));
    }
  });

  it('gives the thread back on a 12,000-node graph, with the same findings (model-level ones first)', async () => {
    const m = bigChain(12_000);
    const expected = checkModel(bigChain(12_000), findTarget('no-prelu')!);
    expect(expected.filter((f) => f.op === 'PRelu')).toHaveLength(4000);
    expect(expected[0]!.op).toBe('model check');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const found = await checkModelSliced(m, findTarget('no-prelu')!, { sliceMs: 0 });
    clearInterval(timer);
    expect(found).toEqual(expected);
    expect(ticks).toBeGreaterThan(3);
  });

  it('stops with an AbortError once cancelled', async () => {
    const ctrl = new AbortController();
    const run = checkModelSliced(bigChain(9_000), findTarget('onnxruntime')!, { sliceMs: 0, signal: ctrl.signal });
    ctrl.abort();
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
  });
});
