// Big graphs drawn a level at a time (issue 5): the nodes of a graph view are put in a hierarchy
// of groups — by name scope (`/encoder/layer.3/attention/MatMul`, `stage2/block17/conv`), and,
// where names give no usable scope, by repeated op-type sequences (Conv·PRelu·Add·Relu ×100) and
// plain chunks in topological order — so that no level holds more than MAX_ITEMS items. The
// canvas draws `visibleView()`: every collapsed group is one box, edges between boxes aggregated.
// Pure data: no DOM, no React.
import type { GraphView, ViewEdge, ViewNode } from './view';
import { runSteps, type Steps } from '../steps';

/** Views with at most this many nodes are drawn whole: grouping is not worth an extra click. */
export const EXPAND_ALL_MAX = 1000;
/**
 * Views whose names give no scope are drawn whole up to this many nodes: chunks of consecutive
 * nodes tell less than the graph itself, which React Flow still draws smoothly at this size.
 */
export const UNSCOPED_EXPAND_ALL_MAX = 3000;
/** A level (the top, or a group's contents) with more items than this is subdivided. */
export const MAX_ITEMS = 150;
/** Items per chunk when a level is subdivided into chunks. */
export const CHUNK = 50;
/** Longest op-type sequence looked for as a repeated block. */
const MAX_PERIOD = 16;
/** The default view opens groups, biggest level first, while at most this many items are drawn. */
export const OPEN_BUDGET = 60;

export interface Group {
  /** "g:" + a key: never the id of a view node. */
  id: string;
  kind: 'scope' | 'repeat' | 'chunk';
  /** The scope path ("encoder/layer.3"), the repeated sequence ("Conv·PRelu ×100") or a range. */
  label: string;
  parent?: string;
  /** Child group ids and view node ids, in topological (view) order. */
  items: string[];
  /** View nodes inside, at any depth. */
  size: number;
}

const INTERNAL = Symbol('grouping internals');
interface Internals {
  view: GraphView;
  /** Groups in pre-order, and each one's parent's number (-1 at the top). */
  list: Group[];
  parentIx: Int32Array;
  /** Per view node (by position): its innermost group's number, or -1. */
  nodeGroup: Int32Array;
  position: Map<string, number>;
}

export interface Grouping {
  groups: Map<string, Group>;
  /** The top level: groups and ungrouped nodes (graph inputs and outputs), in view order. */
  top: string[];
  /** Each grouped view node's innermost group. */
  groupOf: Map<string, string>;
  [INTERNAL]: Internals;
}

/** A collapsed group as one drawn node. */
export interface GroupBox {
  id: string;
  kind: 'group';
  group: Group;
  label: string;
  /** View nodes inside. */
  size: number;
  /** Incompatible nodes inside (as counted by the caller's set or map). */
  incompatible: number;
  /** The most frequent op types inside, most frequent first (at most 4). */
  ops: [string, number][];
  /** How many op types are inside. */
  opKinds: number;
}

export type VisibleNode = ViewNode | GroupBox;

export interface VisibleEdge extends ViewEdge {
  /** Set on merged edges: how many view edges this one stands for. */
  count?: number;
}

export interface VisibleView {
  nodes: VisibleNode[];
  edges: VisibleEdge[];
  /** Expanded groups whose contents are drawn (every ancestor expanded too), outermost first. */
  open: Group[];
}

/** The scope path of a node name: "/encoder/layer.3/attention/MatMul" → ["encoder", "layer.3", "attention"]. */
export function scopeOf(name: string): string[] {
  const parts = name.replace(/^\/+/, '').split('/');
  parts.pop();
  return parts.filter((p) => p !== '');
}

interface Draft {
  kind: Group['kind'];
  label: string;
  key: string;
  /** Child drafts and view node positions, kept as items. */
  items: Item[];
  size: number;
  first: number;
}
type Item = { node: number } | { draft: Draft };
const firstOf = (it: Item) => ('node' in it ? it.node : it.draft.first);

