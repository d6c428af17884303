import { useState } from 'react';
import { useStore } from './store';
import { TARGETS } from '../targets/registry';
import type { PreluRule, TargetProfile } from '../targets/types';
import { parseProfileFile, slugify } from './custom-targets';
import { saveText } from './files';

const LAYOUTS = ['scalar', 'channel', 'last-axis', 'elementwise'] as const;
const DTYPES = ['float32', 'float16', 'bfloat16', 'float64', 'int8', 'int32', 'int64'];
/** Rule kinds this editor sets; the base profile's other rules (and their sources) are kept. */
const EDITED = new Set<PreluRule['kind']>(['supported', 'min-opset', 'dtypes', 'slope-constant', 'slope-layouts', 'x-ranks']);

interface Draft {
  baseId: string;
  name: string;
  runsPrelu: boolean;
  minOpset: string;
  slopeConstant: boolean;
  layouts: string[];
  dtypes: string[];
  rankMin: string;
  rankMax: string;
  forbid: string;
  allow: string;
}

function draftFrom(p: TargetProfile, name: string): Draft {
  const rule = <K extends PreluRule['kind']>(k: K) => p.prelu.find((r) => r.kind === k) as Extract<PreluRule, { kind: K }> | undefined;
  const layouts = rule('slope-layouts');
  const ranks = rule('x-ranks');
  return {
    baseId: p.id,
    name,
    runsPrelu: !p.unsupportedOps.some((u) => u.op === 'PRelu'),
    minOpset: String(rule('min-opset')?.opset ?? ''),
    slopeConstant: !!rule('slope-constant'),
    layouts: layouts ? [...layouts.allowed] : [...LAYOUTS],
    dtypes: rule('dtypes')?.allowed ?? [],
    rankMin: ranks ? String(ranks.min) : '',
    rankMax: ranks ? String(ranks.max) : '',
    forbid: p.unsupportedOps.filter((u) => u.op !== 'PRelu').map((u) => u.op).join(', '),
    allow: (p.allowOps ?? []).map((a) => a.op).join(', '),
  };
}

const opList = (s: string) => s.split(/[\s,]+/).map((x) => x.trim()).filter(Boolean);

function profileFrom(d: Draft, base: TargetProfile): TargetProfile {
  const src = `User-defined in OpFit (custom target "${d.name}")`;
  const prelu: PreluRule[] = [];
  if (d.runsPrelu) {
    if (d.minOpset) prelu.push({ kind: 'min-opset', opset: Number(d.minOpset), source: src });
    if (d.dtypes.length) prelu.push({ kind: 'dtypes', allowed: d.dtypes, source: src });
    if (d.slopeConstant) prelu.push({ kind: 'slope-constant', source: src });
    if (d.layouts.length < LAYOUTS.length) prelu.push({ kind: 'slope-layouts', allowed: d.layouts as ('scalar' | 'channel' | 'last-axis' | 'elementwise')[], source: src });
    if (d.rankMin || d.rankMax) prelu.push({ kind: 'x-ranks', min: Number(d.rankMin || 0), max: Number(d.rankMax || 8), source: src });
    prelu.push(...base.prelu.filter((r) => !EDITED.has(r.kind)));
    if (prelu.length === 0) prelu.push({ kind: 'supported', source: src });
  }
  const forbid = opList(d.forbid).map((op) => ({ op, reason: `${op} is forbidden on this custom target.`, source: src }));
  const keptBase = base.unsupportedOps.filter((u) => u.op !== 'PRelu' && opList(d.forbid).includes(u.op));
  const unsupportedOps = [
    ...(d.runsPrelu ? [] : [{ op: 'PRelu', reason: `The custom target "${d.name}" has no PRelu.`, source: src }]),
    ...keptBase,
    ...forbid.filter((f) => !keptBase.some((k) => k.op === f.op)),
  ];
  return {
    id: `custom-${slugify(d.name)}`,
    name: d.name,
    version: 'custom',
    description: `Custom target based on ${base.name}.`,
    sources: [...base.sources, src],
    unsupportedOps,
    allowOps: opList(d.allow).map((op) => ({ op })),
    prelu,
    ...(base.ops ? { ops: base.ops } : {}),
  };
}

