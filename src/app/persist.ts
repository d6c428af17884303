// Work is never lost: the open model — the bytes as opened, and every model of the edit history —
// is kept in this browser's own storage (IndexedDB) after each step, and restored when the page is
// loaded again. A tab with edits that were not downloaded asks before it closes. Nothing here ever
// leaves the machine: IndexedDB is local to this origin.
//
// Layout: store "blobs" holds one Blob per model (the opened bytes, or a model's saved encoding),
// keyed by an id; store "session" holds one record, "current", naming the blobs of the original,
// the present model, and the undo (past) and redo (future) stacks with their labels. A step writes
// only the blobs it has not written before, and deletes the ones no longer named.
import type { ModelProto } from 'onnx-buf';
import { readModel, saveModelChunks } from '../onnx/model';
import { useStore, type AppState } from './store';

const DB_NAME = 'opfit';
const DB_VERSION = 1;
const SESSIONS = 'session';
const BLOBS = 'blobs';
const CURRENT = 'current';

/** Past and future steps kept, newest first, while the blobs together stay under MAX_KEPT_BYTES. */
export const MAX_KEPT_STEPS = 50;
/** The most this tab keeps in IndexedDB. Past it, older undo steps are dropped (then nothing is kept). */
export const MAX_KEPT_BYTES = 512 * 2 ** 20;

interface SavedStep {
  id: string;
  label: string;
}

export interface SavedSession {
  version: 1;
  fileName: string;
  targetId: string;
  /** The blob of the bytes as opened (also the model before any edit). */
  original: string;
  present: string;
  /** Oldest first, as AppState.past: the model before each edit, and what the edit did. */
  past: SavedStep[];
  future: SavedStep[];
  /** The present model was downloaded after its last edit. */
  downloaded: boolean;
  /** Older undo steps were not kept (too large). */
  trimmed: boolean;
  savedAt: number;
}

// ---- IndexedDB, promised --------------------------------------------------------------------------

let dbPromise: Promise<IDBDatabase> | undefined;

