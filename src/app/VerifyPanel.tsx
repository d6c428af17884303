// "Verify": the model as opened against the model as it is now, both run by ONNX Runtime
// (WebAssembly) in a worker on the same inputs, with per-output errors and pass/fail against a
// tolerance; and the local check, which proves each rewritten PRelu on its own. The panel floats
// over the canvas without blocking it: the page stays usable while a run goes on.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { ModelProto } from 'onnx-buf';
import { useStore } from './store';
import { writeModel } from '../onnx/model';
import { externalDataFiles } from '../verify/external-data';
import { dtypeName } from '../onnx/dtypes';
import { fmtShape } from '../graph/broadcast';
import { fileMismatch, modelInputs, symbolicDims, type InputMode } from '../verify/inputs';
import { parseTensorFile, type TensorFile } from '../verify/tensor-file';
import { buildLocalPairs, findRewrittenNodes, type LocalResult } from '../verify/local';
import { CRITERION, type OutputComparison } from '../verify/compare';
import { fmtError, fmtValue } from '../verify/format';
import type { Progress, VerifyReport } from '../verify/verify';
import { Cancelled, VerifyClient } from './verify-client';
import './verify.css';

/** The toolbar button and the panel it opens. */
export function VerifyButton() {
  const hasModel = useStore((s) => !!s.model);
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" disabled={!hasModel} onClick={() => setOpen((o) => !o)} aria-expanded={open} title="Run the original and the converted model with ONNX Runtime and compare">
        Verify
      </button>
      {open && hasModel && <VerifyPanel onClose={() => setOpen(false)} />}
    </>
  );
}

type Mode = InputMode | 'files';
interface Running { kind: 'verify' | 'local'; progress?: Progress; started: number }
interface PickedFile { fileName: string; tensor?: TensorFile; error?: string }

const parseTolerance = (s: string) => (s.trim() !== '' && Number.isFinite(Number(s)) && Number(s) >= 0 ? Number(s) : undefined);
const parseSeed = (s: string) => (/^\d+$/.test(s.trim()) && Number(s) <= 0xffffffff ? Number(s) : undefined);

