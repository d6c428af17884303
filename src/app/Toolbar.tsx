import { useState } from 'react';
import { useStore } from './store';
import { TargetEditor } from './TargetEditor';
import { TARGETS } from '../targets/registry';
import { openFile, saveBytes } from './files';
import { VerifyButton } from './VerifyPanel';
import { AboutButton } from './About';

export function Toolbar() {
  const targetId = useStore((s) => s.targetId);
  const hasModel = useStore((s) => !!s.model);
  const canUndo = useStore((s) => s.past.length > 0);
  const canRedo = useStore((s) => s.future.length > 0);
  const fileName = useStore((s) => s.fileName);
  const custom = useStore((s) => s.customTargets);
  const [editing, setEditing] = useState(false);
  const { setTarget, fixAll, fuse, undo, redo, download } = useStore.getState();

  return (
    <header className="toolbar">
      <h1>OpFit</h1>
      <label className="button">
        Open model
        <input type="file" multiple accept=".onnx,application/octet-stream" className="visually-hidden" onChange={(e) => openFile(e.currentTarget)} />
      </label>
      <span className="file-name" title={fileName}>{fileName ?? 'no model'}</span>
      <label className="target">
        Target
        <select value={targetId} onChange={(e) => setTarget(e.target.value)}>
          <optgroup label="Built-in">
            {TARGETS.map((t) => (
              <option key={t.id} value={t.id}>{t.name}</option>
            ))}
          </optgroup>
          {custom.length > 0 && (
            <optgroup label="Custom">
              {custom.map((t) => (
                <option key={t.id} value={t.id}>{t.name}</option>
              ))}
            </optgroup>
          )}
        </select>
      </label>
      <button type="button" onClick={() => setEditing(true)}>Custom target…</button>
      {editing && <TargetEditor onClose={() => setEditing(false)} />}
      <button type="button" onClick={fixAll} disabled={!hasModel}>Fix all</button>
      <button type="button" onClick={fuse} disabled={!hasModel} title="Fold decomposed PReLU patterns (Where, Max/Min, two-ReLU forms) back into PRelu, for targets that run PRelu natively">
        Fuse PReLU
      </button>
      <button type="button" onClick={undo} disabled={!canUndo} title="Ctrl+Z">Undo</button>
      <button type="button" onClick={redo} disabled={!canRedo} title="Ctrl+Shift+Z">Redo</button>
      <button
        type="button"
        disabled={!hasModel}
        onClick={() => {
          const out = download();
          if (out) saveBytes(out.chunks, out.name);
        }}
      >
        Download
      </button>
      <VerifyButton />
      <AboutButton />
    </header>
  );
}