interface Trie {
  segment: string;
  children: Map<string, Trie>;
  members: number[];
  size: number;
  first: number;
}

/**
 * The group hierarchy of `view`. `graphNodes` are the graph's NodeProtos (or anything with a name),
 * indexed as ViewNode.index: their names give the scopes.
 */
export function buildGroups(view: GraphView, graphNodes: readonly { name: string }[]): Grouping {
  return runSteps(buildGroupsSteps(view, graphNodes));
}

/** Items handled between two yields of buildGroupsSteps. */
const ITEMS_PER_STEP = 5000;

/** buildGroups in steps (src/steps.ts): a 50,000-node view takes ~100 ms in all. */
export function* buildGroupsSteps(view: GraphView, graphNodes: readonly { name: string }[]): Steps<Grouping> {
  let work = 0;
  const due = () => ++work % ITEMS_PER_STEP === 0;
  const N = view.nodes.length;
  const root: Trie = { segment: '', children: new Map(), members: [], size: 0, first: 0 };
  const loose: number[] = []; // inputs, outputs, outer tensors: never grouped
  for (let i = 0; i < N; i++) {
    if (due()) yield;
    const v = view.nodes[i]!;
    if (v.kind !== 'op') { loose.push(i); continue; }
    const name = v.index !== undefined ? graphNodes[v.index]?.name ?? '' : '';
    let t = root;
    t.size++;
    for (const seg of scopeOf(name)) {
      let c = t.children.get(seg);
      if (!c) { c = { segment: seg, children: new Map(), members: [], size: 0, first: i }; t.children.set(seg, c); }
      t = c;
      t.size++;
    }
    t.members.push(i);
  }

  // Trie → drafts: a scope of one node is no group (its node goes to the enclosing one); a scope
  // holding nothing but one sub-scope is merged with it ("encoder/layer.3").
  const toItems = function* (t: Trie, prefix: string): Steps<Item[]> {
    const items: Item[] = t.members.map((node) => ({ node }));
    work += items.length;
    if (due()) yield;
    for (const c of t.children.values()) {
      let label = c.segment;
      let at = c;
      while (at.members.length === 0 && at.children.size === 1) {
        at = at.children.values().next().value!;
        label += `/${at.segment}`;
      }
      const key = prefix ? `${prefix}/${label}` : label;
      const inner = yield* toItems(at, key);
      if (c.size < 2) items.push(...inner);
      else items.push({ draft: { kind: 'scope', label, key: `s:${key}`, items: inner, size: c.size, first: c.first } });
    }
    return items.sort((a, b) => firstOf(a) - firstOf(b));
  };
  let topItems = yield* toItems(root, '');
  // One scope around everything ("model/…", "/module/…") says nothing: its contents are the top.
  while (topItems.length === 1 && 'draft' in topItems[0]!) topItems = topItems[0].draft.items;

  const opCode = new Map<string, number>();
  const codeOf = (i: number) => {
    const v = view.nodes[i]!;
    const k = `${v.domain ?? ''}:${v.opType ?? ''}`;
    let c = opCode.get(k);
    if (c === undefined) { c = opCode.size; opCode.set(k, c); }
    return c;
  };

  const subdivide = function* (items: Item[], key: string): Steps<Item[]> {
    let out = items;
    if (out.length > MAX_ITEMS) out = yield* repeats(out, key);
    return chunked(out, key);
  };
  const chunked = (items: Item[], key: string): Item[] => {
    let out = items;
    for (let depth = 0; out.length > MAX_ITEMS; depth++) {
      const next: Item[] = [];
      for (let i = 0; i < out.length; i += CHUNK) {
        const part = out.slice(i, i + CHUNK);
        if (part.length === 1) { next.push(part[0]!); continue; }
        const size = part.reduce((a, it) => a + ('node' in it ? 1 : it.draft.size), 0);
        next.push({ draft: { kind: 'chunk', label: `${itemLabel(part[0]!)} … ${itemLabel(part.at(-1)!)}`, key: `${key}/c${depth}:${firstOf(part[0]!)}`, items: part, size, first: firstOf(part[0]!) } });
      }
      out = next;
    }
    return out;
  };
  const itemLabel = (it: Item) => ('node' in it ? view.nodes[it.node]!.label : it.draft.label);

  /** Consecutive runs of the same op-type sequence among the level's nodes become 'repeat' groups. */
  const repeats = function* (items: Item[], key: string): Steps<Item[]> {
    const codes = items.map((it) => ('node' in it ? codeOf(it.node) : -1 - firstOf(it)));
    const n = codes.length;
    const out: Item[] = [];
    const same = (a: number, b: number, len: number) => {
      for (let j = 0; j < len; j++) if (codes[a + j] !== codes[b + j]) return false;
      return true;
    };
    for (let i = 0; i < n;) {
      if (due()) yield;
      let best = { p: 0, k: 0 };
      for (let p = 1; p <= MAX_PERIOD && i + 2 * p <= n; p++) {
        let ok = true;
        for (let j = 0; j < p; j++) if (codes[i + j]! < 0) { ok = false; break; }
        if (!ok) break;
        let k = 1;
        while (i + (k + 1) * p <= n && same(i, i + k * p, p)) k++;
        if (k >= 3 && p * k >= 6 && p * k > best.p * best.k) best = { p, k };
      }
      if (best.k === 0) { out.push(items[i]!); i++; continue; }
      const { p, k } = best;
      const ops = items.slice(i, i + p).map((it) => view.nodes[(it as { node: number }).node]!.opType ?? '?');
      const pattern = ops.join('·');
      // Blocks of the run, in sub-groups of at most CHUNK nodes when the run is long.
      const perPart = Math.max(1, Math.floor(CHUNK / p));
      const blocks: Item[] = [];
      if (k * p <= MAX_ITEMS) blocks.push(...items.slice(i, i + k * p));
      else {
        for (let b = 0; b < k; b += perPart) {
          const m = Math.min(perPart, k - b);
          const part = items.slice(i + b * p, i + (b + m) * p);
          blocks.push({ draft: { kind: 'repeat', label: `${pattern} ×${m}`, key: `${key}/r:${firstOf(part[0]!)}`, items: part, size: part.length, first: firstOf(part[0]!) } });
        }
      }
      const inner = chunked(blocks, `${key}/r:${firstOf(items[i]!)}`);
      out.push({ draft: { kind: 'repeat', label: `${pattern} ×${k}`, key: `${key}/R:${firstOf(items[i]!)}`, items: inner, size: k * p, first: firstOf(items[i]!) } });
      i += k * p;
    }
    return out;
  };

  // Drafts → groups, subdividing every level that is too big (scope contents included). Groups are
  // numbered in pre-order (a parent before its children), which visibleView relies on.
  const groups = new Map<string, Group>();
  const groupOf = new Map<string, string>();
  const list: Group[] = [];
  const parentIx: number[] = [];
  const nodeGroup = new Int32Array(N).fill(-1);
  const emit = function* (d: Draft, parent: number): Steps<string> {
    const id = `g:${d.key}`;
    const ix = list.length;
    const items = d.items.length > MAX_ITEMS ? yield* subdivide(d.items, d.key) : d.items;
    const g: Group = { id, kind: d.kind, label: d.label, ...(parent >= 0 ? { parent: list[parent]!.id } : {}), items: [], size: d.size };
    groups.set(id, g);
    list.push(g);
    parentIx.push(parent);
    for (const it of items) {
      if (due()) yield;
      if ('node' in it) {
        const v = view.nodes[it.node]!;
        g.items.push(v.id);
        groupOf.set(v.id, id);
        nodeGroup[it.node] = ix;
      } else g.items.push(yield* emit(it.draft, ix));
    }
    return id;
  };
  const top: string[] = [];
  const all = [...loose.map((node): Item => ({ node })), ...(yield* subdivide(topItems, 'top'))].sort((a, b) => firstOf(a) - firstOf(b));
  for (const it of all) top.push('node' in it ? view.nodes[it.node]!.id : yield* emit(it.draft, -1));
  yield;
  const position = new Map<string, number>();
  view.nodes.forEach((v, i) => position.set(v.id, i));
  return { groups, top, groupOf, [INTERNAL]: { view, list, parentIx: Int32Array.from(parentIx), nodeGroup, position } };
}

