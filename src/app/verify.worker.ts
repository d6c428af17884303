// Runs ONNX Runtime (WebAssembly, single-threaded) off the main thread for "Verify", the local
// check and the teaching table, so the page stays responsive; Cancel terminates this worker.
// The runtime is the app's own copy in public/ort/ (scripts/copy-ort-wasm.mjs), never a CDN.
import { verifyModels, type VerifyOptions, type VerifyReport, type Progress } from '../verify/verify';
import { runLocalCheck, type LocalPair, type LocalResult, type RewrittenNode } from '../verify/local';
import { computeTeaching, type TeachingTable } from '../verify/teaching';
import type { OrtLike } from '../verify/types';

export type VerifyRequest =
  | { id: number; kind: 'verify'; ortBase: string; original: Uint8Array; converted: Uint8Array; options: VerifyOptions }
  | { id: number; kind: 'local'; ortBase: string; items: (LocalPair | RewrittenNode)[]; seed: number; tolerance: number }
  | { id: number; kind: 'teach'; ortBase: string; slopes: number[] };

export type VerifyEvent =
  | { id: number; kind: 'progress'; progress: Progress }
  | { id: number; kind: 'local-result'; result: LocalResult; index: number; of: number }
  | { id: number; kind: 'teach-table'; table: TeachingTable; index: number }
  | { id: number; kind: 'done'; result: VerifyReport | LocalResult[] | TeachingTable[] }
  | { id: number; kind: 'error'; message: string };

let ort: Promise<OrtLike> | undefined;

function loadOrt(base: string): Promise<OrtLike> {
  ort ??= (async () => {
    // A runtime URL, not a bundled module: Vite would otherwise copy the 14 MB .wasm a second time.
    const mod = await import(/* @vite-ignore */ `${base}ort.wasm.min.mjs`);
    mod.env.wasm.wasmPaths = base;
    mod.env.wasm.numThreads = 1; // no crossOriginIsolation here, so no SharedArrayBuffer threads
    mod.env.wasm.proxy = false; // this worker is the proxy
    mod.env.logLevel = 'error';
    return mod as OrtLike;
  })();
  ort.catch(() => { ort = undefined; });
  return ort;
}

const post = (e: VerifyEvent) => (self as unknown as Worker).postMessage(e);

self.onmessage = async (e: MessageEvent<VerifyRequest>) => {
  const req = e.data;
  const progress = (p: Progress) => post({ id: req.id, kind: 'progress', progress: p });
  try {
    progress({ step: 0, of: 1, label: 'Loading ONNX Runtime (WebAssembly)' });
    const rt = await loadOrt(req.ortBase);
    if (req.kind === 'verify') {
      const result = await verifyModels(rt, req.original, req.converted, req.options, progress);
      post({ id: req.id, kind: 'done', result });
    } else if (req.kind === 'local') {
      // The tiny models were built in the page, where the models (and any data files) are.
      const items = req.items;
      const results: LocalResult[] = [];
      for (const [i, item] of items.entries()) {
        progress({ step: i, of: items.length, label: `Checking ${item.name}` });
        const result = await runLocalCheck(rt, item, { seed: req.seed, tolerance: req.tolerance });
        results.push(result);
        post({ id: req.id, kind: 'local-result', result, index: i, of: items.length });
      }
      post({ id: req.id, kind: 'done', result: results });
    } else {
      const tables = await computeTeaching(rt, req.slopes, undefined, (table, index) => post({ id: req.id, kind: 'teach-table', table, index }));
      post({ id: req.id, kind: 'done', result: tables });
    }
  } catch (err) {
    post({ id: req.id, kind: 'error', message: (err as Error).message ?? String(err) });
  }
};
