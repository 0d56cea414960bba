// civgrid's service worker (generated at build time from web/src/sw.template.js with the list of
// built files). It keeps the app shell so the field app and the resident page open without
// signal. The API is not cached (answers are per account and must be fresh; offline writes are
// kept by the pages themselves in IndexedDB), except the public base map: every tile a page draws
// is kept (network first, so a new import shows when there is signal) in a cache of its own,
// bounded to MAX_TILES (the first kept go first), which also holds the tiles the field app saves for
// the worker's area (lib/offline-tiles.js); without signal the map draws from it.
const VERSION = __CG_VERSION__;
const PRECACHE = __CG_PRECACHE__;
const CACHE = 'civgrid-shell-' + VERSION;
const TILE_CACHE = 'civgrid-tiles-v1'; // lib/offline-tiles.js names it too
const MAX_TILES = 3000;
let putsSinceTrim = 0;

async function trimTiles(cache) {
  const keys = await cache.keys(); // in insertion order: the oldest first
  for (let i = 0; i < keys.length - MAX_TILES; i++) await cache.delete(keys[i]);
}

// The base map: the network first, a copy kept; without signal the kept copy.
// The copy is kept within the fetch event's lifetime (waitUntil), so a worker stopped right after
// answering still keeps every tile the page drew.
function basemap(event) {
  const req = event.request;
  const kept = () => caches.open(TILE_CACHE).then((c) => c.match(req, { ignoreVary: true, ignoreSearch: true }));
  return fetch(req).then(
    (r) => {
      // refused (the rate limit) or failing: the kept copy when there is one
      if (!r.ok) return kept().then((k) => k || r);
      const copy = r.clone();
      const keeping = caches.open(TILE_CACHE).then(async (c) => {
        await c.put(req, copy);
        if (++putsSinceTrim >= 50) {
          putsSinceTrim = 0;
          await trimTiles(c);
        }
      });
      try {
        event.waitUntil(keeping); // allowed: the answer (respondWith) is still pending here
      } catch {
        /* an event already over: the copy is kept all the same unless the worker stops */
      }
      return r;
    },
    () => kept().then((r) => r || Response.error()),
  );
}

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
  if (url.pathname === '/api/v1/basemap' || /^\/api\/v1\/basemap\/\d+\/\d+\/\d+$/.test(url.pathname)) {
    event.respondWith(basemap(event));
    return;
  }
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
