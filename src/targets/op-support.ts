// Whole-graph check for ops other than PRelu: what a target's per-op data says about one node.
// No data never means "supported": it means "unknown".
import type { ModelProto, NodeProto } from 'onnx-buf';
import { opsetOf } from '../onnx/model';
import { OPSET_HISTORY } from '../onnx/opset-history';
import { tensorFacts, type GraphIndex } from '../graph/scope';
import type { FindingStatus, OpSupport, TargetProfile } from './types';
import { onnxSchema, opTable, schemaVersions, type OpRow, type OpTable } from './op-tables';

export interface OpVerdict {
  status: FindingStatus;
  reason: string;
  source: string;
}

const isDefaultDomain = (d: string) => d === '' || d === 'ai.onnx';
/** A domain as the tables write it: the default domain is 'ai.onnx'. */
export const tableDomain = (d: string) => (isDefaultDomain(d) ? 'ai.onnx' : d);

/** The schema version a node resolves to: the newest since-version ≤ the model's opset. */
export function sinceVersion(op: string, opset: number): number | undefined {
  const history = OPSET_HISTORY[op];
  return history?.filter((v) => v <= opset).at(-1);
}

/** undefined when the target is known to run the node; otherwise why not, or that nothing is known. */
export function judgeOp(model: ModelProto, scope: GraphIndex, index: number, target: TargetProfile): OpVerdict | undefined {
  const node = scope.graph.node[index]!;
  const ops = target.ops;
  if (!ops) return undefined; // this profile does not describe other ops: only PRelu is checked
  const domain = tableDomain(node.domain);
  switch (ops.kind) {
    case 'none':
      // No source to cite: say so, rather than borrow the profile's PReLU sources.
      return { status: 'unknown', reason: `No per-op data for ${target.name}: whether it runs ${node.opType} is not known.`, source: `none: OpFit has no per-op support list for ${target.name} (its sources cover PReLU only)` };
    case 'onnx-standard': {
      if (domain !== 'ai.onnx') return { status: 'unknown', reason: `${node.opType} is in domain ${domain}, outside standard ONNX.`, source: ops.source };
      const opset = opsetOf(model, node.domain) ?? 1;
      if (!OPSET_HISTORY[node.opType]) return { status: 'unsupported', reason: `${node.opType} is not a standard ONNX operator.`, source: ops.source };
      if (sinceVersion(node.opType, opset) === undefined) return { status: 'unsupported', reason: `${node.opType} does not exist at opset ${opset}.`, source: ops.source };
      if (ops.maxOpset !== undefined && opset > ops.maxOpset) return { status: 'unsupported', reason: `The model uses opset ${opset}; ${target.name} goes up to opset ${ops.maxOpset}.`, source: ops.source };
      return undefined;
    }
    case 'table':
      return judgeByTable(model, scope, node, ops);
  }
}

// ---- per-op tables -----------------------------------------------------------------------------

/** ONNX's names for TensorProto.DataType codes, as the ORT docs write them (tensor(X) → X). */
const ONNX_TYPE: Record<number, string> = {
  1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'double', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
  17: 'float8e4m3fn', 18: 'float8e4m3fnuz', 19: 'float8e5m2', 20: 'float8e5m2fnuz', 21: 'uint4', 22: 'int4',
  23: 'float4e2m1', 24: 'float8e8m0', 25: 'uint2', 26: 'int2',
};

/** Where a node stands in a table: its opset for the op's domain and the version it resolves to. */
interface Resolved {
  table: OpTable;
  domain: string;
  op: string;
  /** The model's opset for the op's domain (undefined: the model imports none). */
  opset?: number;
  /** The version matched against the table's ranges (default domain: the schema's since-version). */
  version?: number;
  /** "opset 13", "com.microsoft opset 1": for reasons. */
  at: string;
}

function resolve(model: ModelProto, table: OpTable, domain: string, op: string): Resolved {
  const opset = opsetOf(model, domain === 'ai.onnx' ? '' : domain);
  // Default domain: the op's schema version at the model's opset (ONNX's changelog; an op ONNX
  // does not define keeps the opset). Other domains: the model's opset for that domain, matched
  // against the table's own ranges.
  let version = opset;
  if (opset !== undefined && domain === 'ai.onnx' && OPSET_HISTORY[op]) version = sinceVersion(op, opset);
  const at = opset === undefined ? `an unknown ${domain} opset (the model imports none)` : domain === 'ai.onnx' ? `opset ${opset}` : `${domain} opset ${opset}`;
  return { table, domain, op, ...(opset === undefined ? {} : { opset }), ...(version === undefined ? {} : { version }), at };
}

/** "7–12, 13, 14+": the opsets a table's rows cover. An open row followed by another ends there. */
function fmtRanges(rows: readonly OpRow[]): string {
  const sorted = rows.filter((r) => r.from !== undefined).sort((a, b) => a.from! - b.from!);
  return sorted
    .map((r, i) => {
      const next = sorted[i + 1]?.from;
      const to = r.to ?? (next !== undefined && next > r.from! ? next - 1 : undefined);
      return to === undefined ? `${r.from}+` : to === r.from ? `${r.from}` : `${r.from}–${to}`;
    })
    .join(', ');
}

/**
 * The row a node's version falls in: of the rows covering it, the most specific (highest `from`).
 * Rows without versions (the source gives none) cover every opset.
 */
function findRow(r: Resolved, rows: readonly OpRow[]): OpRow | undefined {
  const versioned = rows.filter((row) => row.from !== undefined);
  if (versioned.length === 0) return rows[0];
  const v = r.version;
  if (v === undefined) return undefined;
  return versioned.filter((row) => row.from! <= v && (row.to === undefined || v <= row.to)).sort((a, b) => b.from! - a.from!)[0];
}

