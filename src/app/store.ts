// The one store: document, edit history, target, findings, selection. Model logic stays in the
// core modules; this file only calls them and keeps the results.
import { create } from 'zustand';
import type { ModelProto } from 'onnx-buf';
import { readModel, saveModelChunks, ModelReadError } from '../onnx/model';
import { connectDataFiles, externalLocations, type DataFile } from '../onnx/external';
import { graphAt, type GraphPath } from '../graph/scope';
import { checkModel, checkModelSliced, type Finding } from '../targets/check';
import { findTarget, TARGETS } from '../targets/registry';
import type { TargetProfile } from '../targets/types';
import { applyRewrites, RewriteRefused, type Pick } from '../rewrites/engine';
import { fixAll } from '../rewrites/choose';
import { fuseAll } from '../rewrites/fuse-all';
import { loadCustomTargets, saveCustomTargets } from './custom-targets';
import { rewriteBlockers } from '../graph/validate';

interface Snapshot {
  model: ModelProto;
  /** What the edit that produced this model did, for the history and the status line. */
  label: string;
}

export interface AppState {
  /**
   * A file being read (big files: with progress and Cancel, set by files.ts), or a big graph being
   * checked after it opened (`checking`; no progress, no Cancel: it takes well under a second).
   */
  loading?: { name: string; loaded: number; total: number; cancel?(): void; checking?: boolean };
  fileName?: string;
  /** The bytes as opened: saved as they are while nothing has changed. */
  original?: Uint8Array;
  model?: ModelProto;
  past: Snapshot[];
  future: Snapshot[];
  targetId: string;
  findings: Finding[];
  selected?: string;
  /** Bumped to ask the canvas to centre on the selection. */
  focusTick: number;
  viewPath: GraphPath;
  error?: string;
  notice?: string;
  /** User-made targets (localStorage), listed after the built-in ones. */
  customTargets: TargetProfile[];
  /** Nodes the canvas highlights (the others are dimmed), e.g. from a report row. */
  filter?: { label: string; nodeIds: string[] };
  sideTab: 'findings' | 'report' | 'compare';
  compareIds: string[];

  /** `dataFiles`: external data files picked or dropped with the model (see src/onnx/external.ts). */
  open(bytes: Uint8Array, fileName: string, dataFiles?: DataFile[]): void;
  setTarget(id: string): void;
  select(id: string | undefined, focus?: boolean): void;
  enterGraph(path: GraphPath): void;
  rewrite(picks: Pick[]): void;
  fixAll(): void;
  /** Folds decomposed PReLU patterns back into PRelu, for targets that run PRelu natively. */
  fuse(): void;
  undo(): void;
  redo(): void;
  dismissError(): void;
  /** The file to save, as chunks for `new Blob(chunks)`: unchanged parts are views of the opened file. */
  download(): { chunks: Uint8Array[]; name: string } | undefined;
  setFilter(filter: AppState['filter']): void;
  setSideTab(tab: AppState['sideTab']): void;
  setCompareIds(ids: string[]): void;
  saveCustomTarget(profile: TargetProfile): void;
  deleteCustomTarget(id: string): void;
  targetProfile(id?: string): TargetProfile;
}

/** Graphs from this many nodes (all graphs and functions together) are checked in slices when opened. */
const SLICED_FROM = 3000;

function nodeCount(model: ModelProto): number {
  let n = model.graph?.node.length ?? 0;
  for (const f of model.functions) n += f.node.length;
  return n;
}