/**
 * The grouping the canvas uses for `view`, or undefined when the view is drawn whole: up to
 * EXPAND_ALL_MAX nodes, or UNSCOPED_EXPAND_ALL_MAX when no name scope makes a group.
 * `grouped`: the choice made when this graph was first shown (true: grouped, false: whole), kept
 * through its edits so that one rewrite (whose new names, "PRelu_140/Less", look like a scope)
 * does not switch a graph drawn whole to groups, or back, under the user's eyes.
 */
export function groupsFor(view: GraphView, graphNodes: readonly { name: string }[], grouped?: boolean): Grouping | undefined {
  return runSteps(groupsForSteps(view, graphNodes, grouped));
}

/** groupsFor in steps (src/steps.ts). */
export function* groupsForSteps(view: GraphView, graphNodes: readonly { name: string }[], grouped?: boolean): Steps<Grouping | undefined> {
  if (grouped === false) return undefined;
  if (grouped === true) return yield* buildGroupsSteps(view, graphNodes);
  if (view.nodes.length <= EXPAND_ALL_MAX) return undefined;
  const g = yield* buildGroupsSteps(view, graphNodes);
  if (view.nodes.length <= UNSCOPED_EXPAND_ALL_MAX && ![...g.groups.values()].some((x) => x.kind === 'scope')) return undefined;
  return g;
}

