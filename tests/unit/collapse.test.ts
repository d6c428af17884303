// Issue 5, item 4: big graphs drawn a level at a time. The grouping of src/graph/collapse.ts on
// real exported models (PyTorch `/`-scoped names, flat names) and on generated ones: every node has
// exactly one place, every edge is drawn or inside a collapsed group, and opening every group gives
// back the view as it was.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelProto } from 'onnx-buf';
import { readModel } from '../../src/onnx/model';
import { indexAt } from '../../src/graph/scope';
import { graphView, searchEntries, searchGraphs, type GraphView } from '../../src/graph/view';
import {
  allGroupIds, buildGroups, CHUNK, defaultExpanded, groupPathOf, groupsFor, MAX_ITEMS, scopeOf, visibleView, type Grouping,
} from '../../src/graph/collapse';
import { wideGraphModel } from '../../scripts/bench/models';
import { applyRewrites } from '../../src/rewrites/engine';
import { findTarget } from '../../src/targets/registry';
import { DT, graph, model, node, valueInfo } from '../helpers/build';
import { SHARED } from '../helpers/paths';
import { scratchDir } from '../helpers/scratch';

const fixture = (name: string) => readModel(new Uint8Array(readFileSync(join(SHARED, 'onnx', name))), name);
const viewOf = (m: ModelProto) => {
  const index = indexAt(m, []);
  return { view: graphView(index), nodes: index.graph.node };
};

/** A chain of `n` op nodes with the given names and op types (cycled), x → … → y. */
function chain(n: number, name: (i: number) => string, ops: string[]): ModelProto {
  const nodes = Array.from({ length: n }, (_, i) => node(ops[i % ops.length]!, [i ? `t${i - 1}` : 'x'], [i === n - 1 ? 'y' : `t${i}`], { name: name(i) }));
  return model(graph({ nodes, inputs: [valueInfo('x', DT.FLOAT, [1, 4])], outputs: [valueInfo('y', DT.FLOAT, [1, 4])] }), 17);
}

/** The invariants every grouping keeps, whatever is open. */
function checkInvariants(view: GraphView, g: Grouping) {
  // Each view node has exactly one leaf place: in one group's items, or at the top.
  const places = new Map<string, number>();
  const count = (id: string) => places.set(id, (places.get(id) ?? 0) + 1);
  g.top.forEach(count);
  for (const grp of g.groups.values()) {
    grp.items.forEach(count);
    for (const it of grp.items) if (g.groups.has(it)) expect(g.groups.get(it)!.parent).toBe(grp.id);
    expect(grp.items.length).toBeLessThanOrEqual(MAX_ITEMS);
    expect(grp.items.length).toBeGreaterThanOrEqual(1);
  }
  for (const v of view.nodes) expect(places.get(v.id), v.id).toBe(1);
  for (const id of g.groups.keys()) expect(places.get(id), id).toBe(1);
  expect(places.size).toBe(view.nodes.length + g.groups.size);
  // Sizes add up.
  const sizeOf = (id: string): number => (g.groups.has(id) ? g.groups.get(id)!.items.reduce((a, c) => a + sizeOf(c), 0) : 1);
  for (const grp of g.groups.values()) expect(sizeOf(grp.id)).toBe(grp.size);
  expect(g.top.reduce((a, id) => a + sizeOf(id), 0)).toBe(view.nodes.length);
  // groupPathOf: outermost first, ending at the node's own group.
  for (const v of view.nodes) {
    const path = groupPathOf(g, v.id);
    if (path.length) {
      expect(g.groups.get(path.at(-1)!)!.items).toContain(v.id);
      expect(g.top).toContain(path[0]);
    } else expect(g.top).toContain(v.id);
  }
}

/** Every view edge is drawn (as itself or merged) or lies inside one collapsed group. */
function checkEdges(view: GraphView, g: Grouping, expanded: Set<string>) {
  const vis = visibleView(view, g, expanded);
  const drawn = new Set(vis.nodes.map((n) => n.id));
  const rep = (id: string) => {
    if (drawn.has(id)) return id;
    const hidden = groupPathOf(g, id).find((grp) => !expanded.has(grp));
    expect(hidden, id).toBeDefined();
    expect(drawn.has(hidden!)).toBe(true);
    return hidden!;
  };
  const pairs = new Set(vis.edges.map((e) => `${e.source}|${e.target}`));
  for (const e of vis.edges) {
    expect(drawn.has(e.source)).toBe(true);
    expect(drawn.has(e.target)).toBe(true);
  }
  expect(new Set(vis.edges.map((e) => e.id)).size).toBe(vis.edges.length);
  let inside = 0;
  for (const e of view.edges) {
    const s = rep(e.source);
    const t = rep(e.target);
    if (s === t) { inside++; continue; }
    expect(pairs.has(`${s}|${t}`), e.id).toBe(true);
  }
  return { vis, inside };
}