/** Build a target from any profile, keep it in this browser, export and import it as JSON. */
export function TargetEditor({ onClose }: { onClose: () => void }) {
  const store = useStore();
  const all = [...TARGETS, ...store.customTargets];
  const current = store.targetProfile();
  const [draft, setDraft] = useState<Draft>(() => draftFrom(current, current.version === 'custom' ? current.name : `My ${current.name}`));
  const [error, setError] = useState<string>();
  const set = (patch: Partial<Draft>) => setDraft((d) => ({ ...d, ...patch }));
  const base = all.find((t) => t.id === draft.baseId) ?? current;
  const toggleIn = (list: string[], v: string, on: boolean) => (on ? [...new Set([...list, v])] : list.filter((x) => x !== v));

  const build = (): TargetProfile | undefined => {
    if (!draft.name.trim()) { setError('Give the target a name.'); return undefined; }
    try {
      const p = profileFrom({ ...draft, name: draft.name.trim() }, base);
      setError(undefined);
      return p;
    } catch (e) {
      setError((e as Error).message);
      return undefined;
    }
  };

  const importFile = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    try {
      const p = parseProfileFile(await file.text(), file.name);
      store.saveCustomTarget(p);
      setDraft(draftFrom(p, p.name));
      setError(undefined);
    } catch (e) {
      setError((e as Error).message);
    }
  };

  return (
    <div className="dialog-backdrop">
      <div role="dialog" aria-modal="true" aria-label="Custom target" className="dialog">
        <h2>Custom target</h2>
        {error && <p className="error-inline" role="alert">{error}</p>}
        <div className="form-grid">
          <label>Start from
            <select value={draft.baseId} onChange={(e) => { const p = all.find((t) => t.id === e.target.value)!; setDraft(draftFrom(p, draft.name)); }}>
              {all.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
            </select>
          </label>
          <label>Name <input value={draft.name} onChange={(e) => set({ name: e.target.value })} /></label>
        </div>
        <fieldset>
          <legend>PRelu</legend>
          <label><input type="checkbox" checked={draft.runsPrelu} onChange={(e) => set({ runsPrelu: e.target.checked })} /> Runs PRelu</label>
          {draft.runsPrelu && (
            <>
              <label><input type="checkbox" checked={draft.slopeConstant} onChange={(e) => set({ slopeConstant: e.target.checked })} /> Slope must be constant</label>
              <div className="checks" role="group" aria-label="Allowed slope layouts">
                Slope layouts:
                {LAYOUTS.map((l) => (
                  <label key={l}><input type="checkbox" checked={draft.layouts.includes(l)} onChange={(e) => set({ layouts: toggleIn(draft.layouts, l, e.target.checked) })} /> {l}</label>
                ))}
              </div>
              <div className="checks" role="group" aria-label="Input types">
                Types (none = any):
                {DTYPES.map((t) => (
                  <label key={t}><input type="checkbox" checked={draft.dtypes.includes(t)} onChange={(e) => set({ dtypes: toggleIn(draft.dtypes, t, e.target.checked) })} /> {t}</label>
                ))}
              </div>
              <div className="form-grid">
                <label>Input rank from <input type="number" min={0} max={8} value={draft.rankMin} onChange={(e) => set({ rankMin: e.target.value })} /></label>
                <label>to <input type="number" min={0} max={8} value={draft.rankMax} onChange={(e) => set({ rankMax: e.target.value })} /></label>
                <label>Minimum opset <input type="number" min={1} max={30} value={draft.minOpset} onChange={(e) => set({ minOpset: e.target.value })} /></label>
              </div>
            </>
          )}
        </fieldset>
        <fieldset>
          <legend>Other ops</legend>
          <label>Forbid ops <input value={draft.forbid} placeholder="e.g. Where, Max" onChange={(e) => set({ forbid: e.target.value })} /></label>
          <label>Allow ops <input value={draft.allow} placeholder="e.g. Conv, Relu" onChange={(e) => set({ allow: e.target.value })} /></label>
        </fieldset>
        <div className="dialog-buttons">
          <button type="button" onClick={() => { const p = build(); if (p) { store.saveCustomTarget(p); onClose(); } }}>Save and use</button>
          <button type="button" onClick={() => { const p = build(); if (p) saveText(JSON.stringify(p, null, 2), `${p.id}.json`, 'application/json'); }}>Export JSON</button>
          <label className="button">Import target
            <input type="file" accept=".json,application/json" className="visually-hidden" onChange={(e) => void importFile(e.currentTarget)} />
          </label>
          {current.version === 'custom' && <button type="button" onClick={() => { store.deleteCustomTarget(current.id); onClose(); }}>Delete {current.name}</button>}
          <button type="button" onClick={onClose}>Close</button>
        </div>
      </div>
    </div>
  );
}