/** The chain of groups holding `id` (a view node or a group), outermost first; [] if none. */
export function groupPathOf(grouping: Grouping, id: string): string[] {
  const chain: string[] = [];
  let g = grouping.groups.has(id) ? grouping.groups.get(id)!.parent : grouping.groupOf.get(id);
  while (g) { chain.push(g); g = grouping.groups.get(g)!.parent; }
  return chain.reverse();
}

/** Every group id: expanding them all draws the whole view. */
export const allGroupIds = (grouping: Grouping): Set<string> => new Set(grouping.groups.keys());

/**
 * What to open first: top-level groups stay collapsed unless the top level is small, then groups
 * open breadth-first, in order, while at most `budget` items would be drawn (so a model whose names
 * all start with one or two scopes does not open as two boxes).
 */
export function defaultExpanded(grouping: Grouping, budget = OPEN_BUDGET): Set<string> {
  const open = new Set<string>();
  let drawn = grouping.top.length;
  const queue = grouping.top.filter((id) => grouping.groups.has(id));
  for (let h = 0; h < queue.length; h++) {
    const g = grouping.groups.get(queue[h]!)!;
    if (drawn - 1 + g.items.length > budget) continue;
    open.add(g.id);
    drawn += g.items.length - 1;
    for (const c of g.items) if (grouping.groups.has(c)) queue.push(c);
  }
  return open;
}

/** Per group: incompatible view nodes inside (ids in a set count 1; a map gives each id's count). */
export function insideCounts(grouping: Grouping, incompatible: ReadonlySet<string> | ReadonlyMap<string, number>): Map<string, number> {
  const { list, parentIx, nodeGroup, position } = grouping[INTERNAL];
  const out = new Map<string, number>();
  const weigh = (id: string, n: number) => {
    const i = position.get(id);
    if (i === undefined) return;
    for (let g = nodeGroup[i]!; g >= 0; g = parentIx[g]!) out.set(list[g]!.id, (out.get(list[g]!.id) ?? 0) + n);
  };
  if (incompatible instanceof Map) for (const [id, n] of incompatible) weigh(id, n);
  else for (const id of incompatible as ReadonlySet<string>) weigh(id, 1);
  return out;
}

