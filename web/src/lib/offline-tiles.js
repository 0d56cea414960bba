// The base map without signal (field app): base-map tiles (GET /api/v1/basemap/{z}/{x}/{y},
// public GeoJSON) are kept in a Cache Storage cache shared with the service worker
// (sw.template.js keeps every tile the worker has seen there and answers from it offline), and
// "save my area" fetches the tiles over the worker's grids at a few zoom levels ahead of time,
// bounded in count. Tiles hold roads, buildings and place names, nothing about people.

export const TILE_CACHE = 'civgrid-tiles-v1';
/** The most tiles a save fetches (the service worker keeps at most MAX_TILES in all). */
export const SAVE_MAX = 400;
export const MAX_TILES = 3000;
export const SAVE_ZOOMS = [13, 14, 15, 16, 17, 18];

export function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const x = Math.floor(((lon + 180) / 360) * n);
  const r = (lat * Math.PI) / 180;
  const y = Math.floor(((1 - Math.asinh(Math.tan(r)) / Math.PI) / 2) * n);
  return [Math.min(n - 1, Math.max(0, x)), Math.min(n - 1, Math.max(0, y))];
}

/**
 * The tiles covering bbox [w, s, e, n] (padded by `pad` of its size on each side) at each zoom,
 * lowest zoom first, stopping before a zoom whose tiles would pass `max` in all: a small area gets
 * every zoom, a large one its overview. Returns [{z, x, y}].
 */
export function tilesFor(bbox, zooms = SAVE_ZOOMS, max = SAVE_MAX, pad = 0.25) {
  const [w0, s0, e0, n0] = bbox;
  const dw = (e0 - w0) * pad, dh = (n0 - s0) * pad;
  const w = w0 - dw, s = s0 - dh, e = e0 + dw, n = n0 + dh;
  const out = [];
  for (const z of [...zooms].sort((a, b) => a - b)) {
    const [x0, y0] = tileOf(w, n, z);
    const [x1, y1] = tileOf(e, s, z);
    const count = (x1 - x0 + 1) * (y1 - y0 + 1);
    if (out.length + count > max) break;
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) out.push({ z, x, y });
  }
  return out;
}

/** The bounding box [w, s, e, n] of a GeoJSON FeatureCollection of polygons, or null. */
export function bboxOf(fc) {
  let w = Infinity, s = Infinity, e = -Infinity, n = -Infinity;
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      w = Math.min(w, c[0]);
      e = Math.max(e, c[0]);
      s = Math.min(s, c[1]);
      n = Math.max(n, c[1]);
    } else c.forEach(walk);
  };
  for (const f of (fc && fc.features) || []) if (f.geometry) walk(f.geometry.coordinates);
  return w <= e ? [w, s, e, n] : null;
}

const isTile = (url) => /\/api\/v1\/basemap\/\d+\/\d+\/\d+$/.test(new URL(url, 'http://x').pathname);

/** How many tiles are kept on this device (0 where Cache Storage is unavailable). */
export async function storedTiles(cacheStorage = globalThis.caches) {
  if (!cacheStorage) return 0;
  const c = await cacheStorage.open(TILE_CACHE);
  return (await c.keys()).filter((r) => isTile(r.url)).length;
}

/**
 * Fetches the tiles over bbox into the cache (the base map's description too, so an offline map
 * knows where to open), `parallel` at a time; onProgress(done, total). `headers` may carry the
 * worker's bearer token (logged-in callers are not held to the anonymous tile rate). Returns
 * {saved, failed, total}.
 */
export async function saveArea(bbox, { headers = {}, onProgress = () => {}, parallel = 6, fetchImpl = globalThis.fetch, cacheStorage = globalThis.caches } = {}) {
  if (!cacheStorage) throw new Error('no Cache Storage in this browser');
  const cache = await cacheStorage.open(TILE_CACHE);
  const urls = ['/api/v1/basemap', ...tilesFor(bbox).map((t) => `/api/v1/basemap/${t.z}/${t.x}/${t.y}`)];
  let next = 0, saved = 0, failed = 0, done = 0;
  async function worker() {
    while (next < urls.length) {
      const url = urls[next++];
      try {
        const r = await fetchImpl(url, { headers, credentials: 'same-origin' });
        if (!r.ok) throw new Error(String(r.status));
        await cache.put(url, r);
        if (url !== '/api/v1/basemap') saved++;
      } catch {
        failed++;
      }
      onProgress(++done, urls.length);
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker));
  return { saved, failed, total: urls.length - 1 };
}
