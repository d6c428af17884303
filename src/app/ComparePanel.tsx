import { useMemo } from 'react';
import { useStore } from './store';
import { TARGETS } from '../targets/registry';
import { buildReport, cellText, compareReports, reportJson, reportMarkdown, STATUS_ORDER } from '../targets/report';
import { saveText } from './files';

/** One model against several targets, targets as columns. */
export function ComparePanel() {
  const model = useStore((s) => s.model);
  const compareIds = useStore((s) => s.compareIds);
  const custom = useStore((s) => s.customTargets);
  const fileName = useStore((s) => s.fileName) ?? 'model.onnx';
  const targetProfile = useStore((s) => s.targetProfile);
  const all = [...TARGETS, ...custom];
  const chosen = compareIds.map((id) => all.find((t) => t.id === id)).filter((t) => t !== undefined);
  const reports = useMemo(() => (model ? chosen.map((t) => buildReport(model, targetProfile(t.id))) : []), [model, compareIds.join(), custom]); // eslint-disable-line react-hooks/exhaustive-deps
  const rows = useMemo(() => compareReports(reports), [reports]);
  if (!model) return null;

  const toggle = (id: string, on: boolean) => {
    const next = on ? [...compareIds, id] : compareIds.filter((x) => x !== id);
    useStore.getState().setCompareIds(next);
  };
  const base = fileName.replace(/\.onnx$/i, '');

  return (
    <section aria-label="Compare targets">
      <details className="compare-pick" open={chosen.length < 2}>
        <summary>Targets to compare ({chosen.length})</summary>
        <ul className="target-checks">
          {all.map((t) => (
            <li key={t.id}>
              <label>
                <input type="checkbox" checked={compareIds.includes(t.id)} onChange={(e) => toggle(t.id, e.target.checked)} /> {t.name}
              </label>
            </li>
          ))}
        </ul>
      </details>
      {reports.length > 0 && (
        <>
          <div className="export">
            <button type="button" onClick={() => saveText(reportMarkdown(fileName, reports), `${base}.comparison.md`, 'text/markdown')}>Export Markdown</button>
            <button type="button" onClick={() => saveText(reportJson(fileName, reports), `${base}.comparison.json`, 'application/json')}>Export JSON</button>
          </div>
          <div className="table-scroll">
            <table className="compare-table" aria-label="Comparison">
              <thead>
                <tr><th>op</th><th>nodes</th>{reports.map((r) => <th key={r.target.id} scope="col">{r.target.name}</th>)}</tr>
                <tr className="totals">
                  <th>all</th><th />
                  {reports.map((r) => <td key={r.target.id}>{STATUS_ORDER.filter((s) => s !== 'supported' && r.counts[s]).map((s) => `${r.counts[s]} ${s}`).join(', ') || 'all supported'}</td>)}
                </tr>
              </thead>
              <tbody>
                {rows.map((row) => (
                  <tr key={`${row.domain}.${row.op}`}>
                    <th scope="row">{row.domain ? `${row.domain}.` : ''}{row.op}</th>
                    <td>{row.count}</td>
                    {row.cells.map((c, i) => <td key={reports[i]!.target.id} className={`cell ${STATUS_ORDER.find((s) => c[s]) ?? ''}`}>{cellText(c)}</td>)}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
