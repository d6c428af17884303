import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// ORT's wasm files are served by the app itself (public/ort/), never from a CDN:
// scripts/copy-ort-wasm.mjs copies them there before dev and build.
export default defineConfig({
  plugins: [react()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
});