/**
 * The nodes and edges to draw when the groups in `expanded` are open: a view node inside a
 * collapsed group is drawn as that group's box (the outermost collapsed one); edges are mapped to
 * what is drawn, those inside one box dropped, and those between a box and anything else merged
 * into one edge per pair (labelled with the tensor when it carries one, else "N tensors").
 * `incompatible`: incompatible view node ids (or a count per node id), summed per box.
 * With every group expanded, the result holds the view's own node and edge objects, in its order.
 */
export function visibleView(
  view: GraphView,
  grouping: Grouping,
  expanded: ReadonlySet<string>,
  incompatible: ReadonlySet<string> | ReadonlyMap<string, number> = new Set(),
): VisibleView {
  const { list, parentIx, nodeGroup, position } = grouping[INTERNAL];
  if (grouping[INTERNAL].view !== view) throw new Error('visibleView: the grouping was built for another view');
  const G = list.length;
  // The outermost collapsed group at or above each group (-1 when it and every ancestor are open);
  // parents come before their children in `list`.
  const hid = new Int32Array(G);
  for (let g = 0; g < G; g++) {
    const p = parentIx[g]!;
    hid[g] = p >= 0 && hid[p]! >= 0 ? hid[p]! : expanded.has(list[g]!.id) ? -1 : g;
  }
  /** What view node i is drawn as: -1 itself, else a group number. */
  const repOf = (i: number) => { const g = nodeGroup[i]!; return g < 0 ? -1 : hid[g]!; };

  const bad = insideCounts(grouping, incompatible);
  const nodes: VisibleNode[] = [];
  const boxOps = new Map<number, Map<string, number>>();
  const boxes = new Map<number, GroupBox>();
  const reps = new Int32Array(view.nodes.length);
  view.nodes.forEach((v, i) => {
    const r = repOf(i);
    reps[i] = r;
    if (r < 0) { nodes.push(v); return; }
    let hist = boxOps.get(r);
    if (!hist) {
      hist = new Map();
      boxOps.set(r, hist);
      const group = list[r]!;
      const box: GroupBox = { id: group.id, kind: 'group', group, label: group.label, size: group.size, incompatible: bad.get(group.id) ?? 0, ops: [], opKinds: 0 };
      boxes.set(r, box);
      nodes.push(box);
    }
    const op = v.opType ?? v.kind;
    hist.set(op, (hist.get(op) ?? 0) + 1);
  });
  for (const [r, box] of boxes) {
    const hist = boxOps.get(r)!;
    box.ops = [...hist].sort((a, b) => b[1] - a[1]).slice(0, 4);
    box.opKinds = hist.size;
  }

  const edges: VisibleEdge[] = [];
  const merged = new Map<string, { edge: VisibleEdge; labels: Set<string> }>();
  for (const e of view.edges) {
    const si = position.get(e.source);
    const ti = position.get(e.target);
    const sr = si === undefined ? -1 : reps[si]!;
    const tr = ti === undefined ? -1 : reps[ti]!;
    if (sr < 0 && tr < 0) { edges.push(e); continue; }
    if (sr === tr) continue;
    const s = sr < 0 ? e.source : list[sr]!.id;
    const t = tr < 0 ? e.target : list[tr]!.id;
    const key = `${s}=>${t}`;
    const m = merged.get(key);
    if (!m) {
      const edge: VisibleEdge = { id: key, source: s, target: t, label: e.label, count: 1 };
      merged.set(key, { edge, labels: new Set([e.label]) });
      edges.push(edge);
    } else {
      m.edge.count!++;
      m.labels.add(e.label);
      if (m.labels.size > 1) m.edge.label = `${m.labels.size} tensors`;
    }
  }

  const open: Group[] = [];
  for (let g = 0; g < G; g++) if (hid[g]! < 0) open.push(list[g]!);
  return { nodes, edges, open };
}
