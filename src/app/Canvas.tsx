import { useEffect, useMemo, useRef, useState } from 'react';
import { count } from '../plural';
import {
  Background, Controls, MiniMap, ReactFlow, useReactFlow,
  type Edge,
} from '@xyflow/react';
import { useStore } from './store';
import { indexAt, indexAtSteps, isFunctionStep, nodeId, pathKey, type GraphPath } from '../graph/scope';
import { runStepsSliced } from '../steps';
import type { ModelProto } from 'onnx-buf';
import { graphViewSteps, type GraphView } from '../graph/view';
import {
  defaultExpanded, groupPathOf, groupsForSteps, insideCounts, visibleView,
  type Grouping, type VisibleView,
} from '../graph/collapse';
import type { Positions } from '../graph/layout';
import { INCOMPATIBLE } from '../targets/check';
import { layout } from './layout';
import { Search } from './Search';
import {
  GROUP_H, GROUP_HANDLES, GROUP_MEASURED, GROUP_W, GroupActions, HANDLES, isIncompatible, MEASURED, NODE_H, NODE_W, nodeTypes, sizeOf,
  type FlowNode, type FrameFlowNode,
} from './CanvasNodes';

// The minimap draws every node as SVG whatever is visible; past this size it costs seconds.
const MINIMAP_MAX_NODES = 3000;
/** Beyond this ratio of height to width (or width to height) the minimap shows a line: not drawn. */
const MINIMAP_MAX_ASPECT = 6;
const MINIMAP_W = 150;
const MINIMAP_H = 100;
/** Past this many open groups, their frames are not drawn (Expand all on a huge graph). */
const MAX_FRAMES = 400;
/** Expand all is offered up to this many nodes: beyond, drawing everything takes seconds. */
const EXPAND_ALL_LIMIT = 20_000;

/** The graph at a path of a model, as drawn: its view and, when big, its groups. */
interface Built {
  model: ModelProto;
  /** The opened file's bytes: edits, undo and redo of one file keep this; opening a file changes it. */
  origin?: Uint8Array;
  path: GraphPath;
  view: GraphView;
  grouping?: Grouping;
}
const EMPTY_VIEW: GraphView = { nodes: [], edges: [] };

/** A laid-out visible view: what is drawn. */
interface Laid {
  view: GraphView;
  visible: VisibleView;
  pos: Positions;
}

/** The first drawn element standing for group `gid`: its box when collapsed, else its first drawn node. */
function firstDrawnOf(visible: VisibleView, grouping: Grouping, gid: string): string | undefined {
  for (const n of visible.nodes) if (n.id === gid || groupPathOf(grouping, n.id).includes(gid)) return n.id;
  return undefined;
}

