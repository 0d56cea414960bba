// How the base map looks, as pure functions (no Leaflet, no DOM) so Vitest can check them: the
// colour and width of each road class at a zoom, the order features are painted in, where a
// road's name fits along it, and which layers to draw when an intranet raster lies beneath.

export const LAND = '#f2efe9';
export const BUILDING_FILL = '#dcd7d0';
export const BUILDING_LINE = '#c5beb4';

// Fill and casing colours by road class (OSM highway values), most important first.
const ROADS = {
  motorway: { fill: '#e892a2', casing: '#c24e6b', base: 3.2, rank: 1 },
  trunk: { fill: '#f9b29c', casing: '#c84e2f', base: 3, rank: 2 },
  primary: { fill: '#fcd6a4', casing: '#a06b00', base: 2.8, rank: 3 },
  secondary: { fill: '#f7fabf', casing: '#707d05', base: 2.5, rank: 4 },
  tertiary: { fill: '#ffffff', casing: '#8f8f8f', base: 2.2, rank: 5 },
  unclassified: { fill: '#ffffff', casing: '#a8a8a8', base: 1.6, rank: 6 },
  residential: { fill: '#ffffff', casing: '#a8a8a8', base: 1.6, rank: 7 },
  living_street: { fill: '#ededed', casing: '#b8b8b8', base: 1.4, rank: 8 },
  pedestrian: { fill: '#dddde8', casing: '#a5a5b8', base: 1.2, rank: 9 },
  service: { fill: '#ffffff', casing: '#b5b5b5', base: 0.9, rank: 10 },
  track: { fill: '#a0793a', casing: null, base: 0.6, rank: 11, dash: [4, 3] },
  footway: { fill: '#fa8072', casing: null, base: 0.5, rank: 12, dash: [2, 2] },
  cycleway: { fill: '#3b6fe0', casing: null, base: 0.5, rank: 12, dash: [2, 2] },
  path: { fill: '#fa8072', casing: null, base: 0.5, rank: 13, dash: [2, 3] },
  steps: { fill: '#fa8072', casing: null, base: 0.8, rank: 13, dash: [1, 1] },
};
const OTHER = { fill: '#ffffff', casing: '#b5b5b5', base: 0.8, rank: 14 };

/**
 * The stroke of a road class at zoom z: `width` of the fill and `casing` (the darker edge drawn
 * beneath, null for paths) in CSS pixels. Roads widen by about 40% per zoom from z14, as a street
 * keeps a similar width on the ground.
 */
export function roadStyle(cls, z) {
  const r = ROADS[cls] || OTHER;
  const grow = Math.pow(1.4, Math.max(-4, Math.min(4, z - 14)));
  const width = Math.max(0.5, r.base * grow * (z < 13 && r.rank > 4 ? 0.6 : 1));
  return {
    fill: r.fill,
    casing: r.casing && z >= 12 ? r.casing : null,
    width,
    casingWidth: width + (z >= 15 ? 2 : 1.2),
    dash: r.dash || null,
    rank: r.rank,
  };
}

/** Roads painted minor first, so major roads lie on top where they meet. */
export function paintOrder(roads) {
  return [...roads].sort((a, b) => roadStyle(b.properties.class, 14).rank - roadStyle(a.properties.class, 14).rank);
}

/** The layers drawn: all of them, or only outlines and names over an intranet raster map. */
export function visibleLayers(hasRaster) {
  return hasRaster ? new Set(['outline', 'label']) : new Set(['building', 'road', 'outline', 'label']);
}

/** Names of roads from these zooms: main roads earlier, small ones only close in. */
export function roadLabelZoom(cls) {
  const rank = (ROADS[cls] || OTHER).rank;
  return rank <= 4 ? 14 : rank <= 7 ? 16 : 17;
}

/**
 * Where a name of `width` pixels fits along a line of tile pixels: the middle of the longest
 * segment lying inside [margin, size - margin] that is longer than the text, as {x, y, angle}
 * (radians, turned so text never reads upside down), or null when it fits nowhere.
 */
export function labelAlong(points, width, size = 256, margin = 6) {
  let best = null;
  let bestLen = width + 8;
  const inside = (p) => p[0] >= margin && p[0] <= size - margin && p[1] >= margin && p[1] <= size - margin;
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i];
    const b = points[i + 1];
    if (!inside(a) || !inside(b)) continue;
    const len = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (len <= bestLen) continue;
    let angle = Math.atan2(b[1] - a[1], b[0] - a[0]);
    if (angle > Math.PI / 2) angle -= Math.PI;
    else if (angle < -Math.PI / 2) angle += Math.PI;
    best = { x: (a[0] + b[0]) / 2, y: (a[1] + b[1]) / 2, angle };
    bestLen = len;
  }
  return best;
}

/** Pixel position of lon/lat inside tile z/x/y (Web Mercator, `size` pixels a tile). */
export function projectToTile(lon, lat, z, x, y, size = 256) {
  const n = Math.pow(2, z);
  const s = Math.sin((Math.max(-85.0511287798, Math.min(85.0511287798, lat)) * Math.PI) / 180);
  const wx = (lon + 180) / 360;
  const wy = 0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI);
  return [(wx * n - x) * size, (wy * n - y) * size];
}

/** The tile URL of the API (relative, same origin). */
export function basemapTileUrl(z, x, y) {
  return `/api/v1/basemap/${z}/${x}/${y}`;
}
