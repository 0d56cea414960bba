// civgrid's own base map in Leaflet: a GridLayer whose tiles are canvases painted from the API's
// GeoJSON tiles (GET /api/v1/basemap/{z}/{x}/{y}): buildings, roads styled by class with their
// names, street and community outlines dashed. The names of streets and communities are DOM
// labels in a pane of their own (above the tiles, below the grids), so a name is never cut at a
// tile's edge. Nothing comes from the internet.
import L from 'leaflet';
import { i18n, nameOf } from './i18n.js';
import {
  BUILDING_FILL,
  BUILDING_LINE,
  basemapTileUrl,
  labelAlong,
  paintOrder,
  roadLabelZoom,
  roadStyle,
  visibleLayers,
  projectToTile,
} from './basemap-style.js';

export const LABEL_PANE = 'basemapLabels';

const OUTLINES = {
  street: { colour: '#7b5a91', width: 2.2, dash: [9, 5] },
  community: { colour: '#9b86ab', width: 1.2, dash: [5, 4] },
};

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Where the district's places are ({bounds: [w, s, e, n]} or bounds null), or null offline. */
export async function basemapInfo() {
  try {
    const r = await fetch('/api/v1/basemap', { credentials: 'same-origin' });
    return r.ok ? await r.json() : null;
  } catch {
    return null;
  }
}

function paintTile(canvas, doc, coords, size, ratio, show) {
  const ctx = canvas.getContext('2d');
  ctx.scale(ratio, ratio);
  ctx.lineJoin = 'round';
  ctx.lineCap = 'round';
  const z = coords.z;
  const px = (c) => projectToTile(c[0], c[1], z, coords.x, coords.y, size);
  const by = { building: [], road: [], outline: [] };
  for (const f of doc.features) if (by[f.properties.layer] && show.has(f.properties.layer)) by[f.properties.layer].push(f);

  // buildings
  ctx.fillStyle = BUILDING_FILL;
  ctx.strokeStyle = BUILDING_LINE;
  ctx.lineWidth = 0.7;
  for (const f of by.building) {
    ctx.beginPath();
    for (const poly of f.geometry.coordinates)
      for (const ring of poly) {
        ring.forEach((c, i) => {
          const p = px(c);
          if (i) ctx.lineTo(p[0], p[1]);
          else ctx.moveTo(p[0], p[1]);
        });
        ctx.closePath();
      }
    ctx.fill('evenodd');
    if (z >= 16) ctx.stroke();
  }

  // roads: every casing first, then every fill, minor roads beneath major ones
  const roads = paintOrder(by.road).map((f) => ({ f, s: roadStyle(f.properties.class, z), parts: f.geometry.coordinates.map((part) => part.map(px)) }));
  const stroke = (parts) => {
    ctx.beginPath();
    for (const part of parts)
      part.forEach((p, i) => (i ? ctx.lineTo(p[0], p[1]) : ctx.moveTo(p[0], p[1])));
    ctx.stroke();
  };
  for (const { s, parts } of roads) {
    if (!s.casing) continue;
    ctx.setLineDash([]);
    ctx.strokeStyle = s.casing;
    ctx.lineWidth = s.casingWidth;
    stroke(parts);
  }
  for (const { s, parts } of roads) {
    ctx.setLineDash(s.dash || []);
    ctx.strokeStyle = s.fill;
    ctx.lineWidth = s.width;
    stroke(parts);
  }
  ctx.setLineDash([]);

  // outlines of streets and communities
  for (const f of by.outline) {
    const o = OUTLINES[f.properties.level] || OUTLINES.community;
    const parts = f.geometry.coordinates.map((part) => part.map(px));
    ctx.setLineDash([]);
    ctx.strokeStyle = 'rgba(255,255,255,0.7)';
    ctx.lineWidth = o.width + 2;
    stroke(parts);
    ctx.setLineDash(o.dash);
    ctx.strokeStyle = o.colour;
    ctx.lineWidth = o.width;
    stroke(parts);
  }
  ctx.setLineDash([]);

  // road names along the road, once per name and tile, where they fit inside the tile
  const named = new Set();
  ctx.font = '500 11px "Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (const { f, parts } of [...roads].reverse()) {
    const name = nameOf(f.properties);
    if (!name || named.has(name) || z < roadLabelZoom(f.properties.class)) continue;
    const width = ctx.measureText(name).width;
    const at = parts.map((p) => labelAlong(p, width, size)).find(Boolean);
    if (!at) continue;
    named.add(name);
    ctx.save();
    ctx.translate(at.x, at.y);
    ctx.rotate(at.angle);
    ctx.lineWidth = 3;
    ctx.strokeStyle = 'rgba(255,255,255,0.9)';
    ctx.strokeText(name, 0, 0);
    ctx.fillStyle = '#3d3d3d';
    ctx.fillText(name, 0, 0);
    ctx.restore();
  }
  canvas.dataset.roads = String(roads.length);
  canvas.dataset.buildings = String(by.building.length);
  canvas.dataset.outlines = String(by.outline.length);
}