export const useStore = create<AppState>()((set, get) => {
  /** The view path if it still leads to a graph in `model`, else the main graph. */
const keepPath = (model: ModelProto, path: GraphPath): GraphPath => {
  try {
    graphAt(model, path);
    return path;
  } catch {
    return [];
  }
};

const target = (id: string) => get().customTargets.find((t) => t.id === id) ?? findTarget(id) ?? TARGETS[0]!;

  /**
   * The check after a model opens. Graphs from SLICED_FROM nodes are checked a slice at a time
   * (checkModelSliced), so a 50,000-node graph does not hold the page for a quarter of a second; the
   * canvas is not ready until the findings are in. Anything that sets findings itself (a target, an
   * edit, undo) supersedes a running check.
   */
  let checkRun: AbortController | undefined;
  const supersedeCheck = () => {
    checkRun?.abort();
    checkRun = undefined;
    set(doneChecking());
  };
  /** Clears the check's bar, not the bar of a file read that started meanwhile. */
  const doneChecking = () => (get().loading?.checking ? { loading: undefined } : {});
  const checkOpened = (model: ModelProto, name: string): Finding[] => {
    supersedeCheck();
    if (nodeCount(model) < SLICED_FROM) return checkModel(model, target(get().targetId));
    const run = (checkRun = new AbortController());
    const targetId = get().targetId;
    set({ loading: { name, loaded: 0, total: 0, checking: true } });
    checkModelSliced(model, target(targetId), { signal: run.signal }).then(
      (findings) => {
        if (run.signal.aborted) return;
        checkRun = undefined;
        set({ findings, ...doneChecking() });
      },
      (e: Error) => {
        if (run.signal.aborted) return;
        checkRun = undefined;
        set({ ...doneChecking(), error: `${name} opened, but checking it against ${target(targetId).name} failed: ${e.message}. Choose the target again to retry.` });
      },
    );
    return [];
  };
  /** Replace the model by an edit's result, keeping the old one for undo. */
  const commit = (model: ModelProto, label: string) => {
    const { model: before, past, targetId } = get();
    if (!before) return;
    supersedeCheck();
    set({
      model,
      past: [...past, { model: before, label }],
      future: [],
      findings: checkModel(model, target(targetId)),
      notice: label,
      filter: undefined,
      error: undefined,
    });
  };

  return {
    past: [],
    future: [],
    targetId: 'onnxruntime',
    findings: [],
    focusTick: 0,
    viewPath: [],
    customTargets: loadCustomTargets(),
    sideTab: 'findings',
    compareIds: ['onnxruntime', 'tensorrt-8'],

    open(bytes, fileName, dataFiles = []) {
      try {
        const model = readModel(bytes, fileName);
        const data = connectDataFiles(model, fileName, dataFiles);
        set({
          fileName, original: bytes, model, past: [], future: [], selected: undefined, viewPath: [], filter: undefined,
          findings: [], error: data.message,
          notice: `Opened ${fileName}${dataFiles.length ? ` with ${dataFiles.map((f) => f.name).join(', ')}` : ''}`,
        });
        set({ findings: checkOpened(model, fileName) });
        // Slopes kept in data files are read ahead asynchronously: check again once they are in.
        void data.ready?.then(() => {
          const s = get();
          if (s.original === bytes && s.model) set({ findings: checkOpened(s.model, fileName) });
        });
      } catch (e) {
        // The model the user had stays open: a bad file only costs a message.
        const message = e instanceof ModelReadError ? e.message : `${fileName} could not be opened: ${(e as Error).message}`;
        set({ error: message });
      }
    },

    setTarget(id) {
      const { model } = get();
      supersedeCheck();
      set({ targetId: id, findings: model ? checkModel(model, target(id)) : [], filter: undefined });
    },

    select(id, focus = false) {
      set((s) => ({ selected: id, focusTick: focus ? s.focusTick + 1 : s.focusTick }));
    },

    enterGraph(path) {
      set({ viewPath: path, selected: undefined });
    },

    rewrite(picks) {
      const { model, targetId } = get();
      if (!model) return;
      const blocked = rewriteBlockers(model);
      if (blocked) return set({ error: `Not rewritten: ${blocked}` });
      try {
        const r = applyRewrites(model, picks, target(targetId));
        commit(r.model, r.notes.join(' '));
      } catch (e) {
        if (e instanceof RewriteRefused) set({ error: `Not rewritten: ${e.message}` });
        else set({ error: `Rewrite failed, model unchanged: ${(e as Error).message}` });
      }
    },

    fixAll() {
      const { model, targetId } = get();
      if (!model) return;
      const blocked = rewriteBlockers(model);
      if (blocked) return set({ error: `Nothing fixed: ${blocked}` });
      try {
        const r = fixAll(model, target(targetId));
        const unfixed = r.unfixed.map((u) => `${u.node}: ${u.why}`).join('; ');
        if (r.picks.length === 0) {
          set(unfixed ? { error: `Nothing could be fixed: ${unfixed}` } : { notice: 'Nothing to fix for this target.' });
          return;
        }
        commit(r.model, `Fixed ${r.picks.length} node(s). ${r.notes.join(' ')}`);
        if (unfixed) set({ error: `Not fixed: ${unfixed}` });
      } catch (e) {
        set({ error: `Fix all failed, model unchanged: ${(e as Error).message}` });
      }
    },

    fuse() {
      const { model, targetId } = get();
      if (!model) return;
      const blocked = rewriteBlockers(model);
      if (blocked) return set({ error: `Nothing fused: ${blocked}` });
      try {
        const r = fuseAll(model, target(targetId));
        const skipped = r.skipped.map((s) => s.why).filter((w, i, a) => a.indexOf(w) === i).slice(0, 3).join('; ');
        if (r.fused.length === 0) {
          set({ notice: r.notes[0] ?? `No decomposed PReLU pattern to fuse${skipped ? ` (left alone: ${skipped})` : ''}.` });
          return;
        }
        commit(r.model, `Fused ${r.fused.length} decomposed PReLU pattern(s) into PRelu. ${r.notes.join(' ')}`);
      } catch (e) {
        set({ error: `Fusion failed, model unchanged: ${(e as Error).message}` });
      }
    },

    undo() {
      const { past, future, model, targetId } = get();
      const last = past.at(-1);
      if (!last || !model) return;
      supersedeCheck();
      set({
        model: last.model, past: past.slice(0, -1), future: [{ model, label: last.label }, ...future],
        findings: checkModel(last.model, target(targetId)), notice: `Undid: ${last.label}`, selected: undefined, viewPath: keepPath(last.model, get().viewPath), filter: undefined,
      });
    },

    redo() {
      const { past, future, model, targetId } = get();
      const next = future[0];
      if (!next || !model) return;
      supersedeCheck();
      set({
        model: next.model, past: [...past, { model, label: next.label }], future: future.slice(1),
        findings: checkModel(next.model, target(targetId)), notice: `Redid: ${next.label}`, selected: undefined, viewPath: keepPath(next.model, get().viewPath), filter: undefined,
      });
    },

    setFilter(filter) {
      set({ filter });
    },

    setSideTab(sideTab) {
      set({ sideTab });
    },

    setCompareIds(compareIds) {
      set({ compareIds });
    },

    saveCustomTarget(profile) {
      const list = [...get().customTargets.filter((t) => t.id !== profile.id), profile];
      saveCustomTargets(list);
      set({ customTargets: list, notice: `Saved target ${profile.name}` });
      get().setTarget(profile.id);
    },

    deleteCustomTarget(id) {
      const list = get().customTargets.filter((t) => t.id !== id);
      saveCustomTargets(list);
      set({ customTargets: list });
      if (get().targetId === id) get().setTarget('onnxruntime');
    },

    targetProfile(id) {
      return target(id ?? get().targetId);
    },

    dismissError() {
      set({ error: undefined });
    },

    download() {
      const { model, original, fileName, past, targetId } = get();
      if (!model || !original || !fileName) return undefined;
      const base = fileName.replace(/\.onnx$/i, '');
      // Unchanged: the very bytes that were opened. Changed: the untouched parts as views of the
      // opened bytes, spliced with the re-encoded ones (src/onnx/splice.ts).
      const chunks = past.length === 0 ? [original] : saveModelChunks(model);
      const locations = externalLocations(model);
      if (locations.length) set({ notice: `Saved ${base}.${targetId}.onnx; it reads its weights from ${locations.join(', ')}: keep ${locations.length > 1 ? 'those files' : 'that file'} beside it.` });
      return { chunks, name: `${base}.${targetId}.onnx` };
    },
  };
});
