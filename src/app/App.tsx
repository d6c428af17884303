import { useEffect } from 'react';
import { ReactFlowProvider } from '@xyflow/react';
import { useStore } from './store';
import { Toolbar } from './Toolbar';
import { Canvas } from './Canvas';
import { SidePanel } from './SidePanel';
import { DetailsPanel } from './DetailsPanel';
import { StatusLine } from './StatusLine';
import { useFileDrop, openFile } from './files';

const SAMPLE = 'sample-prelu.onnx';

/** `restoring` resolves to whether the model kept from the last visit was restored (persist.ts). */
export function App({ restoring = Promise.resolve(false) }: { restoring?: Promise<boolean> }) {
  const model = useStore((s) => s.model);
  const dragging = useFileDrop();

  // First run: open the bundled sample so the whole flow can be tried at once. Not before the kept
  // model is restored or known to be absent: a kept model of 1 MB or more decodes in slices, and
  // the sample arriving meanwhile would win over it.
  useEffect(() => {
    if (useStore.getState().model) return;
    const ctrl = new AbortController();
    const sample = fetch(`${import.meta.env.BASE_URL}${SAMPLE}`, { signal: ctrl.signal })
      .then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))));
    Promise.all([sample, restoring])
      .then(([buf, restored]) => {
        const s = useStore.getState();
        if (!restored && !s.model && !s.loading && !ctrl.signal.aborted) void s.open(new Uint8Array(buf), SAMPLE);
      })
      .catch(() => { /* no sample: the empty state says how to open a model */ });
    return () => ctrl.abort();
  }, [restoring]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const key = e.key.toLowerCase();
      if (!(e.ctrlKey || e.metaKey) || (key !== 'z' && key !== 'y')) return;
      if ((e.target as HTMLElement).closest('input:not([type=checkbox]), textarea')) return;
      e.preventDefault();
      if (e.shiftKey || key === 'y') useStore.getState().redo();
      else useStore.getState().undo();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <ReactFlowProvider>
      <div className={`app${dragging ? ' dragging' : ''}`}>
        <Toolbar />
        <ErrorBanner />
        <LoadProgress />
        <StatusLine />
        <main className="workspace">
          <SidePanel />
          <section className="canvas-wrap" aria-label="Graph">
            {model ? <Canvas /> : <EmptyState />}
          </section>
          <DetailsPanel />
        </main>
        {dragging && <div className="drop-overlay">Drop an .onnx file to open it</div>}
      </div>
    </ReactFlowProvider>
  );
}

/** Reading a big file: how far, and Cancel. Checking a big graph: that it is under way. */
function LoadProgress() {
  const loading = useStore((s) => s.loading);
  const targetName = useStore((s) => s.targetProfile(s.targetId).name);
  if (!loading) return null;
  if (loading.decoding) {
    return (
      <div className="loading-bar">
        <label>Reading the graph of {loading.name}… <progress aria-label={`Reading the graph of ${loading.name}`} /></label>
      </div>
    );
  }
  if (loading.checking) {
    return (
      <div className="loading-bar">
        <label>Checking {loading.name} against {targetName}… <progress aria-label={`Checking ${loading.name}`} /></label>
      </div>
    );
  }
  const pct = loading.total ? Math.floor((loading.loaded / loading.total) * 100) : 0;
  return (
    <div className="loading-bar">
      <label>Reading {loading.name}… <progress max={loading.total} value={loading.loaded} aria-label={`Reading ${loading.name}`} /> {pct}%</label>
      <button type="button" onClick={loading.cancel}>Cancel</button>
    </div>
  );
}

function ErrorBanner() {
  const error = useStore((s) => s.error);
  const dismiss = useStore((s) => s.dismissError);
  if (!error) return null;
  return (
    <div className="error" role="alert">
      <span>{error}</span>
      <button type="button" onClick={dismiss} aria-label="Dismiss message">×</button>
    </div>
  );
}

function EmptyState() {
  return (
    <div className="empty">
      <p>Drop an ONNX model anywhere on the page, or</p>
      <label className="button">
        Choose a file…
        <input type="file" multiple accept=".onnx,application/octet-stream" hidden onChange={(e) => openFile(e.currentTarget)} />
      </label>
      <p className="muted">Nothing is uploaded: the model stays in this browser tab.</p>
    </div>
  );
}
