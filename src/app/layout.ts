// Talks to the layout worker: one request at a time per caller, stale answers dropped.
import type { LayoutRequest, LayoutResponse } from './layout.worker';

let worker: Worker | undefined;
let nextId = 1;
const pending = new Map<number, (r: LayoutResponse['positions']) => void>();

function getWorker(): Worker {
  if (!worker) {
    worker = new Worker(new URL('./layout.worker.ts', import.meta.url), { type: 'module' });
    worker.onmessage = (e: MessageEvent<LayoutResponse>) => {
      pending.get(e.data.id)?.(e.data.positions);
      pending.delete(e.data.id);
    };
  }
  return worker;
}

export function layout(nodes: LayoutRequest['nodes'], edges: LayoutRequest['edges']): Promise<LayoutResponse['positions']> {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    getWorker().postMessage({ id, nodes, edges } satisfies LayoutRequest);
  });
}
