// LeakyRelu(alpha) for a slope with a single value: `x < 0 ? alpha·x : x`, the same function.
// alpha is a float32 attribute, so the slope must be representable in float32.
import { DT } from '../../onnx/dtypes';
import { slopeSize } from '../../graph/prelu';
import { isExternal } from '../../onnx/tensor';
import { elementType, type Form } from './common';

export const leaky: Form = {
  id: 'leaky',
  label: 'LeakyRelu',
  formula: 'LeakyRelu(x, alpha = slope)',
  caveat: '',
  rank: 1,
  minOpset: (dt) => (dt === DT.BFLOAT16 ? 16 : 6),
  refuse(f) {
    const dt = elementType(f);
    if (dt !== DT.FLOAT && dt !== DT.FLOAT16 && dt !== DT.DOUBLE && dt !== DT.BFLOAT16) return 'LeakyRelu takes floating-point inputs only';
    if (!f.slopeValues && f.slopeTensor && isExternal(f.slopeTensor)) return 'the slope is stored as external data whose file is not loaded, and LeakyRelu needs its value written into the node';
    if (!f.slopeValues) return 'the slope is not a constant, and LeakyRelu needs its value when the model is built';
    if (slopeSize(f) !== 1) return `the slope has ${f.slopeValues.length} values; LeakyRelu has one alpha`;
    const v = f.slopeValues[0]!;
    if (Math.fround(v) !== v && !Number.isNaN(v)) return `the slope ${v} is not representable in LeakyRelu's float32 alpha`;
    if (f.xFacts.shape && f.slopeFacts.shape && f.slopeFacts.shape.length > f.xFacts.shape.length) return 'the slope has a higher rank than the input, so PRelu broadcasts its output shape';
    if (!f.xFacts.shape && (f.slopeFacts.shape?.length ?? 0) > 1) return `the input's rank is not known, and a rank-${f.slopeFacts.shape!.length} slope could widen the output`;
    return undefined;
  },
  emit(f, b) {
    b.node('LeakyRelu', [f.x], { output: f.node.output[0], attrs: { alpha: { f: f.slopeValues![0]! } } });
  },
};
