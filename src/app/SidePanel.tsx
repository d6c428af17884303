import { useStore } from './store';
import { FindingsPanel } from './FindingsPanel';
import { ReportPanel } from './ReportPanel';
import { ComparePanel } from './ComparePanel';

const TABS = [
  { id: 'findings', label: 'Findings' },
  { id: 'report', label: 'Report' },
  { id: 'compare', label: 'Compare' },
] as const;

export function SidePanel() {
  const tab = useStore((s) => s.sideTab);
  const setTab = useStore((s) => s.setSideTab);
  return (
    <aside className={`panel side side-${tab}`} aria-label="Compatibility">
      <div role="tablist" aria-label="Compatibility views" className="tabs">
        {TABS.map((t) => (
          <button key={t.id} type="button" role="tab" id={`tab-${t.id}`} aria-selected={tab === t.id} aria-controls={`tabpanel-${t.id}`} onClick={() => setTab(t.id)}>
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`tabpanel-${tab}`} aria-labelledby={`tab-${tab}`}>
        {tab === 'findings' && <FindingsPanel />}
        {tab === 'report' && <ReportPanel />}
        {tab === 'compare' && <ComparePanel />}
      </div>
    </aside>
  );
}
