// Graph layout off the main thread (dagre), so a big graph never freezes the page.
import dagre from '@dagrejs/dagre';

export interface LayoutRequest {
  id: number;
  nodes: { id: string; width: number; height: number }[];
  edges: { source: string; target: string }[];
}
export interface LayoutResponse {
  id: number;
  positions: Record<string, { x: number; y: number }>;
}

self.onmessage = (e: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = e.data;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 50 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: n.width, height: n.height });
  for (const ed of edges) g.setEdge(ed.source, ed.target);
  dagre.layout(g);
  const positions: LayoutResponse['positions'] = {};
  for (const n of nodes) {
    const p = g.node(n.id);
    positions[n.id] = { x: p.x - n.width / 2, y: p.y - n.height / 2 };
  }
  (self as unknown as Worker).postMessage({ id, positions } satisfies LayoutResponse);
};
