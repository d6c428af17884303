// The boxes React Flow draws on the canvas: an ONNX node, a collapsed group of nodes, and the frame
// behind an open group's contents, with their sizes and handle places (Canvas.tsx lays them out).
import { createContext, memo, useContext } from 'react';
import { count } from '../plural';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import type { Group, GroupBox } from '../graph/collapse';
import type { ViewNode } from '../graph/view';
import type { FindingStatus } from '../targets/types';

export const NODE_W = 170;
export const NODE_H = 46;
export const GROUP_W = 260;
export const GROUP_H = 68;

// A mapped copy of ViewNode: xyflow wants node data to be a plain object type, not an interface.
type OnnxNodeData = { [K in keyof ViewNode]: ViewNode[K] } & { compat?: FindingStatus; inside?: number };
type OnnxFlowNode = Node<OnnxNodeData, 'onnx'>;
type GroupNodeData = { box: GroupBox; incompatible: number };
type GroupFlowNode = Node<GroupNodeData, 'opgroup'>;
type FrameNodeData = { group: Group };
export type FrameFlowNode = Node<FrameNodeData, 'frame'>;
export type FlowNode = OnnxFlowNode | GroupFlowNode | FrameFlowNode;

/** Opening and closing groups, for the group and frame nodes drawn by React Flow. */
export const GroupActions = createContext<{ toggle(id: string, open: boolean): void }>({ toggle() {} });

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

const opsLine = (box: GroupBox) => box.ops.map(([op, n]) => (n > 1 ? `${op} ×${n.toLocaleString()}` : op)).join(', ') + (box.opKinds > box.ops.length ? ', …' : '');

const GroupNode = memo(function GroupNode({ data }: NodeProps<GroupFlowNode>) {
  const { toggle } = useContext(GroupActions);
  const { box, incompatible } = data;
  return (
    <div className={`group-node ${box.group.kind}${incompatible ? ' bad' : ''}`} title={`${box.label}: ${count(box.size, 'node')} (double-click to open)`}>
      <Handle type="target" position={Position.Top} />
      <button type="button" className="group-toggle nodrag" aria-label={`Open group ${box.label}`} onClick={(e) => { e.stopPropagation(); toggle(box.id, true); }}>▸</button>
      <div className="group-head"><span className="group-label">{box.label}</span><span className="group-size">{count(box.size, 'node')}</span></div>
      <div className="group-sub">{opsLine(box)}</div>
      {incompatible > 0 && <div className="inside-badge">{incompatible.toLocaleString()} incompatible inside</div>}
      <Handle type="source" position={Position.Bottom} />
    </div>
  );
});

const FrameNode = memo(function FrameNode({ data }: NodeProps<FrameFlowNode>) {
  const { toggle } = useContext(GroupActions);
  const g = data.group;
  return (
    <div className={`group-frame ${g.kind}`}>
      <button type="button" className="frame-head nodrag" aria-label={`Close group ${g.label}`} title="Collapse this group into one box" onClick={(e) => { e.stopPropagation(); toggle(g.id, false); }}>
        ▾ {g.label} <span className="muted">· {count(g.size, 'node')}</span>
      </button>
    </div>
  );
});

export const nodeTypes = { onnx: OnnxNode, opgroup: GroupNode, frame: FrameNode };
// Size and handle places given up front: React Flow otherwise mounts every node it has not measured,
// visible or not — all 50,000 of a 50,000-node graph, and all of them again whenever the node
// objects are rebuilt (a selection), which froze a 10,000-node graph for 2 s per click.
const handles = (w: number, h: number): NonNullable<Node['handles']> => [
  { type: 'target', position: Position.Top, x: w / 2 - 3, y: -3, width: 6, height: 6 },
  { type: 'source', position: Position.Bottom, x: w / 2 - 3, y: h - 3, width: 6, height: 6 },
];
export const MEASURED = { width: NODE_W, height: NODE_H };
export const HANDLES = handles(NODE_W, NODE_H);
export const GROUP_MEASURED = { width: GROUP_W, height: GROUP_H };
export const GROUP_HANDLES = handles(GROUP_W, GROUP_H);
export const sizeOf = (n: { kind: string }) => (n.kind === 'group' ? GROUP_MEASURED : MEASURED);
/** Drawn red on the minimap: an incompatible node, or a group with incompatible nodes inside. */
export const isIncompatible = (n: Node) =>
  n.type === 'opgroup' ? (n.data as GroupNodeData).incompatible > 0 : !!(n.data as OnnxNodeData).compat && (n.data as OnnxNodeData).compat !== 'unknown';
