// The About dialog: what OpFit is, and why no byte of a model leaves the machine — with the facts
// the page can show about itself (the Content-Security-Policy in force, whether the offline cache
// is ready, what is kept in this browser's storage) and a button to forget the kept model.
import { useEffect, useState } from 'react';
import { forgetSession, loadSession } from './persist';

export function AboutButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" onClick={() => setOpen(true)} aria-haspopup="dialog">About</button>
      {open && <AboutDialog onClose={() => setOpen(false)} />}
    </>
  );
}

function cspInForce(): string | undefined {
  return document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? undefined;
}

function AboutDialog({ onClose }: { onClose: () => void }) {
  const [offline, setOffline] = useState<'ready' | 'installing' | 'none'>('none');
  const [kept, setKept] = useState<string>();
  const csp = cspInForce();
  const connect = csp?.split(';').map((d) => d.trim()).find((d) => d.startsWith('connect-src'));

  useEffect(() => {
    if ('serviceWorker' in navigator) {
      void navigator.serviceWorker.getRegistration().then((r) => setOffline(r?.active ? 'ready' : r ? 'installing' : 'none'));
    }
    void loadSession().then((s) => setKept(s ? `${s.fileName}, ${s.past.length ? `with ${s.past.length} edit${s.past.length === 1 ? '' : 's'} to undo` : 'not edited yet'}` : undefined)).catch(() => setKept(undefined));
    const onKey = (e: KeyboardEvent) => { if (e.key === 'Escape') onClose(); };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  return (
    <div className="dialog-backdrop" onClick={(e) => { if (e.target === e.currentTarget) onClose(); }}>
      <div role="dialog" aria-modal="true" aria-label="About OpFit" className="dialog about">
        <h2>About OpFit</h2>
        <p>
          OpFit makes an ONNX model fit its deployment target: it shows which nodes a target cannot run (PReLU above all),
          rewrites them into forms the target has, checks that nothing changed numerically, and downloads the result.
        </p>
        <h3 style={{ fontSize: 15, margin: '14px 0 4px' }}>Your model never leaves this machine</h3>
        <ul>
          <li>The file is read by this page; there is no server behind OpFit, and nothing is uploaded.</li>
          <li>
            The page may connect to nothing but the place it was loaded from: its Content-Security-Policy says{' '}
            <code>{connect ?? "connect-src 'self'"}</code>, so the browser itself blocks any other connection.
          </li>
          <li>ONNX Runtime, which Verify runs, is served by the app itself, never by a CDN, and runs in this tab.</li>
          <li>
            The open model and its edit history are kept in this browser's own storage (IndexedDB) so that a reload loses
            nothing{kept ? <> — now: <strong>{kept}</strong></> : ''}.
          </li>
          <li>
            Once loaded, OpFit works offline and can be installed as an app:{' '}
            <strong>{offline === 'ready' ? 'this copy is ready to work offline' : offline === 'installing' ? 'the offline copy is being prepared' : 'offline use is not available in this browser window'}</strong>.
          </li>
        </ul>
        {csp && (
          <details>
            <summary>The full Content-Security-Policy</summary>
            <code className="csp">{csp}</code>
          </details>
        )}
        <div className="dialog-buttons">
          <button
            type="button"
            disabled={!kept}
            onClick={() => void forgetSession().then(() => setKept(undefined))}
            title="Removes the kept copy from this browser's storage; the open model stays open, and the next edit is kept again."
          >
            Forget the kept model
          </button>
          <button type="button" onClick={onClose}>Close</button>
        </div>
      </div>
    </div>
  );
}
