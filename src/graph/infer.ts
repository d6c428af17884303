// Display-only facts for tensors the model declares no type for, above all the ones a rewrite adds
// (Less, Mul, Where … between a PRelu's input and its output): the element type and shape worked
// out from the producing node's inputs, for ops whose rule is plain (elementwise, ONNX
// broadcasting, Reshape to a constant shape, Cast). The checker and the rewrite engine never use
// this: they go by what the model declares, as runtimes do.
import { DT } from '../onnx/dtypes';
import { readTensorValues } from '../onnx/tensor';
import { isExternalTensor } from '../onnx/external';
import { resolveTensor, tensorFacts, type Dim, type GraphIndex, type TensorFacts } from './scope';

const SAME_AS_FIRST = new Set([
  'Relu', 'Neg', 'LeakyRelu', 'Abs', 'Sigmoid', 'Tanh', 'Identity', 'Elu', 'Selu', 'HardSigmoid', 'Softplus', 'Exp', 'Log',
  'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sign', 'Clip', 'Dropout', 'Erf', 'Gelu', 'HardSwish', 'Mish', 'Softsign', 'ThresholdedRelu', 'Celu',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'PRelu', 'Pow', 'Sum', 'Mean', 'Mod', 'BitShift']);
const COMPARE = new Set(['Less', 'Greater', 'Equal', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);

/** Chains of untyped nodes longer than this are not followed (a rewrite adds three or four). */
const MAX_DEPTH = 12;

const memo = new WeakMap<GraphIndex, Map<string, TensorFacts>>();

/** What the model declares about `name`, else what its producer's inputs imply, else nothing. */
export function displayFacts(scope: GraphIndex, name: string, depth = 0): TensorFacts {
  const declared = tensorFacts(scope, name);
  if (declared.dtype !== undefined && declared.shape) return declared;
  let cache = memo.get(scope);
  if (!cache) memo.set(scope, (cache = new Map()));
  const hit = cache.get(name);
  if (hit) return hit;
  const inferred = depth < MAX_DEPTH ? fromProducer(scope, name, depth) : {};
  const facts: TensorFacts = { dtype: declared.dtype ?? inferred.dtype, shape: declared.shape ?? inferred.shape };
  if (facts.dtype === undefined) delete facts.dtype;
  if (!facts.shape) delete facts.shape;
  cache.set(name, facts);
  return facts;
}

function fromProducer(scope: GraphIndex, name: string, depth: number): TensorFacts {
  const src = resolveTensor(scope, name);
  if (src.kind !== 'node') return {};
  const node = src.node;
  if (node.domain !== '' && node.domain !== 'ai.onnx') return {};
  if (node.output[0] !== name) return {}; // Dropout's mask, Split's parts …: not these simple rules
  const input = (i: number) => (node.input[i] ? displayFacts(src.scope, node.input[i]!, depth + 1) : {});
  const op = node.opType;
  if (SAME_AS_FIRST.has(op)) return input(0);
  if (BROADCAST.has(op)) {
    const ins = node.input.map((_, i) => input(i));
    return { dtype: ins[0]?.dtype, shape: broadcastAll(ins.map((f) => f.shape)) };
  }
  if (COMPARE.has(op)) return { dtype: DT.BOOL, shape: broadcastAll(node.input.map((_, i) => input(i).shape)) };
  if (op === 'Not') return { dtype: DT.BOOL, shape: input(0).shape };
  if (op === 'Where') {
    const ins = [input(0), input(1), input(2)];
    return { dtype: ins[1].dtype ?? ins[2].dtype, shape: broadcastAll(ins.map((f) => f.shape)) };
  }
  if (op === 'Cast') {
    const to = node.attribute.find((a) => a.name === 'to')?.i;
    return { dtype: to === undefined ? undefined : Number(to), shape: input(0).shape };
  }
  if (op === 'Reshape') return { dtype: input(0).dtype, shape: reshaped(src.scope, node.input[1], input(0).shape) };
  return {};
}

/** ONNX's multidirectional broadcast of several shapes; undefined when one is unknown or they clash. */
function broadcastAll(shapes: readonly (readonly Dim[] | undefined)[]): Dim[] | undefined {
  if (shapes.length === 0 || shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let k = 0; k < rank; k++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s![s!.length - rank + k] ?? 1;
      if (d === 1 || d === dim) continue;
      if (dim === 1) dim = d;
      else if (typeof d === 'number' && typeof dim === 'number') return undefined; // a clash: not valid ONNX
      else if (typeof d === 'number') dim = d; // a known dim > 1 decides an unknown one
      else if (typeof dim !== 'number') dim = null; // two different unknowns
    }
    out.push(dim);
  }
  return out;
}

/** The shape a Reshape to a constant (in-file) shape gives: 0 copies the input's dim, −1 is worked out when it can be. */
function reshaped(scope: GraphIndex, shapeName: string | undefined, inShape: readonly Dim[] | undefined): Dim[] | undefined {
  if (!shapeName) return undefined;
  const src = resolveTensor(scope, shapeName);
  if ((src.kind !== 'initializer' && src.kind !== 'constant') || isExternalTensor(src.tensor)) return undefined;
  const values = readTensorValues(src.tensor);
  if (!values || values.length > 16) return undefined;
  const dims: Dim[] = Array.from(values, (v, i) => (Number(v) === 0 ? (inShape?.[i] ?? null) : Number(v)));
  const free = dims.indexOf(-1);
  if (free < 0) return dims;
  const known = inShape?.every((d): d is number => typeof d === 'number') ? inShape.reduce((a, b) => a * b, 1) : undefined;
  const rest = dims.reduce<number | undefined>((a, d, i) => (i === free || a === undefined || typeof d !== 'number' ? (i === free ? a : undefined) : a * d), 1);
  dims[free] = known !== undefined && rest ? known / rest : null;
  return dims;
}
