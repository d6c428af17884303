import { useState } from 'react';
import { useStore } from './store';
import { INCOMPATIBLE, type Finding } from '../targets/check';
import { pathKey } from '../graph/scope';
import { count } from '../plural';

export function focusNode(f: Pick<Finding, 'nodeId' | 'path'>) {
  const s = useStore.getState();
  if (pathKey(s.viewPath) !== pathKey(f.path)) s.enterGraph(f.path);
  s.select(f.nodeId, true);
}

/** Findings with the same status and reason, in first-seen order: one reason, many nodes. */
function groupByReason(findings: Finding[]): { key: string; status: Finding['status']; findings: Finding[] }[] {
  const groups = new Map<string, { key: string; status: Finding['status']; findings: Finding[] }>();
  for (const f of findings) {
    const key = `${f.status}\u0000${f.op}\u0000${f.reason}`;
    const g = groups.get(key) ?? { key, status: f.status, findings: [] };
    g.findings.push(f);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** Node buttons drawn per group at first, and per "Show more": 12,500 buttons took React half a second to insert. */
const PAGE = 200;

function FindingGroup({ status, findings, selected }: { status: Finding['status']; findings: Finding[]; selected?: string }) {
  const [shown, setShown] = useState(PAGE);
  const rest = findings.length - shown;
  return (
    <details className={`finding-group ${status}`} open>
      <summary>
        <span className={`badge ${status}`}>{status}</span> {findings.length} × {findings[0]!.op}
        <span className="reason">{findings[0]!.reason}</span>
      </summary>
      <ul className="group-nodes">
        {findings.slice(0, shown).map((f) => (
          <li key={f.nodeId}>
            <button type="button" className={`finding ${f.status}${f.nodeId === selected ? ' current' : ''}`} onClick={() => focusNode(f)}>
              <strong>{f.node}</strong>{f.path.length ? <span className="muted"> (in a subgraph)</span> : null}
            </button>
          </li>
        ))}
      </ul>
      {rest > 0 && (
        <button type="button" className="show-more" onClick={() => setShown(shown + PAGE)}>
          Show {Math.min(PAGE, rest)} more ({rest.toLocaleString('en-US')} not shown; the search box finds any node)
        </button>
      )}
    </details>
  );
}

export function FindingsPanel() {
  const findings = useStore((s) => s.findings);
  const selected = useStore((s) => s.selected);
  const hasModel = useStore((s) => !!s.model);
  const setTab = useStore((s) => s.setSideTab);
  if (!hasModel) return null;
  const bad = findings.filter((f) => INCOMPATIBLE.has(f.status));
  const unknown = findings.filter((f) => f.status === 'unknown');
  const unknownOps = [...unknown.reduce((m, f) => m.set(f.op, (m.get(f.op) ?? 0) + 1), new Map<string, number>())];

  return (
    <section aria-label="Findings">
      {bad.length === 0 && <p className="muted">No node is known to be incompatible with this target.</p>}
      {groupByReason(bad).map((g) =>
        g.findings.length >= 3 ? (
          <FindingGroup key={g.key} status={g.status} findings={g.findings} selected={selected} />
        ) : (
          <ul key={g.key}>
            {g.findings.map((f) => (
              <li key={f.nodeId}>
                <button type="button" className={`finding ${f.status}${f.nodeId === selected ? ' current' : ''}`} onClick={() => focusNode(f)}>
                  <span className={`badge ${f.status}`}>{f.status}</span>
                  <strong>{f.node}</strong> <span className="muted">{f.op}{f.path.length ? ' (in a subgraph)' : ''}</span>
                  <span className="reason">{f.reason}</span>
                </button>
              </li>
            ))}
          </ul>
        ),
      )}
      {unknown.length > 0 && (
        <div className="unknown-summary">
          <p>
            <span className="badge unknown">unknown</span> {count(unknown.length, 'node')} could not be checked:{' '}
            {unknownOps.slice(0, 8).map(([op, n]) => `${op} ×${n.toLocaleString('en-US')}`).join(', ')}{unknownOps.length > 8 ? ', …' : ''}.
          </p>
          <button type="button" onClick={() => setTab('report')}>See the report</button>
        </div>
      )}
    </section>
  );
}
