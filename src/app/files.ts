// Getting files in (picker, drop anywhere) and out (download), without any server.
import { useEffect, useState } from 'react';
import { unsavedEdits, useStore } from './store';
import { blobDataFile, splitModelAndData } from '../onnx/external';
import { readBlob, ReadCancelled } from '../onnx/read-blob';

/** Files from this size on are read with a progress bar and a Cancel button. */
const PROGRESS_FROM = 32 << 20;

export async function openBlob(file: File): Promise<void> {
  await openFiles([file]);
}

/**
 * Opens the model among `files` (the first .onnx); the other non-.onnx files are its external data
 * files, read only in the ranges a tensor needs. Returns how many other models were left unopened.
 */
export async function openFiles(files: readonly File[]): Promise<number> {
  const { model, data, otherModels } = splitModelAndData(files);
  if (!model) return 0;
  if (!confirmReplace(model.name)) return 0;
  let bytes: Uint8Array;
  if (model.size < PROGRESS_FROM) bytes = new Uint8Array(await model.arrayBuffer());
  else {
    useStore.getState().loading?.cancel?.();
    const ctrl = new AbortController();
    const loading = { name: model.name, loaded: 0, total: model.size, cancel: () => ctrl.abort() };
    useStore.setState({ loading });
    try {
      bytes = await readBlob(model, model.name, {
        signal: ctrl.signal,
        onProgress: (loaded) => { if (useStore.getState().loading?.cancel === loading.cancel) useStore.setState({ loading: { ...loading, loaded } }); },
      });
    } catch (e) {
      if (useStore.getState().loading?.cancel === loading.cancel) useStore.setState({ loading: undefined });
      if (e instanceof ReadCancelled) useStore.setState({ notice: e.message });
      else useStore.setState({ error: `${model.name} could not be read: ${(e as Error).message}` });
      return 0;
    }
    if (useStore.getState().loading?.cancel !== loading.cancel) return 0; // another file was chosen meanwhile
    useStore.setState({ loading: undefined });
  }
  await useStore.getState().open(bytes, model.name, data.map((f) => blobDataFile(f, f.name)));
  return otherModels.length;
}

/** Before a model replaces one with undownloaded edits: whether the user agrees to lose them. */
function confirmReplace(name: string): boolean {
  const s = useStore.getState();
  const n = unsavedEdits(s);
  if (n === 0) return true;
  return window.confirm(`Open ${name}? Your ${n} edit${n === 1 ? '' : 's'} to ${s.fileName} ${n === 1 ? 'has' : 'have'} not been downloaded and will be lost.`);
}

/** openFiles, then a notice naming the models left unopened (one model at a time). */
function openAndSay(files: File[], how: 'chosen' | 'dropped'): void {
  void openFiles(files).then((others) => {
    if (others > 0 && !useStore.getState().error) {
      useStore.setState({ notice: `Opened ${splitModelAndData(files).model!.name}, the first of ${1 + others} ${how} models; ${others === 1 ? 'the other was' : `the other ${others} were`} not opened: OpFit works on one model at a time.` });
    }
  });
}

export function openFile(input: HTMLInputElement): void {
  if (input.files?.length) openAndSay([...input.files], 'chosen');
  input.value = ''; // choosing the same file again must open it again
}

/** Dropping a file anywhere on the page opens it; returns whether a file is being dragged. */
export function useFileDrop(): boolean {
  const [dragging, setDragging] = useState(false);
  useEffect(() => {
    let depth = 0;
    const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
    const enter = (e: DragEvent) => { if (hasFiles(e)) { depth++; setDragging(true); } };
    const leave = () => { depth = Math.max(0, depth - 1); if (depth === 0) setDragging(false); };
    const over = (e: DragEvent) => { if (hasFiles(e)) e.preventDefault(); };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      depth = 0;
      setDragging(false);
      openAndSay([...e.dataTransfer!.files], 'dropped');
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, []);
  return dragging;
}

/** Saves bytes, or chunks (a model's spliced save: the Blob is built from the slices, never one big copy here). */
export function saveBytes(bytes: Uint8Array | readonly Uint8Array[], name: string, type = 'application/octet-stream'): void {
  const parts = (bytes instanceof Uint8Array ? [bytes] : [...bytes]) as BlobPart[];
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveText(text: string, name: string, type: string): void {
  saveBytes(new TextEncoder().encode(text), name, type);
}
