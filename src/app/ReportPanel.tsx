import { useMemo } from 'react';
import { useStore } from './store';
import { buildReport, reportJson, reportMarkdown, STATUS_LABEL, STATUS_ORDER, type OpRow } from '../targets/report';
import { saveText } from './files';

export function ReportPanel() {
  const model = useStore((s) => s.model);
  const findings = useStore((s) => s.findings);
  const targetId = useStore((s) => s.targetId);
  const filter = useStore((s) => s.filter);
  const fileName = useStore((s) => s.fileName) ?? 'model.onnx';
  const target = useStore((s) => s.targetProfile)(targetId);
  const report = useMemo(() => (model ? buildReport(model, target, findings) : undefined), [model, target, findings]);
  if (!report) return null;

  const toggle = (row: OpRow) => {
    const label = `${row.op} · ${row.status}`;
    useStore.getState().setFilter(filter?.label === label ? undefined : { label, nodeIds: row.nodeIds });
  };
  const base = fileName.replace(/\.onnx$/i, '');

  return (
    <section aria-label="Compatibility report">
      <h2>{target.name}</h2>
      <ul className="counts" aria-label="Nodes per category">
        {STATUS_ORDER.map((s) => (
          <li key={s} className={`count ${s}`}><strong>{report.counts[s]}</strong> {STATUS_LABEL[s]}</li>
        ))}
      </ul>
      <div className="export">
        <button type="button" onClick={() => saveText(reportMarkdown(fileName, [report]), `${base}.${target.id}.report.md`, 'text/markdown')}>Export Markdown</button>
        <button type="button" onClick={() => saveText(reportJson(fileName, [report]), `${base}.${target.id}.report.json`, 'application/json')}>Export JSON</button>
      </div>
      <table className="report-table">
        <caption className="muted">Click a row to highlight its nodes on the graph.</caption>
        <thead><tr><th>op</th><th>count</th><th>status</th><th>reason</th><th>source</th></tr></thead>
        <tbody>
          {report.rows.map((row) => {
            const label = `${row.op} · ${row.status}`;
            return (
              <tr key={`${row.domain}.${row.op}.${row.status}`} className={`${row.status}${filter?.label === label ? ' active' : ''}`} onClick={() => toggle(row)} tabIndex={0} onKeyDown={(e) => e.key === 'Enter' && toggle(row)} aria-selected={filter?.label === label}>
                <td>{row.domain ? `${row.domain}.` : ''}{row.op}</td>
                <td>{row.count}</td>
                <td><span className={`badge ${row.status}`}>{row.status}</span></td>
                <td className="reason">{row.reason}</td>
                <td className="source">{row.source}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
