// Getting files in (picker, drop anywhere) and out (download), without any server.
import { useEffect, useState } from 'react';
import { useStore } from './store';

export async function openBlob(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  useStore.getState().open(bytes, file.name);
}

export function openFile(input: HTMLInputElement): void {
  const file = input.files?.[0];
  if (file) void openBlob(file);
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
      const files = e.dataTransfer!.files;
      const file = files[0];
      if (file) void openBlob(file).then(() => {
        if (files.length > 1 && !useStore.getState().error) {
          useStore.setState({ notice: `Opened ${file.name}, the first of ${files.length} dropped files: OpFit works on one model at a time.` });
        }
      });
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

export function saveBytes(bytes: Uint8Array, name: string, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveText(text: string, name: string, type: string): void {
  saveBytes(new TextEncoder().encode(text), name, type);
}
