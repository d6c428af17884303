import { useStore } from './store';
import { INCOMPATIBLE, type Finding } from '../targets/check';
import { pathKey } from '../graph/scope';

export function focusNode(f: Pick<Finding, 'nodeId' | 'path'>) {
  const s = useStore.getState();
  if (pathKey(s.viewPath) !== pathKey(f.path)) s.enterGraph(f.path);
  s.select(f.nodeId, true);
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
      <ul>
        {bad.map((f) => (
          <li key={f.nodeId}>
            <button type="button" className={`finding ${f.status}${f.nodeId === selected ? ' current' : ''}`} onClick={() => focusNode(f)}>
              <span className={`badge ${f.status}`}>{f.status}</span>
              <strong>{f.node}</strong> <span className="muted">{f.op}{f.path.length ? ' (in a subgraph)' : ''}</span>
              <span className="reason">{f.reason}</span>
            </button>
          </li>
        ))}
      </ul>
      {unknown.length > 0 && (
        <div className="unknown-summary">
          <p>
            <span className="badge unknown">unknown</span> {unknown.length} node{unknown.length > 1 ? 's' : ''} could not be checked:{' '}
            {unknownOps.slice(0, 8).map(([op, n]) => `${op} ×${n}`).join(', ')}{unknownOps.length > 8 ? ', …' : ''}.
          </p>
          <button type="button" onClick={() => setTab('report')}>See the report</button>
        </div>
      )}
    </section>
  );
}
