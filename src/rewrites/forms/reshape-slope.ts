// Keep PRelu, give the slope the shape ONNX-7 broadcasting needs: the fix for legacy per-channel
// [C] slopes (pytorch PR #21330's Unsqueeze, GraphSurgeon expand_dims in TensorRT#1677).
import { DT } from '../../onnx/dtypes';
import { intendedSlopeShape } from '../../graph/prelu';
import { fmtShape, unidirectional } from '../../graph/broadcast';
import { isInteger, type Form } from './common';

export const reshapeSlope: Form = {
  id: 'reshape-slope',
  label: 'PRelu, slope reshaped',
  formula: 'PRelu(x, Reshape(slope, [C,1,…,1]))',
  caveat: '',
  rank: -1, // the smallest change: preferred whenever the target has PRelu
  // PRelu-7 broadcasts; integer types from PRelu-9; bfloat16 from PRelu-16.
  minOpset: (dt) => (dt === DT.BFLOAT16 ? 16 : isInteger(dt) ? 9 : 7),
  refuse(f) {
    const intended = intendedSlopeShape(f);
    if ('error' in intended) return intended.error;
    if (!intended.changed && !f.legacy) {
      const xs = f.xFacts.shape;
      return xs && f.slopeFacts.shape && unidirectional(f.slopeFacts.shape, xs).ok === false
        ? `no per-channel reading of the ${fmtShape(f.slopeFacts.shape)} slope fits the input ${fmtShape(xs)}`
        : 'the slope already has a shape that broadcasts to the input';
    }
    return undefined;
  },
  emit(f, b) {
    b.node('PRelu', [f.x, b.slope(f)], { output: f.node.output[0] });
  },
};