/** The schema version for domains ONNX itself defines (ai.onnx, ai.onnx.ml, …), else undefined. */
function schemaVersion(r: Resolved): number | undefined {
  if (r.domain === 'ai.onnx') return r.version;
  if (r.opset === undefined) return undefined;
  return schemaVersions(r.domain, r.op).filter((v) => v <= r.opset!).at(-1);
}

/**
 * The first type constraint of `row` that the node's known dtypes break, in words; undefined when
 * none does, or when it cannot be told. A constraint is checked only on the inputs and outputs the
 * op's schema binds to it (by type parameter, or by formal name as some ORT kernels register it),
 * the way ONNX Runtime matches kernels: the first actual argument of each formal parameter,
 * skipping absent optional ones. Without a schema (contrib ops, schemas newer than ONNX 1.12) which
 * input a constraint governs is not known, and nothing is guessed.
 */
function typeMismatch(scope: GraphIndex, node: NodeProto, r: Resolved, row: OpRow): string | undefined {
  const names = Object.keys(row.constraints);
  if (names.length === 0) return undefined;
  const sv = schemaVersion(r);
  const schema = sv === undefined ? undefined : onnxSchema(r.domain, r.op, sv);
  if (!schema) return undefined;
  for (const name of names) {
    const allowed = row.constraints[name]!;
    for (const [kind, formals, actual] of [['input', schema.inputs, node.input], ['output', schema.outputs, node.output]] as const) {
      for (let i = 0; i < formals.length; i++) {
        const f = formals[i]!;
        if (f.type !== name && f.name !== name) continue;
        const tensor = actual[i];
        if (!tensor) continue; // absent optional argument
        const dtype = tensorFacts(scope, tensor).dtype;
        const t = dtype === undefined ? undefined : ONNX_TYPE[dtype];
        if (t === undefined || allowed.includes(t)) continue;
        return `no ${t} kernel for ${r.op} at ${r.at}: ${kind} ${f.name} is ${t}, and its types for ${name} are ${allowed.join(', ')}`;
      }
    }
  }
  return undefined;
}

/** Whether the table has a usable row for an op (any types) at the model's opset. */
function hasRow(model: ModelProto, table: OpTable, qualified: string): boolean {
  const colon = qualified.lastIndexOf(':');
  const domain = colon < 0 ? 'ai.onnx' : qualified.slice(0, colon);
  const op = qualified.slice(colon + 1);
  const rows = table.ops.get(domain)?.get(op);
  const row = rows && findRow(resolve(model, table, domain, op), rows);
  return !!row?.supported;
}

function judgeByTable(model: ModelProto, scope: GraphIndex, node: NodeProto, ops: Extract<OpSupport, { kind: 'table' }>): OpVerdict | undefined {
  const table = opTable(ops.table);
  if (!table) return { status: 'unknown', reason: `OpFit has no op table "${ops.table}", so which ops this target runs is not known.`, source: ops.source };
  const source = table.source;
  const domain = tableDomain(node.domain);
  const op = node.opType;
  const inDomain = domain === 'ai.onnx' ? '' : ` (domain ${domain})`;

  if (model.functions.some((f) => f.name === op && tableDomain(f.domain) === domain)) {
    return { status: 'unknown', reason: `${op} is a function this model defines; ${table.name} runs its body, whose nodes are not checked here.`, source };
  }

  const r = resolve(model, table, domain, op);
  const rows = table.ops.get(domain)?.get(op);
  const verb = table.kernels ? 'has no kernel for' : 'does not support';
  /** Why the table has nothing for this node, and the status that goes with it. */
  let missing: { status: FindingStatus; why: string } | undefined;
  if (!rows) {
    missing = { status: ops.absent, why: `${table.name} ${table.kernels ? 'has no kernel for' : 'does not list'} ${op}${inDomain}` };
  } else {
    const row = findRow(r, rows);
    if (!row) {
      missing = { status: 'unsupported', why: `${table.name} ${verb} ${op}${inDomain} at ${r.at} (its ${table.kernels ? 'kernels cover' : 'support covers'} opsets ${fmtRanges(rows)})` };
    } else if (!row.supported) {
      const detail = row.notes.replace(/^supported=N\s*;?\s*/, '');
      missing = { status: 'unsupported', why: `${table.name} does not support ${op}${inDomain}${detail ? ` (${detail})` : ''}` };
    } else if (table.kernels) {
      const mismatch = typeMismatch(scope, node, r, row);
      if (mismatch) missing = { status: 'unsupported', why: `${table.name} has ${mismatch}` };
    }
  }
  if (!missing) return undefined;

  // ONNX Runtime runs a node no kernel takes through the op's ONNX function body, if it has one.
  const sv = table.functionFallback ? schemaVersion(r) : undefined;
  const fn = sv === undefined ? undefined : onnxSchema(domain, op, sv)?.functionOps;
  if (fn === 'unknown') {
    return { status: 'unknown', reason: `${missing.why}. ONNX Runtime would then run ${op} as its ONNX function body, whose ops OpFit does not know, so whether it runs is not known.`, source };
  }
  if (fn) {
    const lacking = fn.filter((f) => !hasRow(model, table, f));
    if (lacking.length === 0) return undefined; // the function body's ops all have kernels
    return {
      status: 'unsupported',
      reason: `${missing.why}, and ${op}'s ONNX function body, which it would run instead, needs ${lacking.join(', ')}, which it has no kernel for either.`,
      source,
    };
  }
  return { status: missing.status, reason: `${missing.why}.${missing.status === 'unknown' ? ' Whether it runs is not known.' : ''}`, source };
}
