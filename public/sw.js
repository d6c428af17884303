// OpFit's service worker: the app works offline once it has been loaded. At install it caches
// every file of the build — scripts, styles, ONNX Runtime's wasm, the sample model — listed by the
// build in PRECACHE (scripts/vite-privacy.ts writes it into dist/sw.js); afterwards pages are
// served from that cache, and the network is asked only for the page itself (to pick up a new
// version) and for files the cache lacks. It never fetches anything from another origin: the app
// makes no such requests, and the page's Content-Security-Policy forbids them.
/* global self, caches, fetch, URL */
const PRECACHE = self.__OPFIT_PRECACHE__; // { version, urls }, replaced at build time

const CACHE = PRECACHE ? `opfit-${PRECACHE.version}` : undefined;
const SCOPE = new URL(self.registration.scope);
const INDEX = new URL('index.html', SCOPE).href;

self.addEventListener('install', (event) => {
  if (!PRECACHE) return; // an unbuilt copy (vite dev): nothing to cache
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.urls.map((u) => new URL(u, SCOPE).href)))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('opfit-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (!CACHE || request.method !== 'GET' || url.origin !== SCOPE.origin) return;
  if (request.mode === 'navigate') {
    // The page: fresh from the network when there is one, else the cached copy.
    event.respondWith(fetch(request).catch(() => caches.match(INDEX, { cacheName: CACHE }).then((hit) => hit ?? Response.error())));
    return;
  }
  event.respondWith(caches.match(request, { cacheName: CACHE, ignoreSearch: true }).then((hit) => hit ?? fetch(request)));
});
