// Regenerates src/targets/op-tables/*.json from the per-op support tables in
// ../shared/reference/op-support/*.tsv (facts extracted from each runtime's own docs; see that
// folder's README), plus onnx-schemas.json from Debian's python3-onnx (ONNX 1.12): which inputs
// and outputs each type constraint (T, T1, …) governs, and which ops have a function body. The
// output is committed, so the app never needs ../shared or Python at run time.
//
//   node scripts/gen-op-tables.mjs [DIR]        (DIR defaults to ../shared/reference/op-support)
//
// Table JSON, kept compact because the app bundles it:
//   { id, name, source, kernels, functionFallback?, types: [constraint strings],
//     ops: { domain: { op: [[from|null, to|null, typesIndex|null, notes?], …] } } }
// Rows keep the TSV's order of facts: `from`/`to` as given (null = empty cell, `to` null = open),
// `types` as an index into `types` (the constraint text verbatim, e.g. "T=float,int64;T1=bool"),
// `notes` verbatim (including a leading "supported=N"). Overrides (below) are applied last, each
// with a note that says so and why.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SRC = process.argv[2] ?? '../shared/reference/op-support';
const OUT = 'src/targets/op-tables';
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

/**
 * id → TSV, display name, and how to read it.
 * kernels: `types` are ORT-style named constraints (T=…;T1=…) that can be checked per input.
 * functionFallback: the runtime (ONNX Runtime) runs an op that has no kernel through the op's
 * ONNX function body when the schema has one (onnxruntime core/framework graph_partitioner.cc,
 * InlineNodes), so a missing kernel alone does not mean the node fails.
 */
const TABLES = [
  { id: 'ort-cpu', file: 'ort-cpu.tsv', name: 'ONNX Runtime CPU', kernels: true, functionFallback: true },
  { id: 'ort-dml', file: 'ort-dml.tsv', name: 'ONNX Runtime DirectML', kernels: true, functionFallback: true },
  { id: 'ort-web-webgl', file: 'ort-web-webgl.tsv', name: 'ONNX Runtime Web (WebGL)', kernels: true }, // a JS engine of its own: no function inlining
  { id: 'ort-web-webgpu', file: 'ort-web-webgpu.tsv', name: 'ONNX Runtime Web (WebGPU)', kernels: true, functionFallback: true },
  { id: 'ort-web-webnn', file: 'ort-web-webnn.tsv', name: 'ONNX Runtime WebNN EP', kernels: true, functionFallback: true },
  { id: 'tensorrt-10.1', file: 'tensorrt-onnx-parser-10.1.tsv', name: 'TensorRT 10.1 ONNX parser', kernels: false },
  { id: 'tensorrt-10.15', file: 'tensorrt-onnx-parser.tsv', name: 'TensorRT 10.15 ONNX parser', kernels: false },
  { id: 'openvino', file: 'openvino-onnx-frontend.tsv', name: 'OpenVINO ONNX frontend', kernels: false },
];

/** Runtime-internal domains and ops (README caveats): a model never uses them. */
const INTERNAL_DOMAINS = new Set(['com.microsoft.nchwc', 'com.microsoft.dml', 'com.ms.internal.nhwc']);
const INTERNAL_OPS = new Set(['MemcpyFromHost', 'MemcpyToHost']);

/**
 * Where the runtime disagrees with its docs, the runtime wins (../shared/reference/op-support/
 * README.md). Each override adds rows (with no type constraints: the types are not known) to the
 * tables it names, replacing the source's rows for that op only when `replaces` names their notes,
 * with a note that says it is OpFit's and why. tests/conformance/ort-kernels.test.ts
 * loads every model of libonnx-testdata and one small model per added op in onnxruntime-node, so
 * each override here is re-checked against the runtime.
 */
