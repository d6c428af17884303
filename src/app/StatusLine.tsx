import { useStore } from './store';
import { INCOMPATIBLE } from '../targets/check';
import { findTarget } from '../targets/registry';

/** The live region: how many nodes the target cannot run, and what the last action did. */
export function StatusLine() {
  const model = useStore((s) => s.model);
  const findings = useStore((s) => s.findings);
  const targetId = useStore((s) => s.targetId);
  const notice = useStore((s) => s.notice);
  const name = findTarget(targetId)?.name ?? targetId;
  const bad = findings.filter((f) => INCOMPATIBLE.has(f.status)).length;
  const undecided = findings.length - bad;
  const text = !model
    ? 'No model open.'
    : `${bad} ${bad === 1 ? 'node is' : 'nodes are'} incompatible with ${name}.` +
      (undecided ? ` ${undecided} could not be checked.` : '');
  return (
    <div className="status-bar">
      <p role="status" aria-live="polite" className={bad ? 'bad' : 'good'} data-incompatible={bad}>{text}</p>
      {notice && <p className="notice" title={notice}>{notice}</p>}
    </div>
  );
}