describe('scopes of node names', () => {
  it('splits on / and ignores a leading one; the last part is the node', () => {
    expect(scopeOf('/encoder/layer.3/attention/MatMul')).toEqual(['encoder', 'layer.3', 'attention']);
    expect(scopeOf('stage2/block17/conv')).toEqual(['stage2', 'block17']);
    expect(scopeOf('model/conv2d_3/BiasAdd')).toEqual(['model', 'conv2d_3']);
    expect(scopeOf('node_123')).toEqual([]);
    expect(scopeOf('/Gather')).toEqual([]);
    expect(scopeOf('')).toEqual([]);
  });
});

describe('grouping real models', () => {
  it('gtcrn-s3 (PyTorch export, /-scoped names): groups are its modules; one-node scopes are no group', () => {
    const m = fixture('gtcrn-s3.onnx');
    const { view, nodes } = viewOf(m);
    const g = buildGroups(view, nodes);
    checkInvariants(view, g);
    const labels = [...g.groups.values()].map((x) => x.label);
    expect(labels).toContain('encoder');
    expect(labels).toContain('decoder');
    for (const grp of g.groups.values()) expect(grp.size).toBeGreaterThanOrEqual(2);
    // Nested modules under their parents, named by their own scope part.
    const enc = [...g.groups.values()].find((x) => x.label === 'encoder')!;
    expect(enc.items.some((id) => g.groups.get(id)?.label.startsWith('en_convs.'))).toBe(true);
    for (const e of [new Set<string>(), defaultExpanded(g), allGroupIds(g)]) checkEdges(view, g, e);
  });

  it('gtcrn-full (1,256 nodes, flat names like Conv_77): repeats and chunks keep every level small', () => {
    const { view, nodes } = viewOf(fixture('gtcrn-full.onnx'));
    const g = buildGroups(view, nodes);
    checkInvariants(view, g);
    expect(g.top.length).toBeLessThanOrEqual(MAX_ITEMS);
    expect(g.top.length).toBeGreaterThan(5);
    const kinds = new Set([...g.groups.values()].map((x) => x.kind));
    expect(kinds.has('chunk')).toBe(true);
    const { vis, inside } = checkEdges(view, g, new Set());
    expect(vis.nodes.length).toBe(g.top.length);
    expect(inside).toBeGreaterThan(0);
  });

  it('the canvas groups only big views: gtcrn-full (1,256 nodes, no scopes) and gtcrn-s3 are drawn whole', () => {
    for (const name of ['gtcrn-full.onnx', 'gtcrn-s3.onnx', 'minifasnet-v2.onnx']) {
      const { view, nodes } = viewOf(fixture(name));
      expect(groupsFor(view, nodes), name).toBeUndefined();
    }
    const scoped = viewOf(chain(1_200, (i) => `/enc/layer${Math.floor(i / 6)}/op${i}`, ['MatMul', 'Add']));
    expect(groupsFor(scoped.view, scoped.nodes)).toBeDefined();
    const flat = viewOf(chain(3_500, (i) => `node_${i}`, ['MatMul', 'Add']));
    expect(groupsFor(flat.view, flat.nodes)).toBeDefined();
  });

  it('gtcrn-full after one rewrite: the new names ("PRelu_140/Less") look like scopes, but the choice made on open holds', () => {
    const before = fixture('gtcrn-full.onnx');
    const opened = viewOf(before);
    const grouped = groupsFor(opened.view, opened.nodes) !== undefined;
    expect(grouped).toBe(false);
    const id = String(before.graph!.node.findIndex((n) => n.name === 'PRelu_140'));
    const after = viewOf(applyRewrites(before, [{ nodeId: id, form: 'max-min' }], findTarget('no-prelu')!).model);
    // Decided afresh, the edited graph would be grouped (the flip the user saw) …
    expect(groupsFor(after.view, after.nodes)).toBeDefined();
    // … but the canvas passes the choice made on open, and the graph stays whole.
    expect(groupsFor(after.view, after.nodes, grouped)).toBeUndefined();
    const scoped = viewOf(chain(1_200, (i) => `/enc/layer${Math.floor(i / 6)}/op${i}`, ['MatMul', 'Add']));
    const small = viewOf(chain(900, (i) => `/enc/layer${Math.floor(i / 6)}/op${i}`, ['MatMul', 'Add']));
    expect(groupsFor(small.view, small.nodes)).toBeUndefined();
    expect(groupsFor(small.view, small.nodes, true)).toBeDefined();
    expect(groupsFor(scoped.view, scoped.nodes, false)).toBeUndefined();
  });

  it('every fixture: opening every group gives back the view itself', () => {
    for (const name of ['gtcrn-s3.onnx', 'gtcrn-full.onnx', 'gtcrn-simple.onnx', 'face-landmark.onnx', 'minifasnet-v2.onnx']) {
      const { view, nodes } = viewOf(fixture(name));
      const g = buildGroups(view, nodes);
      checkInvariants(view, g);
      const vis = visibleView(view, g, allGroupIds(g));
      expect(vis.nodes).toEqual(view.nodes);
      vis.nodes.forEach((n, i) => expect(n).toBe(view.nodes[i]));
      expect(vis.edges).toEqual(view.edges);
    }
  });
});