const ORT_TABLES = ['ort-cpu', 'ort-dml', 'ort-web-webgpu', 'ort-web-webnn'];
const ORT_CPU_EXTRA = 'not in OperatorKernels.md @ 735e69a3, but onnxruntime-node 1.30.0 creates a session for it (CPU)';
const OVERRIDES = [
  {
    tables: ORT_TABLES, domain: 'ai.onnx', op: 'Constant', rows: [[1, null]],
    note: 'no kernel needed: ONNX Runtime turns Constant nodes into initializers when it loads the graph (onnxruntime core/graph/graph.cc); onnxruntime-node 1.30.0 loads every Constant model of libonnx-testdata',
  },
  {
    tables: ['ort-web-webgl'], domain: 'ai.onnx', op: 'Constant', rows: [[1, null]], replaces: 'supported=N',
    note: 'the doc lists Constant as not supported, but the WebGL backend never runs it: js/web/lib/onnxjs/graph.ts @ 08370cbe turns a Constant node with a single tensor `value` attribute into a graph value when it loads the model (other value_* attributes are refused there)',
  },
  {
    tables: ['ort-cpu'], domain: 'ai.onnx', op: 'CastLike', rows: [[15, null]],
    note: 'no kernel: ONNX Runtime runs CastLike as its ONNX function body, a single Cast to the type of target_type (onnx/defs/tensor/defs.cc), which has kernels for every type; onnxruntime-node 1.30.0 loads CastLike-15 to -25',
  },
  { tables: ['ort-cpu'], domain: 'ai.onnx', op: 'NonMaxSuppression', rows: [[10, 10], [11, null]], note: ORT_CPU_EXTRA },
  { tables: ['ort-cpu'], domain: 'ai.onnx', op: 'DeformConv', rows: [[19, 21], [22, null]], note: ORT_CPU_EXTRA },
  { tables: ['ort-cpu'], domain: 'ai.onnx', op: 'TensorScatter', rows: [[24, null]], note: ORT_CPU_EXTRA },
  { tables: ['ort-cpu'], domain: 'ai.onnx', op: 'CumProd', rows: [[26, null]], note: ORT_CPU_EXTRA },
  { tables: ['ort-cpu'], domain: 'ai.onnx', op: 'BitCast', rows: [[26, null]], note: ORT_CPU_EXTRA },
];

function readTsv(path) {
  const lines = readFileSync(path, 'utf8').split('\n');
  const source = lines.find((l) => l.startsWith('# source:'))?.slice('# source:'.length).trim();
  if (!source) throw new Error(`${path}: no "# source:" line`);
  const rows = [];
  for (const line of lines) {
    if (!line || line.startsWith('#') || line.startsWith('domain\t')) continue;
    const [domain, op, from, to, types, notes] = line.split('\t');
    if (!op) throw new Error(`${path}: bad row ${JSON.stringify(line)}`);
    rows.push({ domain, op, from: from ? Number(from) : null, to: to ? Number(to) : null, types: types ?? '', notes: (notes ?? '').trim() });
  }
  return { source, rows };
}

function buildTable(spec) {
  const { source, rows } = readTsv(join(SRC, spec.file));
  for (const o of OVERRIDES.filter((o) => o.tables.includes(spec.id))) {
    const existing = rows.filter((r) => r.domain === o.domain && r.op === o.op);
    // An override either fills a gap or replaces exactly the rows it names; anything else means the
    // source changed and the override must be looked at again.
    if (o.replaces === undefined ? existing.length > 0 : existing.length === 0 || existing.some((r) => r.notes !== o.replaces)) {
      throw new Error(`${spec.id}: the source's rows for ${o.op} changed; review the override`);
    }
    rows.splice(0, rows.length, ...rows.filter((r) => !existing.includes(r)));
    for (const [from, to] of o.rows) rows.push({ domain: o.domain, op: o.op, from, to, types: '', notes: `OpFit override: ${o.note}` });
  }
  const types = [];
  const typeIndex = new Map();
  const ops = {};
  for (const r of rows) {
    if (INTERNAL_DOMAINS.has(r.domain) || INTERNAL_OPS.has(r.op)) continue;
    let t = null;
    if (r.types) {
      if (!typeIndex.has(r.types)) {
        typeIndex.set(r.types, types.length);
        types.push(r.types);
      }
      t = typeIndex.get(r.types);
    }
    const row = r.notes ? [r.from, r.to, t, r.notes] : [r.from, r.to, t];
    ((ops[r.domain] ??= {})[r.op] ??= []).push(row);
  }
  return { id: spec.id, name: spec.name, source, kernels: spec.kernels, ...(spec.functionFallback ? { functionFallback: true } : {}), types, ops };
}

