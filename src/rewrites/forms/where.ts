// Where(Less(x, 0), Mul(slope, x), x): PRelu-16's own function body in ONNX (onnx/defs/math/defs.cc).
// Exact on NaN (NaN < 0 is false, so NaN passes through), ±inf and −0.0.
import { DT } from '../../onnx/dtypes';
import { elementType, type Form } from './common';

export const where: Form = {
  id: 'where',
  label: 'Where',
  formula: 'Where(Less(x, 0), Mul(slope, x), x)',
  caveat: '',
  runtimeNote:
    'ONNX Runtime 1.30\'s Where kernel returns +0.0 where the selected slope·x is −0.0 (a slope of +0 with x < 0); PRelu gives −0.0 there. ' +
    'The form itself is exact.',
  rank: 0,
  // Where-9, Less-9 (integer types), Mul-7; bfloat16 needs Less-13, Mul-13 and Where-16.
  minOpset: (dt) => (dt === DT.BFLOAT16 ? 16 : 9),
  refuse: (f) => (elementType(f) === undefined ? 'the element type of the input is not known, so the constant 0 cannot be typed' : undefined),
  emit(f, b) {
    const zero = b.scalar('zero', elementType(f)!, 0);
    const negative = b.node('Less', [f.x, zero]);
    const scaled = b.node('Mul', [b.slope(f), f.x]);
    b.node('Where', [negative, scaled, f.x], { output: f.node.output[0] });
  },
};
