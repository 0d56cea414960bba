// The offline base map's rules: which tiles cover an area (bounded, lowest zooms first), the box of
// the worker's grids, and saving tiles into the cache the service worker answers from.
import { describe, it, expect } from 'vitest';
import { tileOf, tilesFor, bboxOf, saveArea, storedTiles, TILE_CACHE } from './offline-tiles.js';

function fakeCaches() {
  const stores = new Map();
  return {
    stores,
    async open(name) {
      if (!stores.has(name)) stores.set(name, new Map());
      const m = stores.get(name);
      return { put: async (url, r) => m.set(url, r), keys: async () => [...m.keys()].map((u) => ({ url: 'http://h' + u })) };
    },
  };
}

describe('offline tiles', () => {
  it('numbers tiles as Leaflet does', () => {
    expect(tileOf(0, 0, 1)).toEqual([1, 1]);
    expect(tileOf(120.16, 30.27, 16)).toEqual([54642, 26981]); // as tests/api/test_basemap.py numbers it
    expect(tileOf(-180, 85.05, 3)).toEqual([0, 0]);
  });
  it('covers an area at every zoom that fits, lowest first, bounded', () => {
    const bbox = [120.15, 30.26, 120.152, 30.262]; // about 200 m
    const all = tilesFor(bbox, [13, 14, 15, 16, 17, 18], 400);
    const zooms = [...new Set(all.map((t) => t.z))];
    expect(zooms).toEqual([13, 14, 15, 16, 17, 18]);
    expect(all.length).toBeLessThanOrEqual(400);
    const big = tilesFor([120.0, 30.1, 120.3, 30.4], [13, 14, 15, 16, 17, 18], 400);
    expect(big.length).toBeLessThanOrEqual(400);
    expect(Math.max(...big.map((t) => t.z))).toBeLessThan(16);
    expect(big.filter((t) => t.z === 13).length).toBeGreaterThan(1);
  });
  it('boxes the grids', () => {
    const fc = { features: [{ geometry: { type: 'MultiPolygon', coordinates: [[[[1, 2], [3, 2], [3, 5], [1, 2]]]] } }, { geometry: { type: 'Polygon', coordinates: [[[0, 3], [2, 3], [2, 4], [0, 3]]] } }] };
    expect(bboxOf(fc)).toEqual([0, 2, 3, 5]);
    expect(bboxOf({ features: [] })).toBe(null);
  });
  it('saves the tiles and the description, counting failures', async () => {
    const cs = fakeCaches();
    const asked = [];
    const fetchImpl = async (url, opts) => {
      asked.push([url, opts.headers.Authorization]);
      return url.endsWith('/0') ? { ok: false, status: 500 } : { ok: true, status: 200 };
    };
    const progress = [];
    const r = await saveArea([120.15, 30.26, 120.152, 30.262], { headers: { Authorization: 'Bearer t' }, fetchImpl, cacheStorage: cs, onProgress: (d, n) => progress.push([d, n]) });
    const n = tilesFor([120.15, 30.26, 120.152, 30.262]).length;
    expect(r.total).toBe(n);
    expect(r.saved + r.failed).toBe(n);
    expect(asked[0]).toEqual(['/api/v1/basemap', 'Bearer t']);
    expect(progress[progress.length - 1]).toEqual([n + 1, n + 1]);
    expect(cs.stores.get(TILE_CACHE).has('/api/v1/basemap')).toBe(true);
    expect(await storedTiles(cs)).toBe(r.saved);
  });
});
