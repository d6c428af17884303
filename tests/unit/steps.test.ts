// What the app runs in slices while a big graph loads (src/steps.ts): the canvas's view and groups,
// the graph index and the check. Sliced, each must give exactly what the one-go function gives,
// give the thread back many times on a big graph, and stop when cancelled.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/onnx/model';
import { indexAtSteps, indexGraph } from '../../src/graph/scope';
import { graphView, graphViewSteps } from '../../src/graph/view';
import { groupsFor, groupsForSteps } from '../../src/graph/collapse';
import { validateModel, validateSteps } from '../../src/graph/validate';
import { runSteps, runStepsSliced, type Steps } from '../../src/steps';
import { wideGraphModel } from '../../scripts/bench/models';
import { scratchDir } from '../helpers/scratch';

/** Runs `steps` sliced with sliceMs 0 (a yield at every step), counting the timer ticks in between. */
async function sliced<T>(steps: Steps<T>): Promise<{ value: T; ticks: number }> {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 0);
  try {
    return { value: await runStepsSliced(steps, { sliceMs: 0 }), ticks };
  } finally {
    clearInterval(timer);
  }
}

describe('work in steps', () => {
  const path = wideGraphModel(scratchDir('steps'), 'graph-20k.onnx', 20_000);
  const load = () => readModel(new Uint8Array(readFileSync(path)), 'graph-20k.onnx');

  it('the canvas build (index, view, groups) sliced equals the one-go functions on a 20,000-node graph', async () => {
    const m = load();
    const index = indexGraph(m.graph!);
    const view = graphView(index);
    const grouping = groupsFor(view, index.graph.node)!;
    expect(view.nodes.length).toBeGreaterThan(20_000);
    expect(grouping.groups.size).toBeGreaterThan(20);

    // A fresh decode, so the sliced run builds its own index rather than finding it cached.
    const fresh = load();
    function* build() {
      const ix = yield* indexAtSteps(fresh, []);
      const v = yield* graphViewSteps(ix);
      return { v, g: yield* groupsForSteps(v, ix.graph.node) };
    }
    const { value, ticks } = await sliced(build());
    expect(ticks).toBeGreaterThan(5);
    expect(value.v.nodes).toEqual(view.nodes);
    expect(value.v.edges.map((e) => [e.id, e.source, e.target, e.label])).toEqual(view.edges.map((e) => [e.id, e.source, e.target, e.label]));
    expect(value.g!.top).toEqual(grouping.top);
    expect([...value.g!.groups.values()]).toEqual([...grouping.groups.values()]);
    expect([...value.g!.groupOf]).toEqual([...grouping.groupOf]);
  });

  it('the model validation sliced equals validateModel, on a 20,000-node graph with a cycle and a name defined twice', async () => {
    // Broken twice alike: the last node reads its own output, and two nodes write one name.
    const broken = () => {
      const m = load();
      const g = m.graph!;
      const last = g.node.at(-1)!;
      last.input[0] = last.output[0]!;
      g.node[100]!.output[0] = g.node[101]!.output[0]!;
      return m;
    };
    const expected = validateModel(broken());
    expect(expected.map((f) => f.reason).join('\n')).toMatch(/reads its own output/);
    expect(expected.map((f) => f.reason).join('\n')).toMatch(/is defined 2 times/);
    const m = broken();
    const { value, ticks } = await sliced(validateSteps(m));
    expect(value).toEqual(expected);
    expect(ticks).toBeGreaterThan(5);
  });

  it('a cancelled run rejects with an AbortError and closes the generator', async () => {
    let closed = false;
    function* forever(): Steps<number> {
      try {
        for (;;) yield;
      } finally {
        closed = true;
      }
    }
    const ctrl = new AbortController();
    setTimeout(() => ctrl.abort(), 20);
    await expect(runStepsSliced(forever(), { signal: ctrl.signal, sliceMs: 1 })).rejects.toMatchObject({ name: 'AbortError' });
    expect(closed).toBe(true);
    expect(runSteps((function* () { yield; yield; return 7; })())).toBe(7);
  });
});
