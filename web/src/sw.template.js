// civgrid's service worker (generated at build time from web/src/sw.template.js with the list of
// built files). It keeps the app shell so the field app and the resident page open without
// signal; the API is never cached (answers are per account and must be fresh), so offline
// writes are kept by the pages themselves in IndexedDB, not here.
const VERSION = __CG_VERSION__;
const PRECACHE = __CG_PRECACHE__;
const CACHE = 'civgrid-shell-' + VERSION;

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith('civgrid-shell-') && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/open311/') || url.pathname === '/healthz') return;
  // Pages: the network first (a new build shows at once), the cached shell without signal.
  if (req.mode === 'navigate') {
    event.respondWith(
      fetch(req).catch(() =>
        caches.match(url.pathname === '/' ? '/index.html' : url.pathname).then((r) => r || caches.match('/field.html')),
      ),
    );
    return;
  }
  // Built files carry a content hash in their names: the cache first.
  event.respondWith(caches.match(req).then((r) => r || fetch(req)));
});
