import { useState } from 'react';
import { useStore } from './store';
import { INCOMPATIBLE } from '../targets/check';

/** The live region: how many nodes the target cannot run, and what the last action did. */
export function StatusLine() {
  const model = useStore((s) => s.model);
  const findings = useStore((s) => s.findings);
  const notice = useStore((s) => s.notice);
  const notes = useStore((s) => s.noticeNotes);
  // By name, custom targets included.
  const name = useStore((s) => s.targetProfile(s.targetId).name);
  const bad = findings.filter((f) => INCOMPATIBLE.has(f.status)).length;
  const undecided = findings.length - bad;
  const text = !model
    ? 'No model open.'
    : `${bad.toLocaleString('en-US')} ${bad === 1 ? 'node is' : 'nodes are'} incompatible with ${name}.` +
      (undecided ? ` ${undecided.toLocaleString('en-US')} could not be checked.` : '');
  return (
    <div className="status-bar">
      <p role="status" aria-live="polite" className={bad ? 'bad' : undecided ? 'unsure' : 'good'} data-incompatible={bad}>{text}</p>
      {notice && <p className="notice" title={notice}>{notice}</p>}
      {notice && notes && <AllNotes key={notice} notes={notes} />}
    </div>
  );
}

/** Every note of the last action (thousands after Fix all on a big graph): listed only when opened. */
function AllNotes({ notes }: { notes: string[] }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="all-notes" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>All {notes.length.toLocaleString('en-US')} notes</summary>
      {open && <ol>{notes.map((n, i) => <li key={i}>{n}</li>)}</ol>}
    </details>
  );
}
