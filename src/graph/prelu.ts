// Everything the checker and the rewrites need to know about one PRelu node.
import type { ModelProto, NodeProto, TensorProto } from 'onnx-buf';
import { opsetOf } from '../onnx/model';
import { readTensorValues } from '../onnx/tensor';
import { resolveTensor, tensorFacts, type Dim, type GraphIndex, type TensorFacts, type TensorSource } from './scope';

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
  const opset = opsetOf(model, node.domain) ?? 1;
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
