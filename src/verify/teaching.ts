// The teaching view's live table: every rewrite form of PRelu, plus the MMdnn answer that is
// widely shared and wrong, each built as a tiny model with the project's own Builder and forms and
// run by ONNX Runtime on a few telling values. Nothing in the table is typed in: each cell is what
// a runtime computed, and the "definition" column is PRelu's formula evaluated here in float32.
import { DT } from '../onnx/dtypes';
import { makeTensor } from '../onnx/tensor';
import { writeModel } from '../onnx/model';
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, type NodeProto, type TensorProto } from 'onnx-buf';
import { indexGraph } from '../graph/scope';
import { preluFacts, type PreluFacts } from '../graph/prelu';
import { Builder } from '../rewrites/builder';
import { where } from '../rewrites/forms/where';
import { leaky } from '../rewrites/forms/leaky';
import { maxMin } from '../rewrites/forms/max-min';
import { reluNeg } from '../rewrites/forms/relu-neg';
import { referencePrelu } from './local';
import { tinyModel, valueInfo } from './tiny';
import { fmtValue } from './format';
import { runModel, type OrtLike } from './types';

export const TEACH_XS: readonly number[] = [-2, -0.5, -0, 0, 0.5, 2, NaN, Infinity, -Infinity, -3.4028234663852886e38];
export const TEACH_SLOPES: readonly number[] = [0.25, -1.5, Infinity];

export type FormKind = 'reference' | 'exact' | 'differs' | 'wrong';

export interface TeachingForm {
  id: string;
  label: string;
  kind: FormKind;
  /** The function in ordinary notation. */
  math: string;
  /** The ONNX ops. */
  onnx: string;
  note: string;
  emit(f: PreluFacts, b: Builder): void;
}

/**
 * "Scale the negatives by the slope, then apply ReLU": Relu(x · (x < 0 ? slope : 1)), the widely
 * shared answer for converting PReLU models with MMdnn. For slope ≥ 0, slope·x is ≤ 0 wherever
 * x < 0, so Relu zeroes it: the whole thing is ReLU. Shown as a warning, never offered as a rewrite.
 */
export const mmdnnWrong: TeachingForm = {
  id: 'mmdnn-wrong',
  label: 'WRONG: scale negatives, then ReLU',
  kind: 'wrong',
  math: 'y = relu(x · (x < 0 ? slope : 1))',
  onnx: 'Relu(Mul(x, Where(Less(x, 0), slope, 1)))',
  note: 'A widely shared answer for converting PReLU models with MMdnn. For any slope ≥ 0 — every learned PReLU slope in practice — slope·x is still ≤ 0 where x < 0, and ReLU then makes it 0: this is just ReLU. Never use it.',
  emit(f, b) {
    const dt = f.xFacts.dtype!;
    const negative = b.node('Less', [f.x, b.scalar('zero', dt, 0)]);
    const factor = b.node('Where', [negative, f.slope, b.scalar('one', dt, 1)]);
    b.node('Relu', [b.node('Mul', [f.x, factor])], { output: f.node.output[0] });
  },
};

const fromForm = (form: typeof where, kind: FormKind, math: string): TeachingForm => ({
  id: form.id, label: form.label, kind, math, onnx: form.formula,
  note: form.caveat || `Exact by ONNX's definition: the same value as PRelu for every input, including NaN, ±inf and −0.0.${form.runtimeNote ? ` ${form.runtimeNote}` : ''}`,
  emit: (f, b) => form.emit(f, b),
});

export const TEACHING_FORMS: readonly TeachingForm[] = [
  {
    id: 'prelu', label: 'PRelu itself', kind: 'reference', math: 'y = x < 0 ? slope·x : x', onnx: 'PRelu(x, slope)',
    note: 'The op as ONNX Runtime runs it: what every form must reproduce.',
    emit: (f, b) => { b.nodes.push(create(NodeProtoSchema, { opType: 'PRelu', input: [f.x, f.slope], output: [f.node.output[0]!], name: 'PRelu' })); },
  },
  fromForm(where, 'exact', 'y = x < 0 ? slope·x : x'),
  fromForm(leaky, 'exact', 'y = x < 0 ? alpha·x : x,  alpha = slope'),
  fromForm(maxMin, 'differs', 'y = max(x, 0) + slope·min(x, 0)'),
  fromForm(reluNeg, 'differs', 'y = relu(x) − slope·relu(−x)'),
  mmdnnWrong,
];

const OPSET = 16;

/** The tiny one-node PRelu model a form rewrites: x float32 [n], slope float32 [1]. */
function base(slope: number, n: number) {
  const slopeT = makeTensor('slope', DT.FLOAT, [1], [slope]);
  const node = create(NodeProtoSchema, { opType: 'PRelu', input: ['x', 'slope'], output: ['y'], name: 'prelu' });
  const model = tinyModel({ name: 'prelu', irVersion: 8n, opsetImport: OPSET, nodes: [node], inputs: [valueInfo('x', DT.FLOAT, [n])], outputs: [valueInfo('y', DT.FLOAT, [n])], initializers: [slopeT] });
  return { model, slopeT, facts: preluFacts(model, indexGraph(model.graph!), 0) };
}

