// Talks to the verify worker: one job at a time; cancel() terminates the worker (ONNX Runtime
// cannot be interrupted inside a run), and the next job starts a fresh one.
import type { VerifyEvent, VerifyRequest } from './verify.worker';

export class Cancelled extends Error {
  constructor() {
    super('Cancelled');
    this.name = 'Cancelled';
  }
}

type Job = VerifyRequest extends infer R ? (R extends VerifyRequest ? Omit<R, 'id' | 'ortBase'> : never) : never;

/** Where the app serves ONNX Runtime's files (public/ort/), relative to the page. */
export const ortBase = () => new URL('ort/', document.baseURI).href;

export class VerifyClient {
  private worker?: Worker;
  private nextId = 1;
  private current?: { id: number; reject: (e: Error) => void };

  get busy(): boolean {
    return !!this.current;
  }

  run<T>(job: Job, onEvent: (e: VerifyEvent) => void = () => {}): Promise<T> {
    if (this.current) this.cancel();
    const worker = (this.worker ??= new Worker(new URL('./verify.worker.ts', import.meta.url), { type: 'module' }));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.current = { id, reject };
      worker.onmessage = (e: MessageEvent<VerifyEvent>) => {
        const ev = e.data;
        if (ev.id !== id) return;
        if (ev.kind === 'done') { this.current = undefined; resolve(ev.result as T); }
        else if (ev.kind === 'error') { this.current = undefined; reject(new Error(ev.message)); }
        else onEvent(ev);
      };
      worker.onerror = (e) => { this.current = undefined; reject(new Error(e.message || 'the verify worker failed to start')); };
      const request = { ...job, id, ortBase: ortBase() } as VerifyRequest;
      // Copies, transferred: the store's bytes must stay attached to the page.
      const transfer: Transferable[] = [];
      for (const key of ['original', 'converted'] as const) {
        const bytes = (request as { [k: string]: unknown })[key];
        if (bytes instanceof Uint8Array) {
          const copy = bytes.slice();
          (request as { [k: string]: unknown })[key] = copy;
          transfer.push(copy.buffer);
        }
      }
      worker.postMessage(request, transfer);
    });
  }

  cancel(): void {
    this.worker?.terminate();
    this.worker = undefined;
    const c = this.current;
    this.current = undefined;
    c?.reject(new Cancelled());
  }

  dispose(): void {
    this.cancel();
  }
}
