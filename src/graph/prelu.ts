// Everything the checker and the rewrites need to know about one PRelu node.
import type { ModelProto, NodeProto, TensorProto } from 'onnx-buf';
import { readTensorValues } from '../onnx/tensor';
import { resolveTensor, scopeOpset, tensorFacts, type Dim, type GraphIndex, type TensorFacts, type TensorSource } from './scope';

export interface PreluFacts {
  node: NodeProto;
  index: number;
  scope: GraphIndex;
  opset: number;
  /** Opset < 7: no broadcasting rule, a [C] slope is per channel (see reference/prelu-targets.md). */
  legacy: boolean;
  x: string;
  slope: string;
  xFacts: TensorFacts;
  slopeFacts: TensorFacts;
  slopeSource: TensorSource;
  /** The constant slope tensor, when the slope is an initializer or a Constant node's value. */
  slopeTensor?: TensorProto;
  /** Its values, when constant and small. */
  slopeValues?: number[];
}

export function preluFacts(model: ModelProto, scope: GraphIndex, index: number): PreluFacts {
  const node = scope.graph.node[index]!;
  const x = node.input[0] ?? '';
  const slope = node.input[1] ?? '';
  const slopeSource = resolveTensor(scope, slope);
  const slopeTensor = slopeSource.kind === 'initializer' || slopeSource.kind === 'constant' ? slopeSource.tensor : undefined;
  const opset = scopeOpset(model, scope, node.domain) ?? 1; // a function body has its own opset_import
  return {
    node, index, scope, opset, legacy: opset < 7, x, slope,
    xFacts: tensorFacts(scope, x),
    slopeFacts: tensorFacts(scope, slope),
    slopeSource,
    slopeTensor,
    slopeValues: slopeTensor ? readTensorValues(slopeTensor, 4096) : undefined,
  };
}

/** Number of slope elements, when the slope's shape is fully known. */
export function slopeSize(f: PreluFacts): number | undefined {
  const s = f.slopeFacts.shape;
  if (!s || s.some((d) => typeof d !== 'number')) return undefined;
  return (s as number[]).reduce((a, b) => a * b, 1);
}

/**
 * The slope shape that gives this node's intended function under ONNX-7 broadcasting, or a reason
 * it cannot be known. Legacy (opset < 7) [C] slopes are per channel (axis 1), as the reference
 * outputs of the ONNX backend tests test_PReLU_*_multiparam confirm. A modern [C] slope that does
 * not broadcast but equals the channel count is the classic exporter bug (pytorch#21271,
 * TensorRT#310): per channel is the only reading that runs. A [C] slope that does broadcast is
 * never reinterpreted (openvino#35958).
 */
export function intendedSlopeShape(f: PreluFacts): { shape: Dim[]; changed: boolean; note?: string } | { error: string } {
  const s = f.slopeFacts.shape;
  const xs = f.xFacts.shape;
  if (!s) return { error: `the shape of slope "${f.slope}" is not known` };
  const size = slopeSize(f);
  if (size === 1) return { shape: s, changed: false };
  if (s.length === 1 && xs && xs.length >= 2) {
    const c = s[0]!;
    const channels = xs[1];
    // Only a last axis known to differ makes the [C] slope invalid; an unknown (symbolic) last
    // axis may well equal C at run time, and then the model is valid and must keep its meaning.
    const last = xs[xs.length - 1];
    const lastAxisFits = xs.length === 2 || typeof last !== 'number' || typeof c !== 'number' || last === c;
    if (f.legacy || !lastAxisFits) {
      if (channels !== c && typeof channels === 'number') {
        return { error: `slope has ${c} values but the input has ${channels} channels (axis 1)` };
      }
      if (xs.length === 2) return { shape: s, changed: false };
      const shape: Dim[] = [c, ...Array<number>(xs.length - 2).fill(1)];
      return {
        shape, changed: true,
        note: f.legacy
          ? `opset ${f.opset} PRelu applies a [${c}] slope per channel; [${shape.join(',')}] says the same under opset ≥ 7`
          : `a [${c}] slope on input [${xs.join(',')}] cannot broadcast to the last axis; read per channel (axis 1), as its exporter meant`,
      };
    }
  }
  if (s.length === 1 && !xs && f.legacy) return { error: 'the input shape is not known, so the channel axis of the legacy slope cannot be checked' };
  return { shape: s, changed: false };
}

/**
 * How a slope spreads over its input, in ONNX terms: 'scalar' (one value, whatever its rank),
 * 'channel' (the only non-1 slope axis lines up with input axis 1), 'last-axis' (only the input's
 * last axis is non-1), 'elementwise' (anything else: several non-1 axes, or one in the middle).
 * Opset < 7 reads a 1-D slope per channel, as PRelu-1/6 did. Axis 1 wins for a rank-2 input, where
 * it is also the last axis. undefined: the shapes are not known, or the slope does not broadcast.
 */
export type SlopeLayout = 'scalar' | 'channel' | 'last-axis' | 'elementwise';

export function classifySlope(f: PreluFacts): SlopeLayout | undefined {
  const s = f.slopeFacts.shape;
  if (!s) return undefined;
  if (s.every((d) => d === 1)) return 'scalar';
  const xs = f.xFacts.shape;
  if (!xs) return undefined;
  let aligned: readonly Dim[];
  if (f.legacy && s.length === 1) {
    if (xs.length < 2) return undefined;
    aligned = xs.map((_, i) => (i === 1 ? s[0]! : 1));
  } else {
    if (s.length > xs.length) return undefined;
    aligned = [...Array<Dim>(xs.length - s.length).fill(1), ...s];
  }
  const nonOne: number[] = [];
  for (let i = 0; i < aligned.length; i++) {
    const d = aligned[i]!;
    if (d === 1) continue;
    const xd = xs[i]!;
    if (typeof d === 'number' && typeof xd === 'number' && d !== xd) return undefined;
    nonOne.push(i);
  }
  if (nonOne.length === 1) {
    if (nonOne[0] === 1) return 'channel';
    if (nonOne[0] === xs.length - 1) return 'last-axis';
  }
  return 'elementwise';
}
