import { memo, useEffect, useMemo, useState } from 'react';
import {
  Background, Controls, Handle, MiniMap, Position, ReactFlow, useReactFlow,
  type Edge, type Node, type NodeProps,
} from '@xyflow/react';
import { useStore } from './store';
import { indexAt, isFunctionStep, nodeId, pathKey } from '../graph/scope';
import { graphView, type ViewNode } from '../graph/view';
import type { FindingStatus } from '../targets/types';
import { layout } from './layout';

// The minimap draws every node as SVG whatever is visible; past this size it costs seconds.
const MINIMAP_MAX_NODES = 3000;
const NODE_W = 170;
const NODE_H = 46;

// A mapped copy of ViewNode: xyflow wants node data to be a plain object type, not an interface.
type OnnxNodeData = { [K in keyof ViewNode]: ViewNode[K] } & { compat?: FindingStatus; inside?: number };
type OnnxFlowNode = Node<OnnxNodeData, 'onnx'>;

const OnnxNode = memo(function OnnxNode({ data, selected }: NodeProps<OnnxFlowNode>) {
  const cls = `onnx-node ${data.kind}${data.compat ? ` compat-${data.compat}` : ''}${selected ? ' selected' : ''}`;
  return (
    <div className={cls} data-compat={data.compat === 'unknown' ? 'unknown' : data.compat ? 'unsupported' : 'ok'} title={data.label}>
      {data.kind !== 'input' && data.kind !== 'outer' && <Handle type="target" position={Position.Top} />}
      <div className="op">{data.kind === 'op' ? data.opType : data.kind === 'outer' ? 'from outer graph' : data.kind}</div>
      <div className="name">{data.label}</div>
      {(data.subgraphs || data.inside) && (
        <div className={`subgraph-mark${data.inside ? ' bad' : ''}`}>
          {data.inside ? `${data.inside} incompatible inside` : `${data.subgraphs!.length} subgraph${data.subgraphs!.length > 1 ? 's' : ''}`}
        </div>
      )}
      {data.kind !== 'output' && <Handle type="source" position={Position.Bottom} />}
    </div>
  );
});

const nodeTypes = { onnx: OnnxNode };
// Size and handle places given up front: React Flow otherwise mounts every node it has not measured,
// visible or not — all 50,000 of a 50,000-node graph, and all of them again whenever the node
// objects are rebuilt (a selection), which froze a 10,000-node graph for 2 s per click.
const MEASURED = { width: NODE_W, height: NODE_H };
const HANDLES: NonNullable<Node['handles']> = [
  { type: 'target', position: Position.Top, x: NODE_W / 2 - 3, y: -3, width: 6, height: 6 },
  { type: 'source', position: Position.Bottom, x: NODE_W / 2 - 3, y: NODE_H - 3, width: 6, height: 6 },
];
const isIncompatible = (d: OnnxNodeData) => !!d.compat && d.compat !== 'unknown';

