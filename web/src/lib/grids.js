// Grid data as the maps need it: the caller's top of the hierarchy, the children of a grid as
// GeoJSON (each level fetched when drilled into, so a city never loads at once), one grid with
// its geometry, and the topology findings.
import { get, qs } from './api.js';

export const LEVELS = ['district', 'street', 'community', 'grid', 'subgrid'];

export async function topGrids(me) {
  const scope = me && me.scope;
  if (scope) {
    const g = await get('/api/v1/grids/' + encodeURIComponent(scope));
    return [g];
  }
  const doc = await get('/api/v1/grids' + qs({ level: 'district', limit: 1000 }));
  return doc.grids || [];
}

export const children = (code) => get('/api/v1/grids' + qs({ parent: code, format: 'geojson', limit: 10000 }));
export const grid = (code) => get('/api/v1/grids/' + encodeURIComponent(code));
export const tree = () => get('/api/v1/grids' + qs({ view: 'tree', limit: 10000 }));
export const findings = () => get('/api/v1/grids/check' + qs({ format: 'geojson' }));
export const locate = (lat, lon) => get('/api/v1/locate' + qs({ lat: lat.toFixed(7), lon: lon.toFixed(7) }));

/** A one-feature collection for a grid object (which carries its geometry). */
export function asFeatures(g) {
  const { geometry, ...props } = g;
  return { type: 'FeatureCollection', features: geometry ? [{ type: 'Feature', id: g.code, properties: props, geometry }] : [] };
}

/** Case counts per grid code prefix: how many of `cases` lie in each of `codes`. */
export function loadPerGrid(cases, codes) {
  const out = Object.fromEntries(codes.map((c) => [c, 0]));
  for (const c of cases) {
    if (!c.grid) continue;
    for (const code of codes) if (c.grid.startsWith(code)) out[code]++;
  }
  return out;
}
