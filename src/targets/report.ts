// The compatibility report: findings summed up per category and per op, for one target or
// several side by side, and exported as Markdown or JSON. Pure: the UI and the CLI render it.
import type { ModelProto } from 'onnx-buf';
import { allGraphs, nodeId } from '../graph/scope';
import { checkModel, type Finding } from './check';
import type { FindingStatus, TargetProfile } from './types';

export type NodeStatus = FindingStatus | 'supported';

/** Worst first: the order rows and summaries use. */
export const STATUS_ORDER: readonly NodeStatus[] = ['unsupported', 'constraint', 'differs', 'unknown', 'supported'];

export const STATUS_LABEL: Record<NodeStatus, string> = {
  unsupported: 'unsupported',
  constraint: 'breaks a constraint',
  differs: 'runs, but gives different numbers',
  unknown: 'not known for this target',
  supported: 'supported',
};

export interface OpRow {
  op: string;
  domain: string;
  status: NodeStatus;
  count: number;
  /** The reason of the first node in the row; rows group nodes by op and status. */
  reason: string;
  source: string;
  nodeIds: string[];
}

export interface TargetReport {
  target: { id: string; name: string; version: string };
  counts: Record<NodeStatus, number>;
  rows: OpRow[];
  findings: Finding[];
}

export function buildReport(model: ModelProto, target: TargetProfile, findings = checkModel(model, target)): TargetReport {
  const byNode = new Map(findings.map((f) => [f.nodeId, f]));
  const rows = new Map<string, OpRow>();
  const counts = Object.fromEntries(STATUS_ORDER.map((s) => [s, 0])) as Record<NodeStatus, number>;
  for (const scope of allGraphs(model)) {
    scope.graph.node.forEach((node, index) => {
      const id = nodeId(scope.path, index);
      const f = byNode.get(id);
      const status: NodeStatus = f?.status ?? 'supported';
      counts[status]++;
      const domain = node.domain === 'ai.onnx' ? '' : node.domain;
      const key = `${domain}\u0000${node.opType}\u0000${status}`;
      const row = rows.get(key) ?? { op: node.opType, domain, status, count: 0, reason: f?.reason ?? '', source: f?.source ?? '', nodeIds: [] };
      row.count++;
      row.nodeIds.push(id);
      rows.set(key, row);
    });
  }
  const sorted = [...rows.values()].sort(
    (a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status) || b.count - a.count || a.op.localeCompare(b.op),
  );
  return { target: { id: target.id, name: target.name, version: target.version }, counts, rows: sorted, findings };
}

/** One row per op type; one cell per target: how many of its nodes fall in each status. */
export interface ComparisonRow {
  op: string;
  domain: string;
  count: number;
  cells: Partial<Record<NodeStatus, number>>[];
}

export function compareReports(reports: TargetReport[]): ComparisonRow[] {
  const rows = new Map<string, ComparisonRow>();
  reports.forEach((r, i) => {
    for (const row of r.rows) {
      const key = `${row.domain}\u0000${row.op}`;
      const entry: ComparisonRow = rows.get(key) ?? { op: row.op, domain: row.domain, count: 0, cells: reports.map(() => ({})) };
      if (i === 0) entry.count += row.count;
      entry.cells[i]![row.status] = (entry.cells[i]![row.status] ?? 0) + row.count;
      rows.set(key, entry);
    }
  });
  const worst = (r: ComparisonRow) => Math.min(...r.cells.flatMap((c) => Object.keys(c).map((s) => STATUS_ORDER.indexOf(s as NodeStatus))));
  return [...rows.values()].sort((a, b) => worst(a) - worst(b) || b.count - a.count || a.op.localeCompare(b.op));
}

export function cellText(cell: Partial<Record<NodeStatus, number>>): string {
  return STATUS_ORDER.filter((s) => cell[s]).map((s) => `${cell[s]} ${s}`).join(', ');
}

const md = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function reportMarkdown(modelName: string, reports: TargetReport[]): string {
  const lines: string[] = [`# Compatibility of ${md(modelName)}`, ''];
  if (reports.length > 1) {
    lines.push('## Comparison', '', `| op | nodes | ${reports.map((r) => md(r.target.name)).join(' | ')} |`, `|---|---|${reports.map(() => '---').join('|')}|`);
    for (const row of compareReports(reports)) lines.push(`| ${md(row.domain ? `${row.domain}.${row.op}` : row.op)} | ${row.count} | ${row.cells.map((c) => cellText(c)).join(' | ')} |`);
    lines.push('');
  }
  for (const r of reports) {
    lines.push(`## ${md(r.target.name)} (${md(r.target.version)})`, '');
    lines.push(STATUS_ORDER.map((s) => `${STATUS_LABEL[s]}: ${r.counts[s]}`).join(' · '), '');
    lines.push('| op | count | status | reason | source |', '|---|---|---|---|---|');
    for (const row of r.rows) lines.push(`| ${md(row.domain ? `${row.domain}.${row.op}` : row.op)} | ${row.count} | ${row.status} | ${md(row.reason)} | ${md(row.source)} |`);
    lines.push('');
  }
  return lines.join('\n');
}

export function reportJson(modelName: string, reports: TargetReport[]): string {
  return JSON.stringify({
    model: modelName,
    targets: reports.map((r) => ({
      target: r.target,
      counts: r.counts,
      ops: r.rows.map(({ nodeIds, ...row }) => ({ ...row, nodes: nodeIds.length })),
      findings: r.findings.map((f) => ({ node: f.node, op: f.op, status: f.status, reason: f.reason, source: f.source })),
    })),
  }, null, 2);
}