export function Canvas() {
  const model = useStore((s) => s.model)!;
  const viewPath = useStore((s) => s.viewPath);
  const findings = useStore((s) => s.findings);
  const selected = useStore((s) => s.selected);
  const focusTick = useStore((s) => s.focusTick);
  const filter = useStore((s) => s.filter);
  const loading = useStore((s) => !!s.loading);
  const { fitView, setCenter, getNode, setViewport } = useReactFlow();
  const [positions, setPositions] = useState<{ key: object; pos: Record<string, { x: number; y: number }> }>();

  const view = useMemo(() => graphView(indexAt(model, viewPath)), [model, viewPath]);
  const ready = positions?.key === view;

  useEffect(() => {
    let live = true;
    void layout(
      view.nodes.map((n) => ({ id: n.id, width: NODE_W, height: NODE_H })),
      view.edges.map((e) => ({ source: e.source, target: e.target })),
    ).then((pos) => { if (live) setPositions({ key: view, pos }); });
    return () => { live = false; };
  }, [view]);

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
  const highlighted = useMemo(() => (filter ? new Set(filter.nodeIds) : undefined), [filter]);

  const nodes: OnnxFlowNode[] = useMemo(() => {
    if (!ready) return [];
    return view.nodes.map((n) => {
      const status = compat.get(n.id);
      const incompatible = status !== undefined && status !== 'unknown';
      return {
        id: n.id, type: 'onnx', position: positions!.pos[n.id] ?? { x: 0, y: 0 },
        data: { ...n, compat: status, inside: inside.get(n.id) }, selected: n.id === selected, draggable: false,
        className: highlighted && !highlighted.has(n.id) ? 'dimmed' : highlighted ? 'highlighted' : undefined,
        width: NODE_W, height: NODE_H, measured: MEASURED, handles: HANDLES,
        ariaLabel: `${n.opType ?? n.kind} ${n.label}${incompatible ? ', incompatible with the target' : ''}`,
        domAttributes: { 'data-compat': incompatible ? 'unsupported' : status === 'unknown' ? 'unknown' : 'ok' } as Record<string, string>,
      };
    });
  }, [ready, view, positions, compat, inside, selected, highlighted]);

  const edges: Edge[] = useMemo(
    () => view.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, label: e.label, labelBgPadding: [4, 2], className: 'tensor-edge' })),
    [view],
  );

  // Fit the whole graph when it is small enough to read; otherwise start at its top at a readable
  // zoom, as a user reads a model (a 1,800-node graph fitted to the screen is a column of specks).
  useEffect(() => {
    if (!ready || !positions) return;
    requestAnimationFrame(() => {
      const el = document.querySelector('.canvas');
      const w = el?.clientWidth ?? 800;
      const h = el?.clientHeight ?? 600;
      const pos = Object.values(positions.pos);
      const height = Math.max(...pos.map((p) => p.y)) + NODE_H;
      const minX = Math.min(...pos.map((p) => p.x));
      const maxX = Math.max(...pos.map((p) => p.x)) + NODE_W;
      const fitZoom = Math.min(h / (height + 40), w / (maxX - minX + 40));
      if (fitZoom >= 0.45) void fitView({ maxZoom: 1.2, padding: 0.1 });
      else {
        const top = pos.filter((p) => p.y === 0).map((p) => p.x);
        const cx = top.length ? (Math.min(...top) + Math.max(...top) + NODE_W) / 2 : (minX + maxX) / 2;
        void setViewport({ x: w / 2 - cx * 0.8, y: 20, zoom: 0.8 });
      }
    });
  }, [ready]); // eslint-disable-line react-hooks/exhaustive-deps

  useEffect(() => {
    if (!ready || !selected || focusTick === 0) return;
    const n = getNode(selected);
    if (n) void setCenter(n.position.x + NODE_W / 2, n.position.y + NODE_H / 2, { zoom: 1.2, duration: 300 });
    // focusTick is the request; selection alone (a click on the canvas) does not move the view.
  }, [focusTick, ready]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="canvas" data-graph-ready={ready && !loading ? 'true' : 'false'}>
      <Breadcrumb />
      <FilterChip />
      {!ready && <div className="laying-out">Laying out {view.nodes.length.toLocaleString()} nodes…</div>}
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onlyRenderVisibleElements
        nodesConnectable={false}
        nodesDraggable={false}
        edgesFocusable={false}
        minZoom={0.02}
        onNodeClick={(_, n) => useStore.getState().select(n.id)}
        onPaneClick={() => useStore.getState().select(undefined)}
        proOptions={{ hideAttribution: true }}
      >
        <Background />
        <Controls showInteractive={false} />
        {view.nodes.length <= MINIMAP_MAX_NODES && <MiniMap
          pannable
          zoomable
          nodeStrokeWidth={12}
          nodeColor={(n) => (isIncompatible(n.data as unknown as OnnxNodeData) ? '#d33' : '#b8bfcc')}
          nodeStrokeColor={(n) => (isIncompatible(n.data as unknown as OnnxNodeData) ? '#d33' : '#b8bfcc')}
        />}
      </ReactFlow>
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
