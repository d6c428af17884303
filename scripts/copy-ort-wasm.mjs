#!/usr/bin/env node
// Copies ONNX Runtime Web's WebAssembly build from node_modules into public/ort/, so the app serves
// the runtime itself (never a CDN): the verify worker imports public/ort/ort.wasm.min.mjs and points
// ort.env.wasm.wasmPaths at the same folder. Run before `vite` and `vite build` (package.json
// predev/prebuild); the copies are build artefacts and are gitignored. Files that are already
// up to date are left alone.
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FILES = [
  'ort.wasm.min.mjs', // the JavaScript API, WebAssembly execution provider only
  'ort-wasm-simd-threaded.mjs', // the Emscripten glue it imports
  'ort-wasm-simd-threaded.wasm', // the runtime
];

let dist;
try {
  const require = createRequire(join(root, 'package.json'));
  dist = dirname(require.resolve('onnxruntime-web')); // …/onnxruntime-web/dist/ort.*.js
} catch {
  console.error('copy-ort-wasm: onnxruntime-web is not installed; run npm ci first');
  process.exit(1);
}
const out = join(root, 'public/ort');
mkdirSync(out, { recursive: true });
let copied = 0;
for (const f of FILES) {
  const src = join(dist, f);
  const dst = join(out, f);
  if (!existsSync(src)) {
    console.error(`copy-ort-wasm: ${src} is missing; the installed onnxruntime-web has a different layout`);
    process.exit(1);
  }
  const a = statSync(src);
  if (existsSync(dst)) {
    const b = statSync(dst);
    if (b.size === a.size && b.mtimeMs >= a.mtimeMs) continue;
  }
  copyFileSync(src, dst);
  copied++;
}
console.log(`copy-ort-wasm: public/ort/ ${copied ? `updated (${copied} file${copied > 1 ? 's' : ''})` : 'up to date'}`);
