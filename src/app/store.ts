// The one store: document, edit history, target, findings, selection. Model logic stays in the
// core modules; this file only calls them and keeps the results.
import { create } from 'zustand';
import type { ModelProto } from 'onnx-buf';
import { readModel, readModelSliced, saveModelChunks, ModelReadError } from '../onnx/model';
import { connectDataFiles, externalLocations, type DataFile } from '../onnx/external';
import { graphAt, isFunctionStep, nodeId, parseNodeId, type GraphPath, type PathStep } from '../graph/scope';
import { checkModel, checkModelSliced, type Finding } from '../targets/check';
import { findTarget, TARGETS } from '../targets/registry';
import type { TargetProfile } from '../targets/types';
import { applyRewrites, RewriteRefused, type Pick as RewritePick } from '../rewrites/engine';
import { fixAll } from '../rewrites/choose';
import { findForm } from '../rewrites/registry';
import { fuseAll } from '../rewrites/fuse-all';
import { loadCustomTargets, saveCustomTargets } from './custom-targets';
import { rewriteBlockers } from '../graph/validate';
import { yieldToPage } from '../steps';
import { count } from '../plural';

interface Snapshot {
  model: ModelProto;
  /** What the edit that produced this model did, for the history and the status line. */
  label: string;
}

export interface AppState {
  /**
   * A file being read (big files: with progress and Cancel, set by files.ts), or a big graph being
   * decoded or checked after it is read (`decoding`, `checking`; no progress, no Cancel: each takes
   * well under a second).
   */
  loading?: { name: string; loaded: number; total: number; cancel?(): void; checking?: boolean; decoding?: boolean };
  fileName?: string;
  /** The bytes as opened: saved as they are while nothing has changed. */
  original?: Uint8Array;
  model?: ModelProto;
  past: Snapshot[];
  future: Snapshot[];
  targetId: string;
  findings: Finding[];
  selected?: string;
  /** `past.length` when the user last downloaded (undefined: not since open); see unsavedEdits. */
  downloadedAt?: number;
  /** Every note of the last action, when the notice only summarises them (thousands after Fix all). */
  noticeNotes?: string[];
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
  open(bytes: Uint8Array, fileName: string, dataFiles?: DataFile[]): Promise<void>;
  /** The opened file's session as it was left (src/app/persist.ts): its present model, history and target, checked afresh. */
  resume(state: Pick<AppState, 'model' | 'past' | 'future' | 'targetId' | 'downloadedAt' | 'notice'>): void;
  setTarget(id: string): void;
  select(id: string | undefined, focus?: boolean): void;
  enterGraph(path: GraphPath): void;
  rewrite(picks: RewritePick[]): void;
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

/**
 * How many edits separate the present model from the last one downloaded (or the opened one):
 * the work that opening another model would lose.
 */
export function unsavedEdits(s: Pick<AppState, 'model' | 'past' | 'downloadedAt'>): number {
  if (!s.model) return 0;
  return s.downloadedAt === undefined ? s.past.length : Math.abs(s.past.length - s.downloadedAt);
}

/** How many notes of an action the status line shows; the rest are behind "… and N more". */
const NOTES_SHOWN = 3;

/** A short label for an action (status line, history, undo) and its notes, when there are too many to show. */
export function summarise(head: string, notes: readonly string[]): { label: string; notes?: string[] } {
  if (notes.length <= NOTES_SHOWN) return { label: [head, ...notes].join(' ') };
  return { label: `${[head, ...notes.slice(0, NOTES_SHOWN)].join(' ')} … and ${(notes.length - NOTES_SHOWN).toLocaleString('en-US')} more`, notes: [...notes] };
}

/** "12,500 × PRelu → Where, 3 × PRelu → LeakyRelu": how many nodes each form rewrote. */
function formCounts(picks: readonly RewritePick[]): string {
  const count = new Map<string, number>();
  for (const p of picks) count.set(p.form, (count.get(p.form) ?? 0) + 1);
  return [...count].map(([form, n]) => `${n.toLocaleString('en-US')} × PRelu → ${findForm(form)?.label ?? form}`).join(', ');
}

/** The index of the node in `after` that is `before`'s node `index`: the same name, else the same first output. */
function sameNode(before: { node: readonly { name: string; output: readonly string[] }[] }, after: typeof before, index: number): number | undefined {
  const old = before.node[index];
  if (!old) return undefined;
  const { node } = after;
  if (node[index]?.name === old.name && node[index]?.output[0] === old.output[0]) return index;
  if (old.name) {
    let first = -1;
    for (let i = 0; i < node.length; i++) {
      if (node[i]!.name !== old.name) continue;
      if (node[i]!.output[0] === old.output[0]) return i;
      if (first < 0) first = i;
    }
    if (first >= 0) return first;
  }
  const out = old.output[0];
  if (out) for (let i = 0; i < node.length; i++) if (node[i]!.output[0] === out) return i;
  return undefined;
}

/** A graph path of `before` followed into `after` step by step (node indices shift when an edit inserts nodes). */
export function carryPath(before: ModelProto, after: ModelProto, path: GraphPath): GraphPath | undefined {
  const out: PathStep[] = [];
  try {
    for (const [k, step] of path.entries()) {
      if (isFunctionStep(step)) {
        if (!after.functions[step.fn]) return undefined;
        out.push(step);
        continue;
      }
      const i = sameNode(graphAt(before, path.slice(0, k)), graphAt(after, out), step.node);
      if (i === undefined) return undefined;
      out.push(i === step.node ? step : { ...step, node: i });
    }
    graphAt(after, out);
    return out;
  } catch {
    return undefined;
  }
}

/** The selection carried from `before` to `after` by identity (see sameNode); inputs and outputs by name. */
export function carrySelection(before: ModelProto, after: ModelProto, id: string | undefined): string | undefined {
  if (!id) return undefined;
  const at = parseNodeId(id);
  if (!at) return id; // a graph input or output: its id is its name
  const path = carryPath(before, after, at.path);
  if (!path) return undefined;
  try {
    const i = sameNode(graphAt(before, at.path), graphAt(after, path), at.index);
    return i === undefined ? undefined : nodeId(path, i);
  } catch {
    return undefined;
  }
}

/**
 * Files from this size are decoded in slices (readModelSliced): a 10,000-node graph is ~1.4 MB, the
 * 1,800-node gtcrn-full 350 kB (decoded, checked and drawn in one task it took 70–100 ms).
 */
const SLICED_READ_FROM = 256 << 10;
/** Counts open() calls, so a slow decode does not replace a file opened after it. */
let openSeq = 0;

/** Graphs from this many nodes (all graphs and functions together) are checked in slices when opened. */
const SLICED_FROM = 1000;

function nodeCount(model: ModelProto): number {
  let n = model.graph?.node.length ?? 0;
  for (const f of model.functions) n += f.node.length;
  return n;
}

export const useStore = create<AppState>()((set, get) => {
  /** What the view shows and selects, carried from the present model to `next` (an edit, undo, redo). */
  const carried = (next: ModelProto) => {
    const { model, viewPath, selected } = get();
    if (!model) return { viewPath: [], selected: undefined };
    return { viewPath: carryPath(model, next, viewPath) ?? [], selected: carrySelection(model, next, selected) };
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
        // Only for what was checked: whatever replaced the model or the target set its own findings.
        if (get().model !== model || get().targetId !== targetId) return set(doneChecking());
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
  const commit = (model: ModelProto, label: string, notes?: string[]) => {
    const { model: before, past, targetId, downloadedAt } = get();
    if (!before) return;
    supersedeCheck();
    set({
      model,
      ...carried(model),
      past: [...past, { model: before, label }],
      future: [],
      // The downloaded model was a redo step this edit drops: nothing downloaded is on this path.
      downloadedAt: downloadedAt !== undefined && downloadedAt > past.length ? undefined : downloadedAt,
      findings: checkModel(model, target(targetId)),
      notice: label,
      noticeNotes: notes,
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

    async open(bytes, fileName, dataFiles = []) {
      const seq = ++openSeq;
      try {
        let model: ModelProto;
        if (bytes.length < SLICED_READ_FROM) model = readModel(bytes, fileName);
        else {
          // A big graph decodes a run of records at a time, so the page keeps answering; the canvas
          // is not ready meanwhile (loading), and a file opened meanwhile wins.
          set({ loading: { name: fileName, loaded: 0, total: 0, decoding: true } });
          try {
            model = await readModelSliced(bytes, fileName);
            await yieldToPage(); // what follows is a task of its own
          } finally {
            if (get().loading?.decoding) set({ loading: undefined });
          }
          if (seq !== openSeq) return;
        }
        const data = connectDataFiles(model, fileName, dataFiles);
        set({
          fileName, original: bytes, model, past: [], future: [], selected: undefined, viewPath: [], filter: undefined, downloadedAt: undefined, noticeNotes: undefined,
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
        if (seq === openSeq) set({ error: message });
      }
    },

    resume(state) {
      set({ ...state, findings: [], noticeNotes: undefined, selected: undefined, viewPath: [], filter: undefined });
      set({ findings: checkOpened(state.model!, get().fileName ?? 'the model') });
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
        const s = summarise(picks.length > 1 ? `Rewrote ${count(picks.length, 'node')}: ${formCounts(picks)}.` : '', r.notes);
        commit(r.model, s.label.trim(), s.notes);
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
          set(unfixed ? { error: `Nothing could be fixed: ${unfixed}` } : { notice: 'Nothing to fix for this target.', noticeNotes: undefined });
          return;
        }
        const s = summarise(`Fixed ${count(r.picks.length, 'node')}: ${formCounts(r.picks)}.`, r.notes);
        commit(r.model, s.label, s.notes);
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
          set({ noticeNotes: undefined, notice: r.notes[0] ?? `No decomposed PReLU pattern to fuse${skipped ? ` (left alone: ${skipped})` : ''}.` });
          return;
        }
        const s = summarise(`Fused ${count(r.fused.length, 'decomposed PReLU pattern')} into PRelu.`, r.notes);
        commit(r.model, s.label, s.notes);
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
        findings: checkModel(last.model, target(targetId)), notice: `Undid: ${last.label}`, noticeNotes: undefined, ...carried(last.model), filter: undefined,
      });
    },

    redo() {
      const { past, future, model, targetId } = get();
      const next = future[0];
      if (!next || !model) return;
      supersedeCheck();
      set({
        model: next.model, past: [...past, { model, label: next.label }], future: future.slice(1),
        findings: checkModel(next.model, target(targetId)), notice: `Redid: ${next.label}`, noticeNotes: undefined, ...carried(next.model), filter: undefined,
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
      set({ downloadedAt: past.length });
      const locations = externalLocations(model);
      if (locations.length) set({ notice: `Saved ${base}.${targetId}.onnx; it reads its weights from ${locations.join(', ')}: keep ${locations.length > 1 ? 'those files' : 'that file'} beside it.` });
      return { chunks, name: `${base}.${targetId}.onnx` };
    },
  };
});
