// Vite plugin: after a build, writes the list of every file in dist/ (with a version hashed from
// their contents) into dist/sw.js, so the service worker (public/sw.js) can cache the whole app at
// install and serve it offline. Source maps and the service worker itself are left out.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Plugin } from 'vite';

const PLACEHOLDER = 'self.__OPFIT_PRECACHE__';

function files(dir: string, root = dir): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p, root) : [relative(root, p).split(sep).join('/')];
  });
}

export function offlinePrecache(): Plugin {
  let outDir = 'dist';
  return {
    name: 'opfit-offline-precache',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const swPath = join(outDir, 'sw.js');
      const sw = readFileSync(swPath, 'utf8');
      if (!sw.includes(PLACEHOLDER)) return; // already written (a second closeBundle)
      const list = files(outDir).filter((f) => f !== 'sw.js' && !f.endsWith('.map'));
      const hash = createHash('sha256');
      for (const f of list) hash.update(f).update('\0').update(readFileSync(join(outDir, f)));
      // URLs relative to the service worker's scope (the app's base); './' is the page itself.
      const urls = ['./', ...list];
      writeFileSync(swPath, sw.replace(PLACEHOLDER, JSON.stringify({ version: hash.digest('hex').slice(0, 16), urls })));
    },
  };
}

/**
 * The Content-Security-Policy in index.html is for the built app. Vite's dev server needs what it
 * forbids (an inline script for React Refresh, a WebSocket for hot reload), so `vite` serves the
 * page without it.
 */
export function cspOnlyInBuild(): Plugin {
  return {
    name: 'opfit-csp-only-in-build',
    apply: 'serve',
    transformIndexHtml(html) {
      return html.replace(/\s*<meta http-equiv="Content-Security-Policy"[^>]*>/, '');
    },
  };
}