/**
 * The base-map layer. Options: `raster` (an intranet raster map lies beneath: draw only outlines
 * and names), `labels` (false: no street and community names, for maps that name their own
 * polygons).
 */
export const BasemapLayer = L.GridLayer.extend({
  options: { tileSize: 256, maxNativeZoom: 20, maxZoom: 22, updateWhenZooming: false, keepBuffer: 1, className: 'basemap', raster: false, labels: true },

  initialize(options) {
    L.GridLayer.prototype.initialize.call(this, options);
    this._labels = new Map(); // tile key -> markers
    this._relabel = () => this.redraw();
  },

  onAdd(map) {
    if (!map.getPane(LABEL_PANE)) {
      const pane = map.createPane(LABEL_PANE);
      pane.style.zIndex = 350;
      pane.style.pointerEvents = 'none';
    }
    this._labelGroup = L.layerGroup().addTo(map);
    this.on('tileunload', this._dropLabels, this);
    i18n.on('languageChanged', this._relabel);
    L.GridLayer.prototype.onAdd.call(this, map);
  },

  onRemove(map) {
    i18n.off('languageChanged', this._relabel);
    this.off('tileunload', this._dropLabels, this);
    map.removeLayer(this._labelGroup);
    this._labels.clear();
    L.GridLayer.prototype.onRemove.call(this, map);
  },

  redraw() {
    if (this._labelGroup) this._labelGroup.clearLayers();
    this._labels.clear();
    return L.GridLayer.prototype.redraw.call(this);
  },

  _dropLabels(e) {
    const key = this._tileCoordsToKey(e.coords);
    for (const m of this._labels.get(key) || []) this._labelGroup.removeLayer(m);
    this._labels.delete(key);
  },

  createTile(coords, done) {
    const size = this.getTileSize().x;
    const ratio = Math.min(3, window.devicePixelRatio || 1);
    const canvas = document.createElement('canvas');
    canvas.width = size * ratio;
    canvas.height = size * ratio;
    canvas.className = 'basemap-tile';
    const show = visibleLayers(this.options.raster);
    fetch(basemapTileUrl(coords.z, coords.x, coords.y), { credentials: 'same-origin' })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error('base map tile ' + r.status))))
      .then(
        (doc) => {
          paintTile(canvas, doc, coords, size, ratio, show);
          this._addLabels(coords, doc);
          done(null, canvas);
        },
        (e) => {
          canvas.dataset.failed = '1'; // (tests and the curious: this tile has nothing to draw)
          done(e, canvas);
        },
      );
    return canvas;
  },

  _addLabels(coords, doc) {
    // a tile dropped while it loaded (the map moved on) gets no labels
    if (!this.options.labels || !this._map || !this._tiles[this._tileCoordsToKey(coords)]) return;
    const markers = [];
    for (const f of doc.features) {
      if (f.properties.layer !== 'label') continue;
      const name = nameOf(f.properties);
      if (!name) continue;
      const [lon, lat] = f.geometry.coordinates;
      const icon = L.divIcon({ className: 'basemap-label ' + f.properties.level, html: `<span>${escapeHtml(name)}</span>`, iconSize: null });
      const m = L.marker([lat, lon], { icon, interactive: false, keyboard: false, pane: LABEL_PANE });
      markers.push(m);
      this._labelGroup.addLayer(m);
    }
    this._labels.set(this._tileCoordsToKey(coords), markers);
  },
});

export function basemapLayer(options) {
  return new BasemapLayer(options);
}
