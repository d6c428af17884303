import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { cspOnlyInBuild, offlinePrecache } from './scripts/vite-privacy.ts';

// ORT's wasm files are served by the app itself (public/ort/), never from a CDN:
// scripts/copy-ort-wasm.mjs copies them there before dev and build.
export default defineConfig({
  // Offline: dist/sw.js gets the list of built files; the CSP meta tag applies to the build only.
  plugins: [react(), offlinePrecache(), cspOnlyInBuild()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
});
