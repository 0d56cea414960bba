// Maps without tiles from the internet: civgrid's own base map (roads, buildings, outlines: see
// basemap.js) beneath civgrid's grids and cases drawn as Leaflet vector layers (SVG); an operator
// may set the URL of an intranet tile server in the settings, which then lies beneath.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { basemapLayer } from './basemap.js';

const TILE_KEY = 'civgrid.tiles';

export function tileUrl() {
  try {
    return localStorage.getItem(TILE_KEY) || '';
  } catch {
    return '';
  }
}
export function setTileUrl(url) {
  try {
    if (url) localStorage.setItem(TILE_KEY, url);
    else localStorage.removeItem(TILE_KEY);
  } catch {
    /* ignored: no storage */
  }
}

export const GRADE_COLOURS = {
  routine: '#3a9a5b',
  guarded: '#2f74b5',
  focus: '#e08a1e',
  strict: '#c8372d',
  '': '#7a8691',
};

// Distinguishes neighbours that have no grade (streets, communities) without implying one.
const AREA_COLOURS = ['#c7d7e8', '#d9e6c9', '#ecd9c6', '#dccfe6', '#c9e2df', '#e8e1bf', '#e4cfd6', '#cfd9d0'];
export function areaColour(i) {
  return AREA_COLOURS[i % AREA_COLOURS.length];
}

/** Colour for a case load: none grey-green, then yellow to dark red. */
export function loadColour(n, max) {
  if (!n) return '#cfd8dc';
  const steps = ['#fde68a', '#fbbf24', '#f97316', '#dc2626', '#7f1d1d'];
  const i = Math.min(steps.length - 1, Math.floor((n / Math.max(1, max)) * (steps.length - 1) + 0.0001));
  return steps[i];
}

/**
 * A map in `el` over civgrid's own base map (roads, buildings, street and community outlines from
 * the API). With an intranet tile URL set, that raster lies beneath and the base map adds only
 * the outlines and names. With `center: null` the map has no view until the caller sets one (layers
 * added meanwhile wait for it).
 */
export function createMap(el, { center = [30.27, 120.16], zoom = 13, keyboard = true, basemap = true, basemapLabels = true } = {}) {
  // center null: no view yet (the caller sets one when it knows where): no tile is asked before
  const view = center ? { center, zoom } : {};
  const map = L.map(el, { ...view, keyboard, zoomControl: true, attributionControl: true, preferCanvas: false, maxZoom: 20 });
  el.classList.add('civgrid-map');
  const url = tileUrl();
  if (url) L.tileLayer(url, { maxZoom: 20, attribution: 'intranet tiles' }).addTo(map);
  if (basemap) basemapLayer({ raster: !!url, labels: basemapLabels }).addTo(map);
  map.attributionControl.setPrefix('civgrid');
  return map;
}

export function geoLayer(fc, options) {
  return L.geoJSON(fc, options);
}

export function pointMarker(lat, lon, options = {}) {
  return L.circleMarker([lat, lon], { radius: 8, color: '#fff', weight: 2, fillColor: options.colour || '#c8372d', fillOpacity: 1, ...options });
}

export { L };