// ONNX 1.12's schemas (every version of every op in ai.onnx, ai.onnx.ml, ai.onnx.preview.training):
// formal inputs/outputs as "name:typeStr" with "?" for optional and "*" for variadic, and the
// function body's ops ("fn": op list; "ctx": a body built per node, ops not known in advance).
const PY = String.raw`
import json, onnx
from onnx import defs
out = {}
opt = {0: '', 1: '?', 2: '*'}
for s in defs.get_all_schemas_with_history():
    d = s.domain or 'ai.onnx'
    e = [';'.join(f'{p.name}:{p.typeStr}{opt[int(p.option)]}' for p in s.inputs),
         ';'.join(f'{p.name}:{p.typeStr}{opt[int(p.option)]}' for p in s.outputs)]
    if s.has_function:
        e.append(sorted({(n.domain + ':' if n.domain not in ('', 'ai.onnx') else '') + n.op_type for n in s.function_body.node}))
    elif s.has_context_dependent_function:
        e.append('ctx')
    out.setdefault(d, {}).setdefault(s.name, {})[str(s.since_version)] = e
print(json.dumps({'version': onnx.__version__, 'schemas': out}, sort_keys=True))
`;

function dumpSchemas() {
  let json;
  try {
    json = execFileSync(PYTHON, ['-c', PY], { encoding: 'utf8', maxBuffer: 64 << 20 });
  } catch (e) {
    throw new Error(`${PYTHON} with the onnx module is needed (Debian: apt-get install python3-onnx): ${e.message}`);
  }
  const { version, schemas } = JSON.parse(json);
  // Schemas newer than ONNX 1.12 are not in python3-onnx; the opset table only says whether an
  // op's newest schema has a function body. For such an op, every version newer than the dump
  // may have one (its ops unknown here): newestFunction maps the op to its first such version.
  const opsets = readFileSync(join(SRC, 'onnx-opsets-v1.22.0.tsv'), 'utf8').split('\n');
  const newestFunction = {};
  for (const line of opsets) {
    const [op, versions, , fn] = line.split('\t');
    if (!line || line.startsWith('#') || op === 'op' || fn !== 'yes') continue;
    const known = Object.keys(schemas['ai.onnx']?.[op] ?? {}).map(Number);
    const after = versions.split(',').map(Number).find((v) => !known.includes(v) && v > Math.max(0, ...known));
    if (after !== undefined) newestFunction[op] = after;
  }
  const opsetSource = opsets.find((l) => l.startsWith('# source:'))?.slice('# source:'.length).trim();
  return {
    source: `onnx/onnx operator schemas, ONNX ${version} (Debian python3-onnx, onnx.defs); newer function ops from ${opsetSource}`,
    schemas,
    newestFunction,
  };
}

mkdirSync(OUT, { recursive: true });
for (const spec of TABLES) {
  const table = buildTable(spec);
  writeFileSync(join(OUT, `${spec.id}.json`), JSON.stringify(table) + '\n');
}
writeFileSync(join(OUT, 'onnx-schemas.json'), JSON.stringify(dumpSchemas()) + '\n');
console.log(`wrote ${TABLES.length} tables and onnx-schemas.json to ${OUT}`);