export function VerifyPanel({ onClose }: { onClose: () => void }) {
  const original = useStore((s) => s.original);
  const model = useStore((s) => s.model);
  const changed = useStore((s) => s.past.length > 0);
  const fileName = useStore((s) => s.fileName);
  // The model as opened is the first in the history (it carries its data files, if any).
  const origModel = useStore((s) => s.past[0]?.model ?? s.model);
  const specs = useMemo(() => (origModel ? modelInputs(origModel) : []), [origModel]);
  const dims = useMemo(() => symbolicDims(specs), [specs]);
  const rewritten = useMemo(() => (origModel && model ? findRewrittenNodes(origModel, model) : []), [origModel, model]);

  const [mode, setMode] = useState<Mode>('random');
  const [seedText, setSeedText] = useState('1');
  const [tolText, setTolText] = useState('1e-5');
  const [sizeText, setSizeText] = useState<Record<string, string>>({});
  const [files, setFiles] = useState<Record<string, PickedFile>>({});
  const [running, setRunning] = useState<Running>();
  const [report, setReport] = useState<{ report: VerifyReport; model: ModelProto }>();
  const [local, setLocal] = useState<{ results: Record<string, LocalResult>; model?: ModelProto }>({ results: {} });
  const [message, setMessage] = useState<string>();
  const [, tick] = useState(0);
  const client = useRef<VerifyClient>(undefined);

  useEffect(() => () => client.current?.dispose(), []);
  // Float just below the toolbar and status line, however many rows a narrow window wraps them into.
  const [top, setTop] = useState<number>();
  useLayoutEffect(() => {
    const place = () => {
      const bottom = document.querySelector('.status-bar')?.getBoundingClientRect().bottom;
      setTop(bottom === undefined ? undefined : Math.round(bottom + 8));
    };
    place();
    window.addEventListener('resize', place);
    return () => window.removeEventListener('resize', place);
  }, []);
  const localRef = useRef<HTMLElement>(null);
  // A ticking clock while running: visible proof that the page is not blocked.
  useEffect(() => {
    if (!running) return;
    const t = setInterval(() => tick((n) => n + 1), 250);
    return () => clearInterval(t);
  }, [running]);

  const seed = parseSeed(seedText);
  const tolerance = parseTolerance(tolText);
  const sizes: Record<string, number> = {};
  let badSize: string | undefined;
  for (const d of dims) {
    const t = sizeText[d.key] ?? '1';
    if (!/^\d+$/.test(t.trim())) badSize = d.label;
    else sizes[d.key] = Number(t);
  }
  // The file's own problem is said beside its input; here only what stops the run.
  const badFile = mode === 'files' ? Object.entries(files).find(([, f]) => f.error)?.[0] : undefined;
  const fileError = badFile === undefined ? undefined : `Run verify needs a usable file for ${badFile} (its problem is said above).`;
  const invalid = seed === undefined ? 'The seed must be a whole number from 0 to 4294967295.'
    : tolerance === undefined ? 'The tolerance must be a number ≥ 0, e.g. 1e-5.'
    : badSize ? `The size of ${badSize} must be a whole number.` : fileError;
  const unfeedable = specs.find((s) => s.problem && !(mode === 'files' && files[s.name]?.tensor));

  const client$ = () => (client.current ??= new VerifyClient());
  const convertedBytes = () => (changed && model ? writeModel(model) : original!);

  const runVerify = async () => {
    if (!original || !model || invalid || seed === undefined || tolerance === undefined) return;
    setMessage(undefined);
    setReport(undefined);
    setRunning({ kind: 'verify', started: performance.now() });
    const fileFeeds = mode === 'files'
      ? Object.fromEntries(Object.entries(files).flatMap(([name, f]) => (f.tensor ? [[name, { dtype: f.tensor.dtype, dims: f.tensor.dims, data: f.tensor.data, source: f.fileName }]] : [])))
      : undefined;
    const at = model;
    try {
      // Weights kept in data files go to ONNX Runtime with the models.
      const external = await externalDataFiles(origModel ? [origModel, model] : [model]);
      if (external.missing.length) {
        throw new Error(`the model keeps weights in ${external.missing.join(', ')}, which ${external.missing.length > 1 ? 'were' : 'was'} not opened with it: open the .onnx together with its data files (the local check still works for slopes that were read)`);
      }
      const result = await client$().run<VerifyReport>(
        { kind: 'verify', original, converted: convertedBytes(), options: { mode: mode === 'edge' ? 'edge' : 'random', seed, sizes, tolerance, ...(fileFeeds ? { files: fileFeeds } : {}), ...(external.files.length ? { externalData: external.files } : {}) } },
        (e) => { if (e.kind === 'progress') setRunning((r) => (r ? { ...r, progress: e.progress } : r)); },
      );
      setReport({ report: result, model: at });
    } catch (e) {
      setMessage(e instanceof Cancelled ? 'Cancelled: the worker was stopped.' : `Verify could not run: ${(e as Error).message}`);
    } finally {
      setRunning(undefined);
    }
  };

  const runLocal = async (nodeIds?: string[]) => {
    if (!origModel || !model || seed === undefined || tolerance === undefined) return;
    setMessage(undefined);
    setRunning({ kind: 'local', started: performance.now() });
    const at = model;
    setLocal((l) => (l.model === at ? l : { results: {}, model: at }));
    try {
      // Two tiny models per node, built here (slopes kept in data files were read when the model opened).
      const items = buildLocalPairs(origModel, model, sizes, nodeIds ? new Set(nodeIds) : undefined);
      await client$().run<LocalResult[]>(
        { kind: 'local', items, seed, tolerance },
        (e) => {
          if (e.kind === 'progress') setRunning((r) => (r ? { ...r, progress: e.progress } : r));
          if (e.kind === 'local-result') setLocal((l) => ({ model: at, results: { ...(l.model === at ? l.results : {}), [e.result.nodeId]: e.result } }));
        },
      );
    } catch (e) {
      setMessage(e instanceof Cancelled ? 'Cancelled: the worker was stopped.' : `The local check could not run: ${(e as Error).message}`);
    } finally {
      setRunning(undefined);
    }
  };

  const pickFile = async (input: string, el: HTMLInputElement) => {
    const file = el.files?.[0];
    if (!file) return;
    setReport(undefined); // a result about other inputs must not sit under this file's verdict
    try {
      const tensor = parseTensorFile(new Uint8Array(await file.arrayBuffer()), file.name);
      const spec = specs.find((s) => s.name === input);
      const mismatch = spec && fileMismatch(spec, tensor, file.name);
      setFiles((f) => ({ ...f, [input]: mismatch ? { fileName: file.name, error: mismatch } : { fileName: file.name, tensor } }));
    } catch (e) {
      setFiles((f) => ({ ...f, [input]: { fileName: file.name, error: (e as Error).message } }));
    }
  };

  const stale = report && report.model !== model;
  const toCheck = rewritten.filter((r) => r.status !== 'unchanged');
  const localResults = local.model === model ? local.results : {};

  return (
    <section className="verify-panel" role="dialog" aria-modal="false" aria-label="Verify" style={top === undefined ? undefined : { top, maxHeight: `calc(100vh - ${top + 12}px)` }}>
      <header>
        <h2>Verify</h2>
        <button type="button" className="close" onClick={onClose} aria-label="Close Verify">×</button>
      </header>
      <p className="muted">
        Runs <strong>{fileName}</strong> as opened and {changed ? 'as it is now' : 'again (nothing has been changed yet)'} with ONNX Runtime (WebAssembly, in a worker) on the same inputs, and compares every output.
      </p>

      <fieldset disabled={!!running}>
        <legend>Inputs</legend>
        <label><input type="radio" name="verify-mode" checked={mode === 'random'} onChange={() => setMode('random')} /> Random values in [−2, 2)</label>
        <label><input type="radio" name="verify-mode" checked={mode === 'edge'} onChange={() => setMode('edge')} /> Edge values: NaN, ±inf, −0.0, ±max, subnormals, between random values</label>
        <label><input type="radio" name="verify-mode" checked={mode === 'files'} onChange={() => setMode('files')} /> From .npy / .pb files</label>
        <label className="inline">Seed <input type="text" inputMode="numeric" value={seedText} onChange={(e) => setSeedText(e.target.value)} aria-label="Seed" size={10} /></label>
        <ul className="verify-inputs">
          {specs.map((s) => (
            <li key={s.name}>
              <span className="mono">{s.name}</span> <span className="muted">{s.problem ? s.problem : `${dtypeName(s.dtype)} ${fmtShape(s.shape)}`}</span>
              {mode === 'files' && (
                <div>
                  <input type="file" accept=".npy,.pb" aria-label={`File for ${s.name}`} onChange={(e) => void pickFile(s.name, e.currentTarget)} />
                  {files[s.name]?.tensor && <span className="ok-text"> {files[s.name]!.fileName}: {dtypeName(files[s.name]!.tensor!.dtype)} {fmtShape(files[s.name]!.tensor!.dims)}</span>}
                  {files[s.name]?.error && <div className="error-inline">{files[s.name]!.error}</div>}
                  {!files[s.name] && <span className="muted"> no file: random values</span>}
                </div>
              )}
            </li>
          ))}
        </ul>
        {dims.length > 0 && (
          <div className="verify-dims">
            <span>Symbolic dimensions{mode === 'files' ? ' (a file fixes the ones it covers)' : ''}:</span>
            {dims.map((d) => (
              <label key={d.key} className="inline">
                {d.label} <input type="number" min={0} value={sizeText[d.key] ?? '1'} onChange={(e) => setSizeText((t) => ({ ...t, [d.key]: e.target.value }))} aria-label={`Size of ${d.label}`} />
              </label>
            ))}
          </div>
        )}
      </fieldset>

      <div className="verify-run">
        <label className="inline" title={CRITERION}>Tolerance T <input type="text" value={tolText} onChange={(e) => setTolText(e.target.value)} aria-label="Tolerance" size={8} disabled={!!running} /></label>
        <button type="button" className="primary" onClick={() => void runVerify()} disabled={!!running || !!invalid || !!unfeedable}>Run verify</button>
        <button type="button" onClick={() => client.current?.cancel()} disabled={!running}>Cancel</button>
      </div>
      <p className="muted small">{CRITERION}.</p>
      {invalid && <div className="error-inline">{invalid}</div>}
      {unfeedable && <div className="error-inline">Input {unfeedable.name} cannot be generated: {unfeedable.problem}{mode === 'files' ? '' : '. Choose "From files" and give it a file.'}</div>}

      <div aria-live="polite" className="verify-progress">
        {running && (
          <>
            <progress max={running.progress?.of || 1} value={running.progress?.step ?? 0} aria-label="Progress" />
            <span>{running.progress?.label ?? 'Starting the worker'}… {((performance.now() - running.started) / 1000).toFixed(1)} s</span>
          </>
        )}
        {message && <div className="muted">{message}</div>}
      </div>

      {report && <ReportView report={report.report} stale={!!stale} onLocal={() => { localRef.current?.scrollIntoView({ block: 'start', behavior: 'smooth' }); void runLocal(); }} canLocal={toCheck.length > 0 && !running} />}

      <section className="verify-local" aria-label="Local check" ref={localRef}>
        <h3>Local check</h3>
        <p className="muted small">
          Each rewritten PRelu alone: the original node and the nodes that replaced it, as two tiny models on the same values
          (edge values between random ones, seed {seedText}). Proves a model node by node, even one too heavy to run whole.
        </p>
        {toCheck.length === 0 ? <p className="muted">{rewritten.length ? (rewritten.length === 1 ? 'The PRelu node has not been rewritten yet.' : `None of the ${rewritten.length} PRelu nodes has been rewritten yet.`) : 'The model has no PRelu node.'}</p> : (
          <>
            <button type="button" onClick={() => void runLocal()} disabled={!!running || seed === undefined || tolerance === undefined}>Check {toCheck.length === 1 ? 'the rewritten node' : `all ${toCheck.length} rewritten nodes`}</button>
            <table className="verify-table local-table">
              <thead><tr><th>node</th><th>now</th><th>max abs</th><th>max rel</th><th>result</th><th /></tr></thead>
              <tbody>
                {toCheck.map((n) => {
                  const r = localResults[n.nodeId];
                  return (
                    <tr key={n.nodeId} data-node={n.name} className={r ? `r-${r.status}` : ''}>
                      <td className="mono">{n.name}</td>
                      <td className="mono small">{n.status === 'unsupported' ? <span className="warn">{n.reason}</span> : n.ops.join(', ')}</td>
                      <td className="num">{r?.comparison ? fmtError(r.comparison.maxAbs) : ''}</td>
                      <td className="num">{r?.comparison ? fmtError(r.comparison.maxRel) : ''}</td>
                      <td className="result" title={r?.note}>{r ? <LocalVerdict r={r} /> : ''}</td>
                      <td><button type="button" className="small" disabled={!!running} onClick={() => void runLocal([n.nodeId])} aria-label={`Check ${n.name}`}>Check</button></td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <LocalNotes results={Object.values(localResults)} />
          </>
        )}
      </section>
    </section>
  );
}

function LocalVerdict({ r }: { r: LocalResult }) {
  if (r.status === 'pass') return <span className="verdict pass">{r.against === 'intended-meaning' ? 'pass*' : 'pass'}</span>;
  if (r.status === 'skipped') return <span className="muted">skipped</span>;
  return <span className="verdict fail">{r.status === 'fail' ? 'FAIL' : 'cannot run'}</span>;
}

function LocalNotes({ results }: { results: LocalResult[] }) {
  const intended = results.filter((r) => r.against === 'intended-meaning');
  const odd = results.filter((r) => r.status !== 'pass' || r.comparison?.signedZero);
  if (!intended.length && !odd.length) return null;
  return (
    <ul className="verify-notes">
      {intended.length > 0 && <li>* ONNX Runtime cannot run the original node, so the rewritten nodes were compared with what it means — never with a faked original. {intended[0]!.note}.</li>}
      {odd.filter((r) => r.against !== 'intended-meaning' || r.status !== 'pass').slice(0, 5).map((r) => <li key={r.nodeId}><span className="mono">{r.name}</span>: {r.note}{r.comparison ? comparisonExtras(r.comparison) : ''}</li>)}
    </ul>
  );
}

function comparisonExtras(o: OutputComparison): string {
  const parts = [
    o.problem,
    o.nanMismatch ? `NaN in one model only at ${o.nanMismatch}` : '',
    o.outside && !o.problem ? `${o.outside} of ${o.count} outside tolerance` : '',
    o.worst && !o.pass ? `worst at [${o.worst.index}]: original ${fmtValue(o.worst.original)}, converted ${fmtValue(o.worst.converted)}` : '',
    o.signedZero ? `−0.0 vs +0.0 at ${o.signedZero} (within tolerance)` : '',
  ].filter(Boolean);
  return parts.length ? ` (${parts.join('; ')})` : '';
}

function ReportView({ report: r, stale, onLocal, canLocal }: { report: VerifyReport; stale: boolean; onLocal: () => void; canLocal: boolean }) {
  const verdict = r.status === 'pass' ? 'PASS' : r.status === 'fail' ? 'FAIL' : r.status === 'inconclusive' ? 'INCONCLUSIVE' : r.status === 'original-cannot-run' ? 'NOT COMPARED' : 'FAIL';
  return (
    <section className="verify-report" aria-label="Verify result">
      <p className={`verify-verdict ${r.status}`} data-verify-status={r.status}>
        <strong>{verdict}</strong> {r.summary}
      </p>
      {stale && <p className="warn">The model has changed since this run: run it again.</p>}
      <ul className="verify-used small">
        {r.inputs.map((i) => <li key={i.name}><span className="mono">{i.name}</span> {i.dtype} {fmtShape(i.dims)}: {i.source}</li>)}
        {r.millis.original !== undefined && <li className="muted">original {Math.round(r.millis.original)} ms, converted {Math.round(r.millis.converted ?? 0)} ms</li>}
      </ul>
      {r.status === 'original-cannot-run' && (
        <div className="verify-cannot">
          <p><strong>The original model cannot run in ONNX Runtime</strong>, so nothing was compared — this is not a pass.</p>
          <p className="mono small">{r.originalError}</p>
          {r.originalWhy && r.originalWhy.length > 0 && (<><p>Why, by the ONNX Runtime target:</p><ul>{r.originalWhy.slice(0, 6).map((w) => <li key={w}>{w}</li>)}{r.originalWhy.length > 6 && <li>… and {r.originalWhy.length - 6} more</li>}</ul></>)}
          {r.convertedError && <p>The converted model does not run either: <span className="mono small">{r.convertedError}</span></p>}
          <button type="button" onClick={onLocal} disabled={!canLocal}>Run the local check: each rewritten node against what the original node means</button>
        </div>
      )}
      {r.status === 'converted-cannot-run' && <div className="verify-cannot"><p><strong>The converted model cannot run in ONNX Runtime</strong>, while the original can:</p><p className="mono small">{r.convertedError}</p></div>}
      {r.outputs.length > 0 && (
        <table className="verify-table outputs-table">
          <thead><tr><th>output</th><th>shape</th><th>max abs</th><th>max rel</th><th>result</th></tr></thead>
          <tbody>
            {r.outputs.map((o) => (
              <tr key={o.name} data-output={o.name} className={o.pass ? 'r-pass' : 'r-fail'}>
                <td className="mono">{o.name}</td>
                <td className="mono small">{o.dtype} {fmtShape(o.shape)}</td>
                <td className="num max-abs">{fmtError(o.maxAbs)}</td>
                <td className="num max-rel">{fmtError(o.maxRel)}</td>
                <td className="result"><span className={`verdict ${o.pass ? 'pass' : 'fail'}`}>{o.pass ? 'pass' : 'FAIL'}</span><span className="small muted">{comparisonExtras(o)}{o.nanBoth ? ` NaN in both at ${o.nanBoth}.` : ''}</span></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
