// Reading a picked or dropped file into memory with progress and a way to cancel: a 1 GB model
// takes seconds to read, and the page must say how far it is and let the user stop. The bytes go
// into one buffer of the file's size (tensor views point into it), filled from the file's stream.

export class ReadCancelled extends Error {
  constructor(name: string) {
    super(`Cancelled opening ${name}`);
    this.name = 'ReadCancelled';
  }
}

export interface ReadOptions {
  /** Called with bytes read so far, at most every `intervalMs`. */
  onProgress?: (loaded: number, total: number) => void;
  intervalMs?: number;
  signal?: AbortSignal;
}

/**
 * Lets the event loop run (input, rendering): chunks already buffered resolve as microtasks, so a
 * read loop alone would hold the main thread for the whole file. A message, not yieldToPage's
 * setTimeout: a chain of those is clamped to 4 ms each, a tenth of a 1 GB read spent idle.
 */
function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => { ch.port1.close(); r(); };
    ch.port2.postMessage(null);
  });
}

/** The main thread is given back at least this often while reading (ms). */
const SLICE_MS = 40;

export async function readBlob(blob: Blob, name: string, opts: ReadOptions = {}): Promise<Uint8Array> {
  const total = blob.size;
  const out = new Uint8Array(total);
  const reader = blob.stream().getReader();
  const interval = opts.intervalMs ?? 100;
  let loaded = 0;
  let last = 0;
  let sliceStart = performance.now();
  const abort = () => { void reader.cancel().catch(() => {}); };
  opts.signal?.addEventListener('abort', abort, { once: true });
  try {
    for (;;) {
      if (opts.signal?.aborted) throw new ReadCancelled(name);
      const { done, value } = await reader.read();
      if (opts.signal?.aborted) throw new ReadCancelled(name);
      if (done) break;
      if (loaded + value.length > total) throw new Error(`${name} grew while it was being read`);
      out.set(value, loaded);
      loaded += value.length;
      const now = performance.now();
      if (opts.onProgress && now - last >= interval) {
        last = now;
        opts.onProgress(loaded, total);
      }
      if (now - sliceStart >= SLICE_MS) {
        await yieldToEventLoop();
        sliceStart = performance.now();
      }
    }
  } finally {
    opts.signal?.removeEventListener('abort', abort);
  }
  if (loaded !== total) throw new Error(`${name} changed while it was being read (${loaded} of ${total} bytes)`);
  opts.onProgress?.(loaded, total);
  return out;
}