export function Canvas() {
  const model = useStore((s) => s.model)!;
  const viewPath = useStore((s) => s.viewPath);
  const findings = useStore((s) => s.findings);
  const selected = useStore((s) => s.selected);
  const focusTick = useStore((s) => s.focusTick);
  const filter = useStore((s) => s.filter);
  const loading = useStore((s) => !!s.loading);
  const origin = useStore((s) => s.original);
  const { fitView, setCenter, setViewport, getViewport } = useReactFlow();

  // The view and its groups are built in steps after the task that opened or edited the model (and
  // checked it), the thread given back every few milliseconds: on a 50,000-node graph they take ~0.2 s.
  const [built, setBuilt] = useState<Built>();
  // Grouped or whole, per graph of the opened file: decided when the graph is first shown, kept
  // through edits, undo and redo (an edit's new names must not regroup the graph under the user).
  const decided = useRef<{ origin?: Uint8Array; grouped: Map<string, boolean> }>({ grouped: new Map() });
  useEffect(() => {
    if (built && built.model === model && built.path === viewPath) return;
    if (decided.current.origin !== origin) decided.current = { origin, grouped: new Map() };
    const k = pathKey(viewPath);
    const run = new AbortController();
    function* build() {
      const index = yield* indexAtSteps(model, viewPath);
      const view = yield* graphViewSteps(index);
      // Small views are drawn whole, as they always were; big ones a level at a time (src/graph/collapse.ts).
      const grouping = yield* groupsForSteps(view, index.graph.node, decided.current.grouped.get(k));
      return { view, grouping };
    }
    runStepsSliced(build(), { signal: run.signal }).then(
      ({ view, grouping }) => {
        decided.current.grouped.set(k, grouping !== undefined);
        setBuilt({ model, origin, path: viewPath, view, grouping });
      },
      (e: Error) => {
        if (!run.signal.aborted) useStore.setState({ error: `The graph could not be drawn: ${e.message}` });
      },
    );
    return () => run.abort();
  }, [model, viewPath]); // eslint-disable-line react-hooks/exhaustive-deps
  const current = built && built.model === model && built.path === viewPath;
  const view = built?.view ?? EMPTY_VIEW;
  const grouping = built?.grouping;
  const key = built ? pathKey(built.path) : '';
  const [exp, setExp] = useState<{ grouping: Grouping; path: string; open: ReadonlySet<string> }>();
  const expanded = useMemo(() => {
    if (!grouping) return undefined;
    if (exp?.grouping === grouping) return exp.open;
    // The same graph after an edit: keep open what is still there.
    if (exp && exp.path === key) return new Set([...exp.open].filter((id) => grouping.groups.has(id)));
    return defaultExpanded(grouping);
  }, [grouping, exp, key]);
  const visible = useMemo<VisibleView>(
    () => (grouping ? visibleView(view, grouping, expanded!) : { nodes: view.nodes, edges: view.edges, open: [] }),
    [view, grouping, expanded],
  );

  // Operator nodes drawn, as the details panel counts them (not the graph's input and output boxes).
  const opCount = useMemo(() => view.nodes.reduce((n, v) => n + (v.kind === 'op' ? 1 : 0), 0), [view]);
  const [laid, setLaid] = useState<Laid>();
  useEffect(() => {
    if (!built) return;
    let live = true;
    void layout(
      visible.nodes.map((n) => ({ id: n.id, ...sizeOf(n) })),
      visible.edges.map((e) => ({ source: e.source, target: e.target })),
    ).then((pos) => { if (live) setLaid({ view, visible, pos }); });
    return () => { live = false; };
  }, [visible]); // eslint-disable-line react-hooks/exhaustive-deps
  // Ready once the view has been laid out; opening a group keeps the old drawing (and ready) until
  // the new layout arrives.
  const ready = !!current && laid?.view === view;
  const drawn = ready ? laid : undefined;
  const relayout = ready && laid.visible !== visible;

  const compat = useMemo(() => new Map(findings.map((f) => [f.nodeId, f.status])), [findings]);
  // Nodes whose subgraphs hold incompatible nodes (an If whose branch has a PRelu the target lacks).
  const inside = useMemo(() => {
    const count = new Map<string, number>();
    const bump = (id: string) => count.set(id, (count.get(id) ?? 0) + 1);
    for (const f of findings) {
      if (f.status === 'unknown') continue;
      f.path.forEach((step, k) => {
        if (isFunctionStep(step)) {
          // A function body: every node of this view that calls the function holds the finding.
          const fn = model.functions[step.fn];
          if (!fn) return;
          view.nodes.forEach((n) => { if (n.kind === 'op' && n.opType === fn.name && n.domain === fn.domain) bump(n.id); });
        } else bump(nodeId(f.path.slice(0, k), step.node));
      });
    }
    return count;
  }, [findings, model, view]);
  // Incompatible nodes inside each group box (a node holding incompatible subgraph nodes counts those).
  const groupBad = useMemo(() => {
    if (!grouping) return new Map<string, number>();
    const bad = new Map(inside);
    for (const f of findings) if (INCOMPATIBLE.has(f.status) && pathKey(f.path) === key) bad.set(f.nodeId, (bad.get(f.nodeId) ?? 0) + 1);
    return insideCounts(grouping, bad);
  }, [grouping, inside, findings, key]);
  const highlighted = useMemo(() => (filter ? new Set(filter.nodeIds) : undefined), [filter]);
  const highlightedGroups = useMemo(() => {
    const out = new Set<string>();
    if (grouping && highlighted) for (const id of highlighted) for (const g of groupPathOf(grouping, id)) out.add(g);
    return out;
  }, [grouping, highlighted]);

  const toggle = useRef<(id: string, open: boolean) => void>(() => {});
  /** After opening or closing a group: keep what stands for it where it was on the screen. */
  const anchor = useRef<{ group: string; x: number; y: number }>(undefined);
  toggle.current = (id, open) => {
    if (!grouping || !expanded || !drawn) return;
    const first = firstDrawnOf(drawn.visible, grouping, id);
    const p = first ? drawn.pos[first] : undefined;
    if (p && first) anchor.current = { group: id, x: p.x + sizeOf(drawn.visible.nodes.find((n) => n.id === first)!).width / 2, y: p.y };
    const next = new Set(expanded);
    if (open) next.add(id);
    else {
      next.delete(id);
      for (const g of next) if (groupPathOf(grouping, g).includes(id)) next.delete(g);
    }
    setExp({ grouping, path: key, open: next });
  };
  const actions = useMemo(() => ({ toggle: (id: string, open: boolean) => toggle.current(id, open) }), []);
  const setAll = (open: boolean) => {
    if (!grouping) return;
    anchor.current = undefined;
    setExp({ grouping, path: key, open: open ? new Set(grouping.groups.keys()) : defaultExpanded(grouping) });
  };

  const nodes: FlowNode[] = useMemo(() => {
    if (!drawn) return [];
    const out: FlowNode[] = [];
    const frameBox = new Map<string, { x0: number; y0: number; x1: number; y1: number; depth: number }>();
    const framed = grouping && drawn.visible.open.length > 0 && drawn.visible.open.length <= MAX_FRAMES;
    for (const n of drawn.visible.nodes) {
      const position = drawn.pos[n.id] ?? { x: 0, y: 0 };
      if (framed) {
        const size = sizeOf(n);
        for (const [depth, g] of groupPathOf(grouping, n.id).entries()) {
          const b = frameBox.get(g);
          if (!b) frameBox.set(g, { x0: position.x, y0: position.y, x1: position.x + size.width, y1: position.y + size.height, depth });
          else {
            b.x0 = Math.min(b.x0, position.x); b.y0 = Math.min(b.y0, position.y);
            b.x1 = Math.max(b.x1, position.x + size.width); b.y1 = Math.max(b.y1, position.y + size.height);
          }
        }
      }
      if (n.kind === 'group') {
        const incompatible = groupBad.get(n.id) ?? 0;
        out.push({
          id: n.id, type: 'opgroup', position, data: { box: n, incompatible }, draggable: false, selectable: false,
          className: highlighted ? (highlightedGroups.has(n.id) ? 'highlighted' : 'dimmed') : undefined,
          width: GROUP_W, height: GROUP_H, measured: GROUP_MEASURED, handles: GROUP_HANDLES,
          ariaLabel: `Group ${n.label}, ${count(n.size, 'node')}${incompatible ? `, ${incompatible} incompatible inside` : ''}`,
          domAttributes: { 'data-group': n.group.kind, 'data-incompatible-inside': String(incompatible) } as Record<string, string>,
        });
        continue;
      }
      const status = compat.get(n.id);
      const incompatible = status !== undefined && status !== 'unknown';
      out.push({
        id: n.id, type: 'onnx', position,
        data: { ...n, compat: status, inside: inside.get(n.id) }, selected: n.id === selected, draggable: false,
        className: highlighted && !highlighted.has(n.id) ? 'dimmed' : highlighted ? 'highlighted' : undefined,
        width: NODE_W, height: NODE_H, measured: MEASURED, handles: HANDLES,
        ariaLabel: `${n.opType ?? n.kind} ${n.label}${incompatible ? ', incompatible with the target' : ''}`,
        domAttributes: { 'data-compat': incompatible ? 'unsupported' : status === 'unknown' ? 'unknown' : 'ok' } as Record<string, string>,
      });
    }
    // Frames behind open groups' contents, outer ones larger, with a header that closes the group.
    if (framed) {
      const depthMax = Math.max(0, ...[...frameBox.values()].map((b) => b.depth));
      const frames: FrameFlowNode[] = [];
      for (const g of drawn.visible.open) {
        const b = frameBox.get(g.id);
        if (!b) continue;
        const pad = 8 + (depthMax - b.depth) * 10;
        const head = 24 + (depthMax - b.depth) * 22;
        const width = b.x1 - b.x0 + 2 * pad;
        const height = b.y1 - b.y0 + pad + head;
        frames.push({
          id: `frame:${g.id}`, type: 'frame', position: { x: b.x0 - pad, y: b.y0 - head }, data: { group: g },
          draggable: false, selectable: false, focusable: false, zIndex: -10 + b.depth,
          width, height, measured: { width, height }, handles: [],
          domAttributes: { 'data-frame': g.id } as Record<string, string>,
        });
      }
      out.unshift(...frames);
    }
    return out;
  }, [drawn, grouping, compat, inside, groupBad, selected, highlighted, highlightedGroups]);

  const edges: Edge[] = useMemo(
    () => (drawn?.visible.edges ?? []).map((e) => ({
      id: e.id, source: e.source, target: e.target, label: e.label, labelBgPadding: [4, 2] as [number, number],
      className: e.count ? 'tensor-edge merged' : 'tensor-edge',
    })),
    [drawn],
  );

  // A focus request (a finding, a search result): open the groups that hold the node, then centre
  // on it once it is drawn.
  const pendingFocus = useRef<string>(undefined);
  useEffect(() => {
    if (focusTick === 0 || !selected) return;
    pendingFocus.current = selected;
    anchor.current = undefined;
  }, [focusTick]); // eslint-disable-line react-hooks/exhaustive-deps
  useEffect(() => {
    const want = pendingFocus.current;
    if (!want || !current || !grouping || !expanded) return;
    const missing = groupPathOf(grouping, want).filter((g) => !expanded.has(g));
    if (missing.length) setExp({ grouping, path: key, open: new Set([...expanded, ...missing]) });
  }, [focusTick, current, grouping]); // eslint-disable-line react-hooks/exhaustive-deps

  // Each new drawing: centre on a requested node, else keep an opened or closed group in place, else
  // (a new graph) fit it when it is small enough to read, or start at its top at a readable zoom, as
  // a user reads a model (a 1,800-node graph fitted to the screen is a column of specks).
  const fitted = useRef<{ view: GraphView; origin?: Uint8Array; key: string }>(undefined);
  useEffect(() => {
    if (!drawn || !built) return;
    const fresh = fitted.current?.view !== drawn.view;
    // The same graph of the same file after an edit, undo or redo: the user keeps their place.
    const edited = fresh && fitted.current?.origin === built.origin && fitted.current?.key === key;
    fitted.current = { view: drawn.view, origin: built.origin, key };
    const want = pendingFocus.current;
    if (want) {
      const waiting = drawn.visible !== visible || (grouping && expanded && groupPathOf(grouping, want).some((g) => !expanded.has(g)));
      const p = drawn.pos[want];
      if (p && !waiting) {
        pendingFocus.current = undefined;
        requestAnimationFrame(() => void setCenter(p.x + NODE_W / 2, p.y + NODE_H / 2, { zoom: 1.2, duration: 300 }));
        return;
      }
      if (waiting) return;
      pendingFocus.current = undefined; // not in this graph
    }
    const a = anchor.current;
    if (a && !fresh && grouping && drawn.visible === visible) {
      anchor.current = undefined;
      const first = firstDrawnOf(drawn.visible, grouping, a.group);
      const p = first ? drawn.pos[first] : undefined;
      if (p && first) {
        const vp = getViewport();
        const dx = p.x + sizeOf(drawn.visible.nodes.find((n) => n.id === first)!).width / 2 - a.x;
        const dy = p.y - a.y;
        void setViewport({ x: vp.x - dx * vp.zoom, y: vp.y - dy * vp.zoom, zoom: vp.zoom });
      }
      return;
    }
    if (edited) {
      // Keep the selected node where it was on the screen (the layout moves when nodes are added), else the viewport.
      const was = selAt.current;
      const p = selected ? drawn.pos[selected] : undefined;
      const label = drawn.visible.nodes.find((n) => n.id === selected)?.label;
      if (was && p && label === was.label) {
        const vp = getViewport();
        void setViewport({ x: vp.x - (p.x - was.x) * vp.zoom, y: vp.y - (p.y - was.y) * vp.zoom, zoom: vp.zoom });
      }
      return;
    }
    if (!fresh) return;
    const pos = drawn.visible.nodes.map((n) => ({ ...drawn.pos[n.id]!, ...sizeOf(n) })).filter((p) => p.x !== undefined);
    requestAnimationFrame(() => {
      const el = document.querySelector('.canvas');
      const w = el?.clientWidth ?? 800;
      const h = el?.clientHeight ?? 600;
      if (!pos.length) return;
      const height = Math.max(...pos.map((p) => p.y + p.height));
      const minX = Math.min(...pos.map((p) => p.x));
      const maxX = Math.max(...pos.map((p) => p.x + p.width));
      const fitZoom = Math.min(h / (height + 40), w / (maxX - minX + 40));
      // Room on the right for the minimap, so that it covers no node of a fitted graph.
      if (fitZoom >= 0.45) void fitView({ maxZoom: 1.2, padding: showMinimap ? { top: '10%', bottom: '10%', left: '10%', right: `${MINIMAP_W + 24}px` } : 0.1 });
      else {
        const top = pos.filter((p) => p.y === 0);
        const cx = top.length ? (Math.min(...top.map((p) => p.x)) + Math.max(...top.map((p) => p.x + p.width))) / 2 : (minX + maxX) / 2;
        void setViewport({ x: w / 2 - cx * 0.8, y: 56, zoom: 0.8 });
      }
    });
  }, [drawn, focusTick]); // eslint-disable-line react-hooks/exhaustive-deps
  // Where the selected node is drawn, for the next edit (see above): recorded only for a finished
  // drawing of the present model, as node ids are indices that an edit shifts.
  const selAt = useRef<{ label: string; x: number; y: number }>(undefined);
  useEffect(() => {
    if (!drawn) return;
    const p = selected ? drawn.pos[selected] : undefined;
    const label = p && drawn.visible.nodes.find((n) => n.id === selected)?.label;
    selAt.current = p && label !== undefined ? { label, x: p.x, y: p.y } : undefined;
  }, [drawn, selected]);

  // The minimap: only where it helps. A graph many times taller than wide (or wider than tall)
  // shows in it as a thin line, and past MINIMAP_MAX_NODES it costs seconds.
  const showMinimap = useMemo(() => {
    if (!drawn || drawn.visible.nodes.length > MINIMAP_MAX_NODES) return false;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of drawn.visible.nodes) {
      const p = drawn.pos[n.id];
      if (!p) continue;
      const size = sizeOf(n);
      x0 = Math.min(x0, p.x); y0 = Math.min(y0, p.y);
      x1 = Math.max(x1, p.x + size.width); y1 = Math.max(y1, p.y + size.height);
    }
    const aspect = (y1 - y0) / Math.max(1, x1 - x0);
    return Number.isFinite(aspect) && aspect <= MINIMAP_MAX_ASPECT && aspect >= 1 / MINIMAP_MAX_ASPECT;
  }, [drawn]);
  return (
    <div className="canvas" data-graph-ready={ready && !loading ? 'true' : 'false'} data-layout-pending={relayout ? 'true' : 'false'}>
      <div className="canvas-top">
        <Breadcrumb />
        <FilterChip />
        <div className="canvas-tools">
          {grouping && (
            <div className="group-tools" role="group" aria-label="Groups">
              <span className="muted">{count(opCount, 'node')} in {count(grouping.groups.size, 'group')}</span>
              <button type="button" onClick={() => setAll(false)}>Collapse all</button>
              <button type="button" onClick={() => setAll(true)} disabled={view.nodes.length > EXPAND_ALL_LIMIT} title={view.nodes.length > EXPAND_ALL_LIMIT ? `Drawing all ${view.nodes.length.toLocaleString('en-US')} nodes at once would take seconds: open groups one by one` : undefined}>Expand all</button>
            </div>
          )}
          <Search />
        </div>
      </div>
      {!ready && <div className="laying-out">{current ? `Laying out ${visible.nodes.length.toLocaleString()} ${grouping ? 'nodes and groups' : 'nodes'}…` : 'Reading the graph…'}</div>}
      {relayout && <div className="relayout" aria-hidden="true">Laying out…</div>}
      <GroupActions.Provider value={actions}>
        <ReactFlow
          nodes={nodes}
          edges={edges}
          nodeTypes={nodeTypes}
          onlyRenderVisibleElements
          nodesConnectable={false}
          nodesDraggable={false}
          edgesFocusable={false}
          zoomOnDoubleClick={false}
          minZoom={0.02}
          onNodeClick={(_, n) => { if (n.type === 'onnx') useStore.getState().select(n.id); }}
          onNodeDoubleClick={(_, n) => { if (n.type === 'opgroup') toggle.current(n.id, true); }}
          onPaneClick={() => useStore.getState().select(undefined)}
          proOptions={{ hideAttribution: true }}
        >
          <Background />
          <Controls showInteractive={false} />
          {showMinimap && <MiniMap
            className="opfit-minimap"
            style={{ width: MINIMAP_W, height: MINIMAP_H }}
            ariaLabel="Minimap"
            pannable
            zoomable
            nodeStrokeWidth={12}
            nodeColor={(n) => (n.type === 'frame' ? 'transparent' : isIncompatible(n) ? '#d33' : '#b8bfcc')}
            nodeStrokeColor={(n) => (n.type === 'frame' ? 'transparent' : isIncompatible(n) ? '#d33' : '#b8bfcc')}
          />}
        </ReactFlow>
      </GroupActions.Provider>
    </div>
  );
}

