// Max(x, 0) + slope · Min(x, 0): the WebNN spec's emulation (webmachinelearning/webnn §prelu) and
// the ONNX backend-test reference. An infinite slope with x > 0 gives inf·0 = NaN; some backends'
// Max/Min return the non-NaN operand, so NaN becomes 0 (openvino#37731).
import { DT } from '../../onnx/dtypes';
import { elementType, isInteger, type Form } from './common';

export const maxMin: Form = {
  id: 'max-min',
  label: 'Max + slope·Min',
  formula: 'Add(Max(x, 0), Mul(slope, Min(x, 0)))',
  caveat:
    'Differs from PRelu on: x = −0.0, which can come out +0.0 where PRelu keeps −0.0 (which zero Max/Min return is up to the runtime: in ONNX Runtime it depends on the slope and on how the operands broadcast); a slope of +0 with x < 0, which gives +0.0 where PRelu gives −0.0; ' +
    'an infinite slope, which gives NaN for every x ≥ 0, ±0 and +inf included, where PRelu gives x (inf·0 = NaN); and NaN inputs on runtimes ' +
    'whose Max/Min return the non-NaN operand, which turn NaN into 0 (ONNX Runtime keeps NaN). Exact on every other input.',
  rank: 2,
  // Max-8/Min-8 broadcast; integer types from Max-12/Min-12; bfloat16 from 13.
  minOpset: (dt) => (dt === DT.BFLOAT16 ? 13 : isInteger(dt) ? 12 : 8),
  refuse: (f) => (elementType(f) === undefined ? 'the element type of the input is not known, so the constant 0 cannot be typed' : undefined),
  emit(f, b) {
    const zero = b.scalar('zero', elementType(f)!, 0);
    const pos = b.node('Max', [f.x, zero]);
    const scaled = b.node('Mul', [b.slope(f), b.node('Min', [f.x, zero])]);
    b.node('Add', [pos, scaled], { output: f.node.output[0] });
  },
};
