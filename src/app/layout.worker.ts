// Graph layout off the main thread, so a big graph never freezes the page.
import { layeredLayout, type LayoutInput, type Positions } from '../graph/layout';

export interface LayoutRequest extends LayoutInput {
  id: number;
}
export interface LayoutResponse {
  id: number;
  positions: Positions;
}

self.onmessage = (e: MessageEvent<LayoutRequest>) => {
  const { id, nodes, edges } = e.data;
  (self as unknown as Worker).postMessage({ id, positions: layeredLayout({ nodes, edges }) } satisfies LayoutResponse);
};