function db(): Promise<IDBDatabase> {
  dbPromise ??= new Promise<IDBDatabase>((resolve, reject) => {
    if (typeof indexedDB === 'undefined') return reject(new Error('this browser has no IndexedDB'));
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const d = req.result;
      if (!d.objectStoreNames.contains(SESSIONS)) d.createObjectStore(SESSIONS);
      if (!d.objectStoreNames.contains(BLOBS)) d.createObjectStore(BLOBS);
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not be opened'));
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
  dbPromise.catch(() => { dbPromise = undefined; });
  return dbPromise;
}

const done = (t: IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
    t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted (storage full?)'));
  });

const request = <T>(r: IDBRequest<T>) =>
  new Promise<T>((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });

export async function loadSession(): Promise<SavedSession | undefined> {
  const d = await db();
  const s = (await request(d.transaction(SESSIONS).objectStore(SESSIONS).get(CURRENT))) as SavedSession | undefined;
  return s?.version === 1 ? s : undefined;
}

async function loadBlob(id: string): Promise<Uint8Array> {
  const d = await db();
  const blob = (await request(d.transaction(BLOBS).objectStore(BLOBS).get(id))) as Blob | undefined;
  if (!blob) throw new Error(`stored model ${id} is missing`);
  written.set(id, blob.size);
  return new Uint8Array(await blob.arrayBuffer());
}

/** Forgets the kept model (the error screen's "Start over"). */
export async function forgetSession(): Promise<void> {
  const d = await db();
  const t = d.transaction([SESSIONS, BLOBS], 'readwrite');
  t.objectStore(SESSIONS).clear();
  t.objectStore(BLOBS).clear();
  await done(t);
  written.clear();
}

// ---- what has been written ------------------------------------------------------------------------

/** The blob id of each model object (and of each opened byte array) this tab knows. */
const ids = new WeakMap<object, string>();
/** Ids whose blobs are in the database, with their sizes. */
const written = new Map<string, number>();
let counter = 0;
const idOf = (o: object): string => {
  let id = ids.get(o);
  if (!id) ids.set(o, (id = `m${Date.now().toString(36)}-${(counter++).toString(36)}`));
  return id;
};

/** The model last downloaded (nothing to warn about while it is the present model). */
let downloaded: ModelProto | undefined;
let lastOriginal: Uint8Array | undefined;
/** Why the model could not be kept, when it could not. */
let keepProblem: string | undefined;

/** A model's bytes as chunks (views of the opened file where unchanged): sized before any copy. */
function partsFor(o: ModelProto | Uint8Array): { parts: Uint8Array[]; size: number } {
  const parts = o instanceof Uint8Array ? [o] : saveModelChunks(o);
  return { parts, size: parts.reduce((n, p) => n + p.byteLength, 0) };
}

type Plan = { session: SavedSession; blobs: Map<string, { parts: Uint8Array[]; size: number }> } | { skip: string };

/** What to write for this state: the session record and the blobs not written yet. */
function plan(s: AppState): Plan | undefined {
  const { model, original, fileName, targetId } = s;
  if (!model || !original || !fileName) return undefined;
  if (original !== lastOriginal) {
    // Just opened: the model is the original's decoding, so it shares the original's blob.
    lastOriginal = original;
    if (s.past.length === 0 && !ids.has(model)) ids.set(model, idOf(original));
    downloaded = undefined;
  }
  const blobs = new Map<string, { parts: Uint8Array[]; size: number }>();
  let total = 0;
  const need = (o: ModelProto | Uint8Array): number => {
    const id = idOf(o);
    const size = written.get(id) ?? blobs.get(id)?.size;
    if (size !== undefined) return size;
    const p = partsFor(o);
    blobs.set(id, p);
    return p.size;
  };
  const counted = new Set<string>();
  const add = (o: ModelProto | Uint8Array) => {
    const id = idOf(o);
    const size = need(o);
    if (!counted.has(id)) {
      counted.add(id);
      total += size;
    }
    return id;
  };
  add(original);
  add(model);
  if (total > MAX_KEPT_BYTES) {
    return { skip: `${fileName} is too large to keep in this browser's storage (over ${Math.round(MAX_KEPT_BYTES / 2 ** 20)} MB with its edits)` };
  }
  // Undo and redo steps, nearest first, while they fit.
  const keep = (nearestFirst: AppState['past']): SavedStep[] => {
    const kept: SavedStep[] = [];
    for (const step of nearestFirst.slice(0, MAX_KEPT_STEPS)) {
      const id = idOf(step.model);
      if (!counted.has(id) && total + need(step.model) > MAX_KEPT_BYTES) break;
      add(step.model);
      kept.push({ id, label: step.label });
    }
    return kept;
  };
  const past = keep([...s.past].reverse()).reverse();
  const future = keep(s.future);
  // Blobs planned for steps that did not fit are not written.
  for (const id of blobs.keys()) if (!counted.has(id)) blobs.delete(id);
  return {
    blobs,
    session: {
      version: 1, fileName, targetId, original: idOf(original), present: idOf(model), past, future,
      downloaded: downloaded === model, trimmed: past.length < s.past.length || future.length < s.future.length, savedAt: Date.now(),
    },
  };
}

async function write(p: Exclude<Plan, { skip: string }>): Promise<void> {
  const d = await db();
  const t = d.transaction([SESSIONS, BLOBS], 'readwrite');
  const blobs = t.objectStore(BLOBS);
  for (const [id, { parts }] of p.blobs) blobs.put(new Blob(parts as BlobPart[], { type: 'application/octet-stream' }), id);
  t.objectStore(SESSIONS).put(p.session, CURRENT);
  const named = new Set([p.session.original, p.session.present, ...p.session.past.map((x) => x.id), ...p.session.future.map((x) => x.id)]);
  // Whatever else is stored (steps undone and replaced, an earlier file) goes.
  const keys = blobs.getAllKeys();
  keys.onsuccess = () => { for (const k of keys.result) if (!named.has(String(k))) blobs.delete(k); };
  await done(t);
  for (const id of [...written.keys()]) if (!named.has(id)) written.delete(id);
  for (const [id, blob] of p.blobs) written.set(id, blob.size);
}

// ---- saving after each step -----------------------------------------------------------------------

let timer: ReturnType<typeof setTimeout> | undefined;
let running: Promise<void> | undefined;
let again = false;

/** Keeps the current state soon (debounced; one write at a time). Resolves when it is kept. */
export function scheduleSave(delay = 150): void {
  if (timer) clearTimeout(timer);
  timer = setTimeout(() => {
    timer = undefined;
    void saveNow();
  }, delay);
}

/** Writes the current state now (after a write in progress). */
export async function saveNow(): Promise<void> {
  if (running) {
    again = true;
    return running;
  }
  running = (async () => {
    do {
      again = false;
      const p = plan(useStore.getState());
      if (!p) continue;
      if ('skip' in p) {
        if (keepProblem !== p.skip) useStore.setState({ notice: `${p.skip}: download your work before closing the tab.` });
        keepProblem = p.skip;
        await forgetSession().catch(() => {});
        continue;
      }
      try {
        await write(p);
        keepProblem = undefined;
      } catch (e) {
        const why = `The model could not be kept in this browser's storage (${(e as Error).message})`;
        if (keepProblem !== why) useStore.setState({ notice: `${why}: download your work before closing the tab.` });
        keepProblem = why;
      }
    } while (again);
  })().finally(() => { running = undefined; });
  return running;
}

/** Resolves once everything scheduled so far is kept (for tests and before leaving). */
export async function flushSaves(): Promise<void> {
  if (timer) {
    clearTimeout(timer);
    timer = undefined;
    await saveNow();
  }
  while (running) await running;
}

// ---- restoring ----------------------------------------------------------------------------------

/**
 * Opens the kept session, if there is one, as it was left: the model, its undo and redo steps and
 * the target. Returns whether it did.
 */
export async function restoreSession(replaceable: () => boolean = () => true): Promise<boolean> {
  const saved = await loadSession();
  if (!saved) return false;
  try {
    written.clear();
    const originalBytes = await loadBlob(saved.original);
    // The user may have opened a file while the kept one was read: theirs wins.
    if (!replaceable()) return false;
    const models = new Map<string, ModelProto>();
    const st = useStore.getState();
    await st.open(originalBytes, saved.fileName);
    const opened = useStore.getState();
    // A big model decodes in slices: a file the user opened meanwhile wins, and the kept one steps aside.
    if (opened.original !== originalBytes && !replaceable()) return false;
    if (opened.original !== originalBytes || !opened.model) throw new Error(opened.error ?? 'the kept model did not open');
    models.set(saved.original, opened.model);
    const modelFor = async (id: string) => {
      let m = models.get(id);
      if (!m) models.set(id, (m = readModel(await loadBlob(id), saved.fileName)));
      return m;
    };
    const steps = async (list: SavedStep[]) => {
      const out: AppState['past'] = [];
      for (const s of list) out.push({ model: await modelFor(s.id), label: s.label });
      return out;
    };
    const present = await modelFor(saved.present);
    const past = await steps(saved.past);
    const future = await steps(saved.future);
    // Register what is already written, so the next step writes only what is new.
    lastOriginal = originalBytes;
    ids.set(originalBytes, saved.original);
    for (const [id, m] of models) ids.set(m, id);
    downloaded = saved.downloaded ? present : undefined;
    const targetId = opened.customTargets.some((t) => t.id === saved.targetId) || st.targetProfile(saved.targetId).id === saved.targetId ? saved.targetId : opened.targetId;
    const edits = past.length + (saved.trimmed ? ' or more' : '');
    useStore.getState().resume({
      model: present, past, future, targetId, downloadedAt: saved.downloaded ? past.length : undefined,
      notice: `Restored ${saved.fileName} as you left it` + (past.length || saved.trimmed ? ` (${edits} edit${past.length === 1 && !saved.trimmed ? '' : 's'} to undo)` : '') +
        (saved.trimmed ? '; older undo steps were too large to keep.' : '.'),
    });
    return true;
  } catch (e) {
    await forgetSession().catch(() => {});
    useStore.setState({ error: `Your last model could not be restored (${(e as Error).message}); open it again.` });
    return false;
  }
}

// ---- start-up -----------------------------------------------------------------------------------

const SAMPLE = 'sample-prelu.onnx';

/**
 * Restores the kept session (unless the user has opened something meanwhile), then keeps every
 * step; warns before a tab with undownloaded edits closes. Call once, before the first render.
 * Resolves to whether a kept model was restored (the sample waits for it: see App).
 */
export function startPersistence(): Promise<boolean> {
  // Downloads mark the present model as saved by the user.
  const download = useStore.getState().download;
  useStore.setState({
    download: () => {
      const out = download();
      if (out) {
        downloaded = useStore.getState().model;
        scheduleSave();
      }
      return out;
    },
  });

  window.addEventListener('beforeunload', (e) => {
    const s = useStore.getState();
    if (s.model && s.past.length > 0 && s.model !== downloaded) {
      e.preventDefault();
      e.returnValue = ''; // older browsers need it set to show the prompt
    }
  });

  const before = useStore.getState().original;
  const replaceable = () => {
    const s = useStore.getState();
    return s.original === before || (s.fileName === SAMPLE && s.past.length === 0);
  };
  return (async () => {
    let restored = false;
    try {
      restored = await restoreSession(replaceable);
    } catch (e) {
      // No IndexedDB (some private modes): say so once there is work to lose.
      keepProblem = `This browser does not let OpFit keep the model between visits (${(e as Error).message})`;
    }
    useStore.subscribe((state, prev) => {
      if (state.model !== prev.model || state.past !== prev.past || state.future !== prev.future || state.targetId !== prev.targetId || state.original !== prev.original) {
        scheduleSave();
      }
    });
    scheduleSave(0);
    return restored;
  })();
}
