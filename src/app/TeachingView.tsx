// The teaching view for one PRelu: every rewrite form side by side (formula, subgraph, where it
// differs), plus the widely shared wrong MMdnn answer, and a live table of what each form outputs
// on −2, −0.0, NaN, ±inf … — every cell computed by ONNX Runtime (WebAssembly, in a worker) on a
// tiny model built with the project's own Builder and forms, none typed in.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { ModelProto } from 'onnx-buf';
import { indexAt, parseNodeId } from '../graph/scope';
import { preluFacts } from '../graph/prelu';
import { TEACHING_FORMS, TEACH_SLOPES, sameValue, type TeachingTable } from '../verify/teaching';
import { fmtValue } from '../verify/format';
import { Cancelled, VerifyClient } from './verify-client';
import './verify.css';

const SHORT: Record<string, string> = {
  prelu: 'PRelu', where: 'Where', leaky: 'LeakyRelu', 'max-min': 'Max/Min', 'relu-neg': 'Relu − Neg', 'mmdnn-wrong': 'WRONG (MMdnn)',
};
const KIND: Record<string, string> = { reference: 'the op itself', exact: 'exact', differs: 'differs', wrong: 'WRONG' };

/** The button in a PRelu's details, and the view it opens. */
export function TeachingButton({ model, id }: { model: ModelProto; id: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="teach-open" onClick={() => setOpen(true)}>How the forms differ (live table)…</button>
      {open && <TeachingView model={model} id={id} onClose={() => setOpen(false)} />}
    </>
  );
}

function nodeSlope(model: ModelProto, id: string): { name: string; value?: number; count: number } {
  const at = parseNodeId(id);
  if (!at) return { name: id, count: 0 };
  const scope = indexAt(model, at.path);
  const node = scope.graph.node[at.index];
  if (!node || node.opType !== 'PRelu') return { name: id, count: 0 };
  const f = preluFacts(model, scope, at.index);
  return { name: node.name || node.output[0] || id, value: f.slopeValues?.[0], count: f.slopeValues?.length ?? 0 };
}

export function TeachingView({ model, id, onClose }: { model: ModelProto; id: string; onClose: () => void }) {
  const own = useMemo(() => nodeSlope(model, id), [model, id]);
  const slopes = useMemo(() => {
    const list = [...TEACH_SLOPES, 0];
    if (own.value !== undefined && !list.some((s) => Object.is(s, Math.fround(own.value!)))) list.push(Math.fround(own.value));
    return list;
  }, [own]);
  const [tables, setTables] = useState<(TeachingTable | undefined)[]>([]);
  // Open at the node's own slope (its first value), the one the user came here about.
  const [slopeIndex, setSlopeIndex] = useState(() => Math.max(0, own.value === undefined ? 0 : slopes.findIndex((s) => Object.is(s, Math.fround(own.value!)))));
  const [error, setError] = useState<string>();
  const client = useRef<VerifyClient>(undefined);
  const closeRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const c = (client.current = new VerifyClient());
    c.run<TeachingTable[]>({ kind: 'teach', slopes }, (e) => {
      if (e.kind === 'teach-table') setTables((t) => { const n = [...t]; n[e.index] = e.table; return n; });
    }).catch((e) => { if (!(e instanceof Cancelled)) setError((e as Error).message); });
    return () => c.dispose();
  }, [slopes]);

  useEffect(() => {
    closeRef.current?.focus();
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose(); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  const table = tables[slopeIndex];
  const anyTable = tables.find(Boolean);
  const slopeLabel = (s: number, i: number) => (i >= TEACH_SLOPES.length + 1 ? `this node${own.count > 1 ? '’s first' : '’s'} slope = ${fmtValue(s)}` : fmtValue(s));
  const whereSignOnly = table?.rows.some((r) => r.values.where !== null && !sameValue(r.values.where!, r.definition) && r.values.where === r.definition);

  return (
    <div className="dialog-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div className="dialog teach-dialog" role="dialog" aria-modal="true" aria-label="PRelu forms side by side">
        <header>
          <h2>PRelu <span className="muted">{own.name}</span>: the forms side by side</h2>
          <button type="button" className="close" ref={closeRef} onClick={onClose} aria-label="Close">×</button>
        </header>
        <div className="teach-slopes" role="group" aria-label="Slope">
          <span>Slope:</span>
          {slopes.map((s, i) => (
            <button key={i} type="button" aria-pressed={i === slopeIndex} onClick={() => setSlopeIndex(i)}>{slopeLabel(s, i)}</button>
          ))}
        </div>
        {error && <div className="error-inline">The live table could not be computed: {error}</div>}
        {!table && !error && <p className="muted" aria-live="polite">Running each form in ONNX Runtime (WebAssembly)…</p>}
        {table && (
          <table className="teach-table" aria-label={`Live table, slope ${fmtValue(table.slope)}`} data-slope={String(table.slope)}>
            <thead>
              <tr>
                <th>x</th>
                <th className="definition" title="x < 0 ? slope·x : x, evaluated by OpFit in float32">definition</th>
                {TEACHING_FORMS.map((f) => <th key={f.id} className={`kind-${f.kind}`} data-form={f.id}>{SHORT[f.id]}</th>)}
              </tr>
            </thead>
            <tbody>
              {table.rows.map((r, i) => (
                <tr key={i} data-x={Object.is(r.x, -0) ? '-0' : String(r.x)}>
                  <th scope="row">{fmtValue(r.x)}</th>
                  <td className="definition">{fmtValue(r.definition)}</td>
                  {TEACHING_FORMS.map((f) => {
                    const v = r.values[f.id];
                    const cls = v === null ? '' : sameValue(v, r.definition) ? '' : v === r.definition ? 'sign-only' : 'differs';
                    return <td key={f.id} data-form={f.id} className={cls} title={v === null ? table.notRun[f.id] : undefined}>{v === null ? 'n/a' : fmtValue(v)}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <p className="teach-foot">
          Every cell is live: each form was built as a tiny model by OpFit’s own rewrite code and run by ONNX Runtime (WebAssembly) in this browser.
          The <em>definition</em> column is PRelu’s formula evaluated by OpFit; red cells differ from it, amber cells differ only in the sign of zero.
          {whereSignOnly && ' Where is exact by ONNX’s definition; ONNX Runtime’s Where kernel returns +0 for a −0 it selects (microsoft/onnxruntime#32191), which is the amber cell in its column.'}
          {table && Object.keys(table.notRun).length > 0 && ` Not run for this slope: ${Object.entries(table.notRun).map(([k, v]) => `${SHORT[k]} (${v})`).join('; ')}.`}
        </p>
        <div className="teach-forms">
          {TEACHING_FORMS.map((f) => (
            <article key={f.id} className={`teach-form kind-${f.kind}`} aria-label={f.label}>
              <h4>{f.label} <span className={`kind-badge ${f.kind}`}>{KIND[f.kind]}</span></h4>
              <div className="math">{f.math}</div>
              <code>{f.onnx}</code>
              {(table ?? anyTable)?.nodes[f.id] && <ol>{(table ?? anyTable)!.nodes[f.id]!.map((line, i) => <li key={i}>{line}</li>)}</ol>}
              <div className="note">{f.note}</div>
            </article>
          ))}
        </div>

      </div>
    </div>
  );
}