describe('grouping generated graphs', () => {
  const dir = scratchDir('unit-collapse');

  it('the 10,000-node bench graph: 25 stage boxes of 400 nodes, 100 block boxes in each', () => {
    const path = wideGraphModel(dir, 'wide-10k.onnx', 10_000);
    const m = readModel(new Uint8Array(readFileSync(path)), 'wide-10k.onnx');
    const { view, nodes } = viewOf(m);
    const t = performance.now();
    const g = buildGroups(view, nodes);
    const ms = performance.now() - t;
    checkInvariants(view, g);
    const shown = defaultExpanded(g);
    const { vis } = checkEdges(view, g, shown);
    expect(vis.nodes.filter((n) => n.kind === 'group').map((n) => n.label)).toEqual(Array.from({ length: 25 }, (_, k) => `stage${k}`));
    expect(vis.nodes.map((n) => n.kind).filter((k) => k !== 'group')).toEqual(['input', 'output']);
    // Between two stages: one edge, labelled with the one tensor it carries (read twice).
    const e = vis.edges.find((x) => x.source === 'g:s:stage0' && x.target === 'g:s:stage1')!;
    expect(e.label).toBe('b99.out');
    expect(e.count).toBe(2);
    // Incompatible nodes are counted per box.
    const prelus = new Set(view.nodes.filter((n) => n.opType === 'PRelu').map((n) => n.id));
    const counted = visibleView(view, g, shown, prelus);
    expect(counted.nodes.filter((n) => n.kind === 'group').every((n) => n.kind === 'group' && n.incompatible === 100)).toBe(true);
    // Opening stage3 draws its 100 blocks; opening a block, its 4 nodes.
    const open = new Set([...shown, 'g:s:stage3']);
    const v3 = checkEdges(view, g, open).vis;
    expect(v3.nodes.length).toBe(27 - 1 + 100);
    expect(v3.open.map((x) => x.id)).toEqual(['g:s:stage3']);
    open.add('g:s:stage3/block305');
    const v4 = checkEdges(view, g, open).vis;
    expect(v4.nodes.filter((n) => n.kind === 'op').map((n) => n.label)).toEqual(['stage3/block305/conv', 'stage3/block305/prelu', 'stage3/block305/add', 'stage3/block305/relu']);
    expect(groupPathOf(g, v4.nodes.find((n) => n.label === 'stage3/block305/prelu')!.id)).toEqual(['g:s:stage3', 'g:s:stage3/block305']);
    // A child group open under a collapsed parent draws nothing of it.
    const hiddenChild = visibleView(view, g, new Set(['g:s:stage3/block305']));
    expect(hiddenChild.nodes.length).toBe(27);
    expect(hiddenChild.open).toEqual([]);
    console.log(`grouping 10,000 nodes: ${ms.toFixed(0)} ms`);
  });

  it('flat names: repeated op sequences become "A·B·C ×k" groups, long runs split, every level ≤ MAX_ITEMS', () => {
    const ops = ['Conv', 'PRelu', 'Add', 'Relu'];
    const m = chain(6_000, (i) => `node_${i}`, ops);
    const { view, nodes } = viewOf(m);
    const g = buildGroups(view, nodes);
    checkInvariants(view, g);
    const top = g.top.filter((id) => g.groups.has(id)).map((id) => g.groups.get(id)!);
    expect(top).toHaveLength(1);
    expect(top[0]!.label).toBe('Conv·PRelu·Add·Relu ×1500');
    expect(top[0]!.kind).toBe('repeat');
    // Its blocks come in parts of CHUNK nodes at most.
    const leaf = [...g.groups.values()].filter((x) => x.items.every((i) => !g.groups.has(i)));
    for (const l of leaf) expect(l.size).toBeLessThanOrEqual(CHUNK);
    expect(leaf[0]!.label).toBe(`Conv·PRelu·Add·Relu ×${Math.floor(CHUNK / 4)}`);
    for (const e of [new Set<string>(), defaultExpanded(g), new Set([top[0]!.id])]) checkEdges(view, g, e);
    const all = visibleView(view, g, allGroupIds(g));
    expect(all.nodes).toEqual(view.nodes);
    expect(all.edges).toEqual(view.edges);
  });

  it('no names and no repeats: chunks of chunks, so 50,000 nodes open as a few dozen boxes', () => {
    const ops = ['Relu', 'Neg', 'Abs', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Sin', 'Cos', 'Tan', 'Sign', 'Erf', 'Softsign'];
    // A period of 17: longer than the longest block looked for.
    const m = chain(50_000, () => '', ops);
    const { view, nodes } = viewOf(m);
    const g = buildGroups(view, nodes);
    checkInvariants(view, g);
    expect(g.top.length).toBeLessThanOrEqual(MAX_ITEMS);
    const { vis } = checkEdges(view, g, defaultExpanded(g));
    expect(vis.nodes.length).toBeLessThanOrEqual(MAX_ITEMS);
    expect(vis.nodes.length).toBeGreaterThan(5);
  });

  it('one scope around everything (TF "model/…") is not a level of its own', () => {
    const m = chain(3_000, (i) => `model/conv2d_${Math.floor(i / 3)}/${['Conv2D', 'BiasAdd', 'Relu'][i % 3]}`, ['Conv', 'Add', 'Relu']);
    const { view, nodes } = viewOf(m);
    const g = buildGroups(view, nodes);
    checkInvariants(view, g);
    // 1,000 conv2d_k scopes at the top are too many: chunked into 20 boxes of 50.
    expect(g.top.filter((id) => g.groups.has(id))).toHaveLength(20);
    const first = g.groups.get(g.top.find((id) => g.groups.has(id))!)!;
    expect(first.kind).toBe('chunk');
    expect(first.label).toBe('conv2d_0 … conv2d_49');
    expect(g.groups.get(first.items[0]!)!.label).toBe('conv2d_0');
  });

  it('a scope holding only one sub-scope is merged with it', () => {
    const m = chain(1_200, (i) => (i < 600 ? `/encoder/only/layer${Math.floor(i / 6)}/op${i}` : `/decoder/layer${Math.floor(i / 6)}/op${i}`), ['MatMul', 'Add', 'Relu']);
    const { view, nodes } = viewOf(m);
    const g = buildGroups(view, nodes);
    checkInvariants(view, g);
    const labels = g.top.filter((id) => g.groups.has(id)).map((id) => g.groups.get(id)!.label);
    expect(labels).toEqual(['encoder/only', 'decoder']);
    // Two boxes at the top would say little: the default view opens them.
    const open = defaultExpanded(g);
    expect(open.has('g:s:encoder/only')).toBe(false); // 100 layers: over the budget
    expect(visibleView(view, g, open).nodes.length).toBe(4);
  });
});

describe('search', () => {
  it('finds nodes by name, op type and tensor, case-insensitively, current graph first, first 50 of all', () => {
    const dir = scratchDir('unit-collapse-search');
    const m = readModel(new Uint8Array(readFileSync(wideGraphModel(dir, 'wide-search.onnx', 2_000))), 'w');
    const entries = searchEntries([indexAt(m, [])]);
    const byName = searchGraphs(entries, 'STAGE3/BLOCK305/prelu', '');
    expect(byName.total).toBe(1);
    expect(byName.hits[0]!.entry.name).toBe('stage3/block305/prelu');
    expect(byName.hits[0]!.by).toBe('name');
    const byOp = searchGraphs(entries, 'prelu', '');
    expect(byOp.total).toBe(500);
    expect(byOp.hits).toHaveLength(50);
    const byTensor = searchGraphs(entries, 'b17.sum', '');
    expect(byTensor.hits.map((h) => [h.entry.opType, h.by, h.tensor])).toEqual([['Add', 'tensor', 'b17.sum'], ['Relu', 'tensor', 'b17.sum']]);
    expect(searchGraphs(entries, 'x', '').hits[0]!.entry.id).toBe('in:x');
    // An exact op type comes before names that merely contain it: "relu" lists Relu nodes, not ".../prelu" first.
    const relu = searchGraphs(entries, 'relu', '');
    expect(relu.total).toBe(1000);
    expect(relu.hits.map((h) => h.entry.opType)).toEqual(Array(50).fill('Relu'));
    expect(relu.hits[0]!.by).toBe('op');
    expect(searchGraphs(entries, '  ', '').total).toBe(0);
  });
});
