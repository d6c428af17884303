import { useStore } from './store';
import { INCOMPATIBLE, type Finding } from '../targets/check';
import { pathKey } from '../graph/scope';

export function FindingsPanel() {
  const findings = useStore((s) => s.findings);
  const selected = useStore((s) => s.selected);
  const hasModel = useStore((s) => !!s.model);
  if (!hasModel) return <aside className="panel findings" aria-label="Findings" />;
  const sorted = [...findings].sort((a, b) => Number(INCOMPATIBLE.has(b.status)) - Number(INCOMPATIBLE.has(a.status)));

  const open = (f: Finding) => {
    const s = useStore.getState();
    if (pathKey(s.viewPath) !== pathKey(f.path)) s.enterGraph(f.path);
    s.select(f.nodeId, true);
  };

  return (
    <aside className="panel findings" aria-label="Findings">
      <h2>Findings</h2>
      {sorted.length === 0 && <p className="muted">Every node can run on this target.</p>}
      <ul>
        {sorted.map((f) => (
          <li key={f.nodeId}>
            <button type="button" className={`finding ${f.status}${f.nodeId === selected ? ' current' : ''}`} onClick={() => open(f)}>
              <span className={`badge ${f.status}`}>{f.status}</span>
              <strong>{f.node}</strong> <span className="muted">{f.op}{f.path.length ? ' (in a subgraph)' : ''}</span>
              <span className="reason">{f.reason}</span>
            </button>
          </li>
        ))}
      </ul>
    </aside>
  );
}
