// All built-in targets, and the validation every profile passes (built-in, stored or imported).
// Adding a target = adding a JSON file in profiles/ and one import here; the plain "ONNX opset N"
// targets are generated below rather than written out 21 times.
import { dtypeName } from '../onnx/dtypes';
import { SLOPE_LAYOUTS, type PreluRuleKind, type TargetProfile } from './types';
import onnxruntime from './profiles/onnxruntime.json';
import tensorrt5 from './profiles/tensorrt-5.json';
import tensorrt8 from './profiles/tensorrt-8.json';
import noPrelu from './profiles/no-prelu.json';
import ortWebWasm from './profiles/ort-web-wasm.json';
import ortWebWebgl from './profiles/ort-web-webgl.json';
import ortWebWebgpu from './profiles/ort-web-webgpu.json';
import ortWebWebgpuNative from './profiles/ort-web-webgpu-native.json';
import ortWebnn from './profiles/ort-webnn.json';
import ortDml from './profiles/ort-dml.json';
import directmlFl1 from './profiles/directml-fl1.json';
import directmlFl2 from './profiles/directml-fl2.json';
import directmlFl3 from './profiles/directml-fl3.json';
import directmlFl51 from './profiles/directml-fl5.1.json';
import tensorrt6 from './profiles/tensorrt-6.json';
import tensorrt101 from './profiles/tensorrt-10.1.json';
import tensorrt10 from './profiles/tensorrt-10.json';
import tensorrt10Dla from './profiles/tensorrt-10-dla.json';
import tflite from './profiles/tflite.json';
import tfliteGpu from './profiles/tflite-gpu.json';
import tfliteXnnpack from './profiles/tflite-xnnpack.json';
import tfliteMicro from './profiles/tflite-micro.json';
import nnapiApi28 from './profiles/nnapi-api28.json';
import nnapiApi29 from './profiles/nnapi-api29.json';
import edgetpu from './profiles/edgetpu.json';
import ethosUVela35 from './profiles/ethos-u-vela-3.5.json';
import ethosUVela from './profiles/ethos-u-vela.json';
import coremlIos15 from './profiles/coreml-ios15.json';
import openvino from './profiles/openvino.json';
import tvmRelay from './profiles/tvm-relay.json';
import tvmRelax2025 from './profiles/tvm-relax-2025.json';
import tvmRelax from './profiles/tvm-relax.json';
import ncnn from './profiles/ncnn.json';
import mnn2019 from './profiles/mnn-2019.json';
import mnn from './profiles/mnn.json';
import opencvDnn from './profiles/opencv-dnn.json';
import rknnToolkit2 from './profiles/rknn-toolkit2.json';
import webnn from './profiles/webnn.json';
import caffe from './profiles/caffe.json';
import keras from './profiles/keras.json';

/** In the order the CLI and the UI list them: the first four ids are the oldest (tests use them). */
const BUILT_IN: unknown[] = [
  onnxruntime,
  tensorrt5,
  tensorrt8,
  noPrelu,
  ortWebWasm,
  ortWebWebgl,
  ortWebWebgpu,
  ortWebWebgpuNative,
  ortWebnn,
  ortDml,
  directmlFl1,
  directmlFl2,
  directmlFl3,
  directmlFl51,
  tensorrt6,
  tensorrt101,
  tensorrt10,
  tensorrt10Dla,
  tflite,
  tfliteGpu,
  tfliteXnnpack,
  tfliteMicro,
  nnapiApi28,
  nnapiApi29,
  edgetpu,
  ethosUVela35,
  ethosUVela,
  coremlIos15,
  openvino,
  tvmRelay,
  tvmRelax2025,
  tvmRelax,
  ncnn,
  mnn2019,
  mnn,
  opencvDnn,
  rknnToolkit2,
  webnn,
  caffe,
  keras,
];

/** Every field of each rule kind besides `kind`, `source` and `opsets`, and whether it is required. */
const RULE_FIELDS: Record<PreluRuleKind, Record<string, 'required' | 'optional'>> = {
  supported: {},
  'min-opset': { opset: 'required' },
  'max-opset': { opset: 'required' },
  dtypes: { allowed: 'required' },
  'dtypes-rejected': { rejected: 'required' },
  'slope-unidirectional': {},
  'slope-constant': {},
  'slope-layouts': { allowed: 'required' },
  'slope-same-rank': {},
  'slope-single-axis': {},
  'slope-uniform': { ranks: 'optional' },
  'x-ranks': { min: 'required', max: 'required' },
  'legacy-slope-misread': {},
  'slope-1d-channel-heuristic': {},
  'slope-read-per-channel': {},
};
export const RULE_KINDS = Object.keys(RULE_FIELDS) as PreluRuleKind[];