function Breadcrumb() {
  const model = useStore((s) => s.model)!;
  const viewPath = useStore((s) => s.viewPath);
  const enterGraph = useStore((s) => s.enterGraph);
  if (viewPath.length === 0) return null;
  const crumbs = viewPath.map((step, i) => {
    const path = viewPath.slice(0, i + 1);
    if (isFunctionStep(step)) {
      const fn = model.functions[step.fn];
      return { path, label: `function ${fn ? `${fn.domain ? `${fn.domain}.` : ''}${fn.name}` : step.fn}` };
    }
    const parent = indexAt(model, viewPath.slice(0, i));
    const node = parent.graph.node[step.node];
    return { path, label: `${node?.name || node?.opType} › ${step.attr}${step.index === undefined ? '' : `[${step.index}]`}` };
  });
  return (
    <nav className="breadcrumb" aria-label="Subgraph path">
      <button type="button" onClick={() => enterGraph([])}>main graph</button>
      {crumbs.map((c) => (
        <button type="button" key={pathKey(c.path)} onClick={() => enterGraph(c.path)}>{c.label}</button>
      ))}
    </nav>
  );
}

function FilterChip() {
  const filter = useStore((s) => s.filter);
  const setFilter = useStore((s) => s.setFilter);
  if (!filter) return null;
  return (
    <div className="filter-chip" role="status" aria-live="off">
      Highlighting {filter.label} ({filter.nodeIds.length})
      <button type="button" onClick={() => setFilter(undefined)} aria-label="Clear highlight">×</button>
    </div>
  );
}
