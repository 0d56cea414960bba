// The coverage map's data and rules (console Coverage page): the planning API's requests (posts
// as "lat,lon;..." for GET /api/v1/coverage, an isochrone, a posts plan), the colour of a covered
// share, the grid table's rows and their sorting, and the whole area's figures weighted by road,
// buildings and households. Pure functions where possible, so Vitest checks them.
import { get, post, qs, ApiError } from './api.js';

/** The budgets the field works with, in seconds: the 1/2/3/5/10-minute circles. 2 min is the rule. */
export const BUDGETS = [60, 120, 180, 300, 600];
export const DEFAULT_BUDGET = 120;
export const PROFILES = ['car', 'foot', 'bicycle'];
export const MEASURES = ['road', 'building', 'household'];
export const LEVELS = ['grid', 'community', 'street'];
/** Kinds of stored places the current posts may come from. */
export const POST_KINDS = ['police', 'fire_station'];

/** "lat,lon;lat,lon" for the API, 6 decimals (about 0.1 m). */
export function postsParam(posts) {
  return posts.map((p) => p.lat.toFixed(6) + ',' + p.lon.toFixed(6)).join(';');
}

export const coverage = ({ posts, budget, profile, level }, request = get) =>
  request('/api/v1/coverage' + qs({ posts: postsParam(posts), budget, profile, level }));

/** buffer 0 asks for the reached roads alone (milliseconds); the area takes a second or so. */
export const isochrone = ({ lat, lon, budget, profile, buffer }, request = get) =>
  request('/api/v1/isochrone' + qs({ lat: lat.toFixed(6), lon: lon.toFixed(6), budget, profile, buffer }));

/** Places of a kind as posts: [{id, lat, lon, name_zh, name_en}] (at most 1000). */
export async function storedPosts(kind, request = get) {
  const doc = await request('/api/v1/pois' + qs({ kind, limit: 1000 }));
  return doc.features.map((f) => ({
    id: 'poi-' + f.properties.id,
    lat: f.geometry.coordinates[1],
    lon: f.geometry.coordinates[0],
    name_zh: f.properties.name_zh || '',
    name_en: f.properties.name_en || '',
  }));
}

/** A GeoJSON FeatureCollection of points for the plan's `fixed` posts. */
export function asPoints(posts) {
  return { type: 'FeatureCollection', features: posts.map((p) => ({ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [p.lon, p.lat] } })) };
}

/** How long the console lets the planner search (the API's time_limit_s: 0.5 to 60, 10 by default). */
export const PLAN_TIME_LIMIT_S = 3;

/**
 * Proposes posts: the fewest that reach every household (p absent), or the best p more.
 * Existing posts stay (fixed). The search stops after timeLimit seconds with its best plan so
 * far (plan.timed_out); signal cancels the request. Returns {posts: [{lat, lon, fixed, covered}], plan}.
 */
export async function proposePosts({ fixed, budget, profile, p, timeLimit = PLAN_TIME_LIMIT_S, signal }, request = post) {
  const body = { budget, profile, time_limit_s: timeLimit };
  if (fixed.length) body.fixed = asPoints(fixed);
  if (p) body.p = p;
  const doc = await request('/api/v1/posts/plan', body, undefined, signal);
  return {
    plan: doc.plan || {},
    posts: doc.features.map((f) => ({
      lat: f.geometry.coordinates[1],
      lon: f.geometry.coordinates[0],
      fixed: !!f.properties.fixed,
      covered: f.properties.covered_weight,
    })),
  };
}

/** The share of grid g at the first budget, for a measure (road, building, household). */
export function shareOf(g, measure) {
  const b = g.budgets && g.budgets[0];
  if (!b) return null;
  return b[measure + '_share'];
}

/** Colour steps of a covered share: red under half, orange, yellow, light green, green at all. */
export const SHARE_STEPS = [
  [0.5, '#c8372d'],
  [0.8, '#e08a1e'],
  [0.95, '#f2c94c'],
  [0.99995, '#9fd08a'],
  [Infinity, '#2e8b57'],
];
export function shareColour(share) {
  if (share === null || share === undefined || Number.isNaN(share)) return '#cfd8dc';
  for (const [limit, colour] of SHARE_STEPS) if (share < limit) return colour;
  return SHARE_STEPS[SHARE_STEPS.length - 1][1];
}

/** Table rows from the API's grids: code, name, shares, worst time (null: beyond the horizon). */
export function gridRows(doc, names = {}) {
  return (doc.grids || []).map((g) => ({
    code: g.code,
    name: names[g.code] || null,
    road_m: g.road_m,
    buildings: g.buildings,
    households: g.households,
    road: shareOf(g, 'road'),
    building: shareOf(g, 'building'),
    household: shareOf(g, 'household'),
    worst: g.worst ? (g.worst.seconds === null ? Infinity : g.worst.seconds) : null,
    worstAt: g.worst && g.worst.point ? g.worst.point : null,
  }));
}

/** Sorts rows by a column (worst: slowest first when descending; nulls last either way). */
export function sortRows(rows, key, dir = 'asc') {
  const sign = dir === 'desc' ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key], y = b[key];
    if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === 'string') return sign * x.localeCompare(y) || a.code.localeCompare(b.code);
    return sign * (x - y) || a.code.localeCompare(b.code);
  });
}

/** The whole area's covered shares: road by length, buildings and households by count. */
export function totals(doc) {
  let road = 0, roadCov = 0, bld = 0, bldCov = 0, hh = 0, hhCov = 0;
  for (const g of doc.grids || []) {
    const b = g.budgets && g.budgets[0];
    if (!b) continue;
    road += g.road_m;
    roadCov += g.road_m * b.road_share;
    bld += g.buildings;
    bldCov += g.buildings * b.building_share;
    hh += g.households;
    hhCov += g.households * b.household_share;
  }
  const uncovered = (doc.features || []).reduce((s, f) => s + (f.properties.metres || 0), 0);
  return {
    road: road ? roadCov / road : null,
    building: bld ? bldCov / bld : null,
    household: hh ? hhCov / hh : null,
    uncovered_m: uncovered,
    grids: (doc.grids || []).length,
    full: (doc.grids || []).filter((g) => g.road_m > 0 && g.budgets[0].road_share >= 0.99995).length,
  };
}

/** "87.5 %" (one decimal; "—" when unknown). */
export function pct(share) {
  return share === null || share === undefined ? '—' : (Math.floor(share * 1000) / 10).toFixed(1) + ' %';
}

/** Whether an error is the planning API's "no graph for this profile" (409). */
export function isNoGraph(err) {
  return err instanceof ApiError && err.status === 409;
}
