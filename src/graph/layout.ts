// A fast layered (Sugiyama-style) layout for dataflow graphs. dagre took 3.6 s for the 1,256
// drawn nodes of gtcrn-full (docs/decisions.md); this takes milliseconds, because it skips what
// costs most there (dummy nodes for long edges, network-simplex ranking, Brandes–Köpf
// positioning) and keeps what makes ONNX graphs readable: ranks by longest path, a few
// barycentre sweeps to untangle crossings, and nodes placed under their producers.

export interface LayoutInput {
  nodes: { id: string; width: number; height: number }[];
  edges: { source: string; target: string }[];
}

export type Positions = Record<string, { x: number; y: number }>;

const GAP_X = 30;
const GAP_Y = 60;
const SWEEPS = 4;

export function layeredLayout({ nodes, edges }: LayoutInput): Positions {
  const n = nodes.length;
  const index = new Map(nodes.map((node, i) => [node.id, i]));
  const succ: number[][] = nodes.map(() => []);
  const pred: number[][] = nodes.map(() => []);
  for (const e of edges) {
    const s = index.get(e.source);
    const t = index.get(e.target);
    if (s === undefined || t === undefined || s === t) continue;
    succ[s]!.push(t);
    pred[t]!.push(s);
  }

  // Ranks: longest path from the sources, in topological order. Nodes on a cycle (invalid
  // models) are placed one rank below everything reached so far, so they are still drawn.
  const rank = new Int32Array(n).fill(-1);
  const indeg = Int32Array.from(pred, (p) => p.length);
  const queue: number[] = [];
  for (let i = 0; i < n; i++) if (indeg[i] === 0) { queue.push(i); rank[i] = 0; }
  for (let head = 0; head < queue.length; head++) {
    const v = queue[head]!;
    for (const w of succ[v]!) {
      rank[w] = Math.max(rank[w]!, rank[v]! + 1);
      if (--indeg[w]! === 0) queue.push(w);
    }
  }
  let maxRank = 0;
  for (let i = 0; i < n; i++) maxRank = Math.max(maxRank, rank[i]!);
  for (let i = 0; i < n; i++) if (rank[i]! < 0) rank[i] = ++maxRank;

  // Pull each node down to just above its first consumer, so inputs and weights-free branches
  // do not all float at the top.
  for (let k = queue.length - 1; k >= 0; k--) {
    const v = queue[k]!;
    if (succ[v]!.length === 0 || pred[v]!.length > 0) continue;
    let min = Infinity;
    for (const w of succ[v]!) min = Math.min(min, rank[w]!);
    if (min !== Infinity) rank[v] = min - 1;
  }

  const layers: number[][] = Array.from({ length: maxRank + 1 }, () => []);
  const placed = new Uint8Array(n);
  for (const v of queue) { layers[rank[v]!]!.push(v); placed[v] = 1; }
  for (let i = 0; i < n; i++) if (!placed[i]) layers[rank[i]!]!.push(i);

  // Order within layers: barycentre sweeps, down then up.
  const order = new Float64Array(n);
  const renumber = (layer: number[]) => layer.forEach((v, i) => (order[v] = i));
  layers.forEach(renumber);
  const sortBy = (layer: number[], nbrs: number[][]) => {
    const key = new Map<number, number>();
    for (const v of layer) {
      const ns = nbrs[v]!;
      key.set(v, ns.length ? ns.reduce((a, w) => a + order[w]!, 0) / ns.length : order[v]!);
    }
    layer.sort((a, b) => key.get(a)! - key.get(b)!);
    renumber(layer);
  };
  for (let s = 0; s < SWEEPS; s++) {
    for (let r = 1; r < layers.length; r++) sortBy(layers[r]!, pred);
    for (let r = layers.length - 2; r >= 0; r--) sortBy(layers[r]!, succ);
  }

  // x: each node wants the mean x of its producers (then of its consumers, going up); a sweep
  // from left to right keeps neighbours apart, then the layer is re-centred on what it wanted.
  const width = nodes.map((v) => v.width);
  const x = new Float64Array(n);
  for (const layer of layers) {
    let cursor = 0;
    for (const v of layer) { x[v] = cursor + width[v]! / 2; cursor += width[v]! + GAP_X; }
  }
  const place = (layer: number[], nbrs: number[][]) => {
    if (layer.length === 0) return;
    const want = layer.map((v) => (nbrs[v]!.length ? nbrs[v]!.reduce((a, w) => a + x[w]!, 0) / nbrs[v]!.length : x[v]!));
    let prevRight = -Infinity;
    let shift = 0;
    layer.forEach((v, i) => {
      const left = Math.max(want[i]! - width[v]! / 2, prevRight + GAP_X);
      x[v] = left + width[v]! / 2;
      prevRight = left + width[v]!;
      shift += want[i]! - x[v]!;
    });
    shift /= layer.length;
    for (const v of layer) x[v] = x[v]! + shift;
  };
  for (let s = 0; s < 2; s++) {
    for (let r = 1; r < layers.length; r++) place(layers[r]!, pred);
    for (let r = layers.length - 2; r >= 0; r--) place(layers[r]!, succ);
  }
  for (let r = 1; r < layers.length; r++) place(layers[r]!, pred);

  // y: layers stacked, each as tall as its tallest node.
  const out: Positions = {};
  let y = 0;
  for (const layer of layers) {
    let h = 0;
    for (const v of layer) h = Math.max(h, nodes[v]!.height);
    for (const v of layer) out[nodes[v]!.id] = { x: x[v]! - width[v]! / 2, y };
    y += h + GAP_Y;
  }
  return out;
}