export interface BuiltForm {
  form: TeachingForm;
  model?: Uint8Array;
  nodes: NodeProto[];
  initializers: TensorProto[];
  refused?: string;
}

/** Builds one form's tiny model for a slope, or says why the form does not apply to it. */
export function buildForm(form: TeachingForm, slope: number, n: number): BuiltForm {
  const { slopeT, facts } = base(slope, n);
  const registered = [where, leaky, maxMin, reluNeg].find((r) => r.id === form.id);
  const refused = registered?.refuse(facts);
  if (refused) return { form, nodes: [], initializers: [], refused };
  const b = new Builder(new Set(['x', 'slope', 'y', 'prelu']), true, 'prelu');
  form.emit(facts, b);
  const usesSlope = b.nodes.some((nd) => nd.input.includes('slope'));
  const initializers = [...(usesSlope ? [slopeT] : []), ...b.initializers];
  const model = tinyModel({ name: form.id, irVersion: 8n, opsetImport: OPSET, nodes: b.nodes, inputs: [valueInfo('x', DT.FLOAT, [n])], outputs: [valueInfo('y', DT.FLOAT, [n])], initializers });
  return { form, model: writeModel(model), nodes: b.nodes, initializers };
}

/** A form's subgraph as short lines, "Less(x, 0) → less", constants shown by value. */
export function describeNodes(nodes: readonly NodeProto[], initializers: readonly TensorProto[]): string[] {
  const consts = new Map(initializers.filter((t) => t.name !== 'slope').map((t) => [t.name, t]));
  const short = (name: string) => {
    const t = consts.get(name);
    if (t) {
      const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      return t.dataType === DT.FLOAT && t.rawData.length === 4 ? fmtValue(dv.getFloat32(0, true)) : name;
    }
    return name.replace(/^prelu\//, '');
  };
  return nodes.map((nd) => {
    const attrs = nd.attribute.map((a) => `${a.name}=${a.type === 1 ? fmtValue(a.f) : String(a.i)}`);
    return `${nd.opType}(${[...nd.input.map(short), ...attrs].join(', ')}) → ${short(nd.output[0] ?? '')}`;
  });
}

export interface TeachingRow {
  x: number;
  /** PRelu's definition evaluated here (float32), to mark the cells that differ from it. */
  definition: number;
  /** Each form's output, as ONNX Runtime computed it (null when the form did not run). */
  values: Record<string, number | null>;
}

export interface TeachingTable {
  slope: number;
  rows: TeachingRow[];
  /** Forms that did not run for this slope, and why. */
  notRun: Record<string, string>;
  /** Each form's subgraph for this slope. */
  nodes: Record<string, string[]>;
}

/** Same value, NaN equal to NaN, −0 different from 0. */
export const sameValue = (a: number | null, b: number) => a !== null && (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)));

export async function computeTeaching(ort: OrtLike, slopes: readonly number[], xs: readonly number[] = TEACH_XS, onTable?: (t: TeachingTable, i: number) => void): Promise<TeachingTable[]> {
  const x = Float32Array.from(xs);
  const tables: TeachingTable[] = [];
  for (const [i, slope] of slopes.entries()) {
    const definition = referencePrelu({ dtype: DT.FLOAT, dims: [x.length], data: x }, { dims: [1], values: [Math.fround(slope)] }).data as Float32Array;
    const columns: Record<string, Float32Array | null> = {};
    const notRun: Record<string, string> = {};
    const nodes: Record<string, string[]> = {};
    for (const form of TEACHING_FORMS) {
      const built = buildForm(form, slope, x.length);
      nodes[form.id] = describeNodes(built.nodes, built.initializers);
      if (!built.model) {
        columns[form.id] = null;
        notRun[form.id] = built.refused ?? 'not built';
        continue;
      }
      try {
        const out = await runModel(ort, built.model, [{ name: 'x', dtype: DT.FLOAT, dims: [x.length], data: x }]);
        columns[form.id] = out.y!.data as Float32Array;
      } catch (e) {
        columns[form.id] = null;
        notRun[form.id] = String((e as Error).message ?? e).split('\n')[0]!;
      }
    }
    const table: TeachingTable = {
      slope, notRun, nodes,
      rows: xs.map((_, r) => ({
        x: x[r]!, definition: definition[r]!,
        values: Object.fromEntries(TEACHING_FORMS.map((f) => [f.id, columns[f.id] ? columns[f.id]![r]! : null])),
      })),
    };
    tables.push(table);
    onTable?.(table, i);
  }
  return tables;
}
