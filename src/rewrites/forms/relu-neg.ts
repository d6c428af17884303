// Relu(x) − slope · Relu(−x): the Keras PReLU form (tf.keras.layers.PReLU) and TF 2.2's converter
// split (tensorflow#39667). inf·0 gives NaN: x = +inf makes slope·Relu(−inf) = slope·0 fine, but
// an infinite slope with x > 0 gives inf·0 = NaN; several runtimes map NaN to 0 in Relu.
import { DT } from '../../onnx/dtypes';
import { elementType, isInteger, isUnsigned, type Form } from './common';

export const reluNeg: Form = {
  id: 'relu-neg',
  label: 'Relu − slope·Relu(−x)',
  formula: 'Sub(Relu(x), Mul(slope, Relu(Neg(x))))',
  caveat:
    'Differs from PRelu on: x = −0.0, which comes out +0.0 when the slope is negative or −0 (measured in ONNX Runtime; a runtime whose Relu ' +
    'returns +0 for −0 does it for every slope); a slope of +0 with x < 0, which gives +0.0 where PRelu gives −0.0; an infinite slope, which ' +
    'gives NaN for every x ≥ 0, ±0 and +inf included, where PRelu gives x (inf·0 = NaN); and NaN inputs on runtimes whose Relu maps NaN to 0 ' +
    '(ONNX Runtime keeps NaN). Exact on every other input.',
  rank: 3,
  // Relu-14 adds integer and bfloat16 types; otherwise Relu-6, Neg-6, Mul-7, Sub-7 (broadcasting).
  minOpset: (dt) => (isInteger(dt) || dt === DT.BFLOAT16 ? 14 : 7),
  refuse: (f) => {
    const dt = elementType(f);
    if (dt === undefined) return 'the element type of the input is not known';
    return isUnsigned(dt) ? 'Neg has no unsigned integer types' : undefined;
  },
  emit(f, b) {
    const pos = b.node('Relu', [f.x]);
    const neg = b.node('Relu', [b.node('Neg', [f.x])]);
    const scaled = b.node('Mul', [b.slope(f), neg]);
    b.node('Sub', [pos, scaled], { output: f.node.output[0] });
  },
};