const PROFILE_FIELDS = ['id', 'name', 'version', 'description', 'sources', 'unsupportedOps', 'allowOps', 'prelu', 'ops'];
/** dtype names as the checker writes them (src/onnx/dtypes.ts). */
const DTYPE_NAMES = Array.from({ length: 40 }, (_, i) => dtypeName(i)).filter((n) => n !== 'undefined' && !n.startsWith('type '));
const ID = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isText = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const isInt = (v: unknown, min: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min;

/**
 * Checks every field of a profile and throws an Error naming the first bad one
 * (`<where>: field "prelu[2].allowed" …`), so a broken file gets a clear, one-line error.
 */
export function validateProfile(p: unknown, where = 'target profile'): TargetProfile {
  const bad = (field: string, want: string): never => {
    throw new Error(`${where}: field "${field}" ${want}`);
  };
  const onlyFields = (o: Obj, at: string, allowed: readonly string[]) => {
    for (const k of Object.keys(o)) if (!allowed.includes(k)) bad(at ? `${at}.${k}` : k, `is not a field here; the fields are ${allowed.join(', ')}`);
  };
  const text = (o: Obj, f: string, at: string) => {
    if (!isText(o[f])) bad(at, 'must be a non-empty string');
  };
  const names = (o: Obj, f: string, at: string, known: readonly string[], what: string) => {
    const v = o[f];
    if (!Array.isArray(v) || v.length === 0) bad(at, `must be a non-empty list of ${what} (${known.join(', ')})`);
    (v as unknown[]).forEach((x, i) => {
      if (typeof x !== 'string' || !known.includes(x)) bad(`${at}[${i}]`, `must be one of ${known.join(', ')}`);
    });
  };

  if (!isObj(p)) return bad('(root)', 'must be a JSON object');
  onlyFields(p, '', PROFILE_FIELDS);
  text(p, 'id', 'id');
  if (!ID.test(p.id as string)) bad('id', 'may hold only letters, digits, ".", "_", "+" and "-" (no spaces or commas), starting with a letter or digit');
  for (const f of ['name', 'version', 'description']) text(p, f, f);
  if (!Array.isArray(p.sources) || p.sources.length === 0) bad('sources', 'must be a non-empty list of strings (where each fact comes from)');
  (p.sources as unknown[]).forEach((s, i) => {
    if (!isText(s)) bad(`sources[${i}]`, 'must be a non-empty string');
  });

  if (!Array.isArray(p.unsupportedOps)) bad('unsupportedOps', 'must be a list (empty when the target lacks no op)');
  (p.unsupportedOps as unknown[]).forEach((u, i) => {
    const at = `unsupportedOps[${i}]`;
    if (!isObj(u)) return bad(at, 'must be an object {op, domain?, reason, source}');
    onlyFields(u, at, ['op', 'domain', 'reason', 'source']);
    for (const f of ['op', 'reason', 'source']) text(u, f, `${at}.${f}`);
    if (u.domain !== undefined && typeof u.domain !== 'string') bad(`${at}.domain`, 'must be a string ("" for the default domain)');
  });

  if (p.allowOps !== undefined) {
    if (!Array.isArray(p.allowOps)) bad('allowOps', 'must be a list of {op, domain?}');
    (p.allowOps as unknown[]).forEach((a, i) => {
      const at = `allowOps[${i}]`;
      if (!isObj(a)) return bad(at, 'must be an object {op, domain?}');
      onlyFields(a, at, ['op', 'domain']);
      text(a, 'op', `${at}.op`);
      if (a.domain !== undefined && typeof a.domain !== 'string') bad(`${at}.domain`, 'must be a string ("" for the default domain)');
    });
  }

  if (!Array.isArray(p.prelu)) bad('prelu', 'must be a list of PRelu rules (empty when PRelu is left to "ops" or unsupported)');
  (p.prelu as unknown[]).forEach((r, i) => {
    const at = `prelu[${i}]`;
    if (!isObj(r)) return bad(at, 'must be an object {kind, …, source}');
    const kind = r.kind as PreluRuleKind;
    if (!RULE_KINDS.includes(kind)) bad(`${at}.kind`, `must be one of ${RULE_KINDS.join(', ')}`);
    const fields = RULE_FIELDS[kind];
    onlyFields(r, at, ['kind', ...Object.keys(fields), 'opsets', 'source']);
    for (const [f, need] of Object.entries(fields)) if (need === 'required' && r[f] === undefined) bad(`${at}.${f}`, `is required for a "${kind}" rule`);
    text(r, 'source', `${at}.source`);
    if (r.opsets !== undefined) {
      const o = r.opsets;
      if (!isObj(o)) return bad(`${at}.opsets`, 'must be an object {min?, max?}');
      onlyFields(o, `${at}.opsets`, ['min', 'max']);
      for (const f of ['min', 'max']) if (o[f] !== undefined && !isInt(o[f], 1)) bad(`${at}.opsets.${f}`, 'must be a whole number ≥ 1');
      if (o.min === undefined && o.max === undefined) bad(`${at}.opsets`, 'must give min, max or both');
      if (typeof o.min === 'number' && typeof o.max === 'number' && o.min > o.max) bad(`${at}.opsets`, 'has min greater than max');
    }
    switch (kind) {
      case 'min-opset':
      case 'max-opset':
        if (!isInt(r.opset, 1)) bad(`${at}.opset`, 'must be a whole number ≥ 1');
        break;
      case 'dtypes':
        names(r, 'allowed', `${at}.allowed`, DTYPE_NAMES, 'dtype names');
        break;
      case 'dtypes-rejected':
        names(r, 'rejected', `${at}.rejected`, DTYPE_NAMES, 'dtype names');
        break;
      case 'slope-layouts':
        names(r, 'allowed', `${at}.allowed`, SLOPE_LAYOUTS, 'slope layouts');
        break;
      case 'slope-uniform':
        if (r.ranks !== undefined && (!Array.isArray(r.ranks) || r.ranks.length === 0 || r.ranks.some((x) => !isInt(x, 0)))) bad(`${at}.ranks`, 'must be a non-empty list of whole numbers ≥ 0');
        break;
      case 'x-ranks':
        if (!isInt(r.min, 0)) bad(`${at}.min`, 'must be a whole number ≥ 0');
        if (!isInt(r.max, 0)) bad(`${at}.max`, 'must be a whole number ≥ 0');
        if ((r.min as number) > (r.max as number)) bad(`${at}`, `has min (${r.min as number}) greater than max (${r.max as number})`);
        break;
      default:
        break;
    }
  });
  const bansPrelu = (p.unsupportedOps as Obj[]).some((u) => u.op === 'PRelu' && (u.domain === undefined || u.domain === '' || u.domain === 'ai.onnx'));
  if (bansPrelu && (p.prelu as unknown[]).length > 0) bad('prelu', 'must be empty when unsupportedOps lists PRelu (a target cannot both lack PRelu and constrain it)');

  if (p.ops !== undefined) {
    const o = p.ops;
    if (!isObj(o)) return bad('ops', 'must be an object {kind: "none" | "onnx-standard" | "table", …}');
    switch (o.kind) {
      case 'none':
        onlyFields(o, 'ops', ['kind']);
        break;
      case 'onnx-standard':
        onlyFields(o, 'ops', ['kind', 'maxOpset', 'source']);
        if (o.maxOpset !== undefined && !isInt(o.maxOpset, 1)) bad('ops.maxOpset', 'must be a whole number ≥ 1');
        text(o, 'source', 'ops.source');
        break;
      case 'table':
        onlyFields(o, 'ops', ['kind', 'table', 'absent', 'source']);
        text(o, 'table', 'ops.table');
        if (o.absent !== 'unsupported' && o.absent !== 'unknown') bad('ops.absent', 'must be "unsupported" or "unknown"');
        text(o, 'source', 'ops.source');
        break;
      default:
        bad('ops.kind', 'must be one of none, onnx-standard, table');
    }
  }
  return p as unknown as TargetProfile;
}

/** The plain "ONNX opset N" targets: every standard op as of opset N, PRelu with ONNX's own rules. */
export const ONNX_OPSETS = { first: 7, last: 27 } as const;
const ONNX_DOCS = 'onnx/onnx docs/Operators.md and docs/Changelog.md @ v1.22.0 (2bb50465; opset 27)';

function onnxOpsetTarget(n: number): TargetProfile {
  return {
    id: `onnx-opset-${n}`,
    name: `ONNX opset ${n}`,
    version: `opset ${n}`,
    description: `Any runtime that implements the standard ONNX operators up to opset ${n}, as the ONNX specification defines them. A model that needs a newer opset is unsupported; ops outside the default domain are unknown.`,
    sources: [ONNX_DOCS],
    unsupportedOps: [],
    prelu: [
      { kind: 'max-opset', opset: n, source: `${ONNX_DOCS}: PRelu versions 1, 6, 7, 9, 16; a runtime for opset ${n} knows none newer` },
      { kind: 'slope-unidirectional', source: 'ONNX PRelu-7 (onnx/onnx onnx/defs/math/old.cc; PR #1063): the slope must be unidirectionally broadcastable to X' },
    ],
    ops: { kind: 'onnx-standard', maxOpset: n, source: ONNX_DOCS },
  };
}

export const TARGETS: readonly TargetProfile[] = (() => {
  const list = [
    ...BUILT_IN.map((p) => validateProfile(p, `built-in target ${(p as { id?: string }).id}`)),
    ...Array.from({ length: ONNX_OPSETS.last - ONNX_OPSETS.first + 1 }, (_, i) => validateProfile(onnxOpsetTarget(ONNX_OPSETS.first + i), 'generated ONNX opset target')),
  ];
  const seen = new Set<string>();
  for (const t of list) {
    if (seen.has(t.id)) throw new Error(`two built-in targets share the id "${t.id}"`);
    seen.add(t.id);
  }
  return list;
})();

export function findTarget(id: string): TargetProfile | undefined {
  return TARGETS.find((t) => t.id === id);
}
