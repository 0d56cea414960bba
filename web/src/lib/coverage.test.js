// The coverage page's rules: the posts parameter, share colours, table rows and their sorting, the
// whole area's weighted figures, and the requests sent to the planning API.
import { describe, it, expect } from 'vitest';
import { postsParam, shareColour, gridRows, sortRows, totals, pct, coverage, isochrone, proposePosts, storedPosts, BUDGETS, DEFAULT_BUDGET } from './coverage.js';

const doc = {
  features: [{ properties: { metres: 120.5 } }, { properties: { metres: 79.5 } }],
  grids: [
    { code: 'A', road_m: 1000, buildings: 10, households: 100, budgets: [{ budget_s: 120, road_share: 1, building_share: 1, household_share: 1 }], worst: { seconds: 80, point: [120.1, 30.2] } },
    { code: 'B', road_m: 3000, buildings: 30, households: 300, budgets: [{ budget_s: 120, road_share: 0.5, building_share: 0.4, household_share: 0.3 }], worst: { seconds: null, beyond_s: 240 } },
    { code: 'C', road_m: 0, buildings: 0, households: 0, budgets: [{ budget_s: 120, road_share: 1, building_share: 1, household_share: 1 }], worst: null },
  ],
};

describe('coverage', () => {
  it('sends posts as lat,lon pairs', () => {
    expect(postsParam([{ lat: 30.1234567, lon: 120.5 }, { lat: 30, lon: 121 }])).toBe('30.123457,120.500000;30.000000,121.000000');
  });
  it('offers the field circles with 2 minutes first', () => {
    expect(BUDGETS).toEqual([60, 120, 180, 300, 600]);
    expect(DEFAULT_BUDGET).toBe(120);
  });
  it('colours shares from red to green', () => {
    expect(shareColour(0.2)).toBe('#c8372d');
    expect(shareColour(0.7)).toBe('#e08a1e');
    expect(shareColour(0.9)).toBe('#f2c94c');
    expect(shareColour(0.99)).toBe('#9fd08a');
    expect(shareColour(1)).toBe('#2e8b57');
    expect(shareColour(null)).toBe('#cfd8dc');
  });
  it('makes table rows and sorts them, unknown last', () => {
    const rows = gridRows(doc, { A: 'Grid A' });
    expect(rows[0]).toMatchObject({ code: 'A', name: 'Grid A', road: 1, worst: 80, worstAt: [120.1, 30.2] });
    expect(rows[1].worst).toBe(Infinity);
    expect(rows[2].worst).toBe(null);
    expect(sortRows(rows, 'road').map((r) => r.code)).toEqual(['B', 'A', 'C']);
    expect(sortRows(rows, 'worst', 'desc').map((r) => r.code)).toEqual(['B', 'A', 'C']);
    expect(sortRows(rows, 'worst', 'asc').map((r) => r.code)).toEqual(['A', 'B', 'C']);
    expect(sortRows(rows, 'code', 'desc').map((r) => r.code)).toEqual(['C', 'B', 'A']);
  });
  it('weights the whole area by road length, buildings and households', () => {
    const s = totals(doc);
    expect(s.road).toBeCloseTo((1000 + 1500) / 4000);
    expect(s.building).toBeCloseTo((10 + 12) / 40);
    expect(s.household).toBeCloseTo((100 + 90) / 400);
    expect(s.uncovered_m).toBe(200);
    expect(s.full).toBe(1);
    expect(pct(0.99996)).toBe('99.9 %');
    expect(pct(1)).toBe('100.0 %');
    expect(pct(null)).toBe('—');
  });
  it('asks the planning API', async () => {
    const asked = [];
    const fake = async (path, body, headers, signal) => {
      asked.push([path, body, headers, signal]);
      if (path.startsWith('/api/v1/pois')) return { features: [{ properties: { id: 7, name_zh: '派出所' }, geometry: { coordinates: [120.1, 30.2] } }] };
      if (path === '/api/v1/posts/plan') return { plan: { posts: 2 }, features: [{ properties: { fixed: true, covered_weight: 5 }, geometry: { coordinates: [120.1, 30.2] } }, { properties: { fixed: false, covered_weight: 9 }, geometry: { coordinates: [120.2, 30.3] } }] };
      return {};
    };
    await coverage({ posts: [{ lat: 30.2, lon: 120.1 }], budget: 120, profile: 'foot', level: 'grid' }, fake);
    expect(asked[0][0]).toBe('/api/v1/coverage?posts=30.200000%2C120.100000&budget=120&profile=foot&level=grid');
    const posts = await storedPosts('police', fake);
    expect(posts).toEqual([{ id: 'poi-7', lat: 30.2, lon: 120.1, name_zh: '派出所', name_en: '' }]);
    const r = await proposePosts({ fixed: posts, budget: 120, profile: 'car' }, fake);
    // a short search by default (3 s, the server's default is 10)
    expect(asked[2][1]).toEqual({ budget: 120, profile: 'car', time_limit_s: 3, fixed: { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: { type: 'Point', coordinates: [120.1, 30.2] } }] } });
    expect(r.posts.map((p) => p.fixed)).toEqual([true, false]);
    const ctl = new AbortController();
    await proposePosts({ fixed: [], budget: 300, profile: 'car', p: 3, timeLimit: 5, signal: ctl.signal }, fake);
    expect(asked[3][1]).toEqual({ budget: 300, profile: 'car', p: 3, time_limit_s: 5 });
    expect(asked[3][3]).toBe(ctl.signal); // the request can be cancelled
    await isochrone({ lat: 30.2, lon: 120.1, budget: 60, profile: 'car', buffer: 0 }, fake);
    expect(asked[4][0]).toBe('/api/v1/isochrone?lat=30.200000&lon=120.100000&budget=60&profile=car&buffer=0');
  });
});
