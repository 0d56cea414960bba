// The base map's drawing rules (basemap-style.js): tile projection agrees with the server's tile
// numbering, roads widen with the zoom and major ones outrank minor ones, names fit or are left
// out, and an intranet raster beneath leaves only outlines and names to draw.
import { describe, it, expect } from 'vitest';
import { projectToTile, roadStyle, paintOrder, labelAlong, visibleLayers, roadLabelZoom, basemapTileUrl } from './basemap-style.js';

describe('base map', () => {
  it('projects into the tile the server cut', () => {
    // Hangzhou at z14 lies in tile 13660/6745 (as any slippy map numbers it)
    const [x, y] = projectToTile(120.16, 30.27, 14, 13660, 6745);
    expect(x).toBeGreaterThanOrEqual(0);
    expect(x).toBeLessThan(256);
    expect(y).toBeGreaterThanOrEqual(0);
    expect(y).toBeLessThan(256);
    const [x2] = projectToTile(120.16, 30.27, 14, 13659, 6745);
    expect(x2).toBeCloseTo(x + 256, 6);
    expect(projectToTile(0, 0, 0, 0, 0)).toEqual([128, 128]);
    expect(basemapTileUrl(14, 13660, 6745)).toBe('/api/v1/basemap/14/13660/6745');
  });

  it('styles roads by class and zoom', () => {
    const p14 = roadStyle('primary', 14);
    const p17 = roadStyle('primary', 17);
    expect(p17.width).toBeGreaterThan(p14.width);
    expect(roadStyle('primary', 15).width).toBeGreaterThan(roadStyle('residential', 15).width);
    expect(roadStyle('residential', 15).width).toBeGreaterThan(roadStyle('service', 15).width);
    expect(p14.fill).not.toBe(roadStyle('residential', 14).fill);
    expect(p14.casingWidth).toBeGreaterThan(p14.width);
    expect(roadStyle('footway', 17).casing).toBeNull();
    expect(roadStyle('footway', 17).dash).toBeTruthy();
    expect(roadStyle('no-such-class', 15).width).toBeGreaterThan(0);
    const order = paintOrder([{ properties: { class: 'primary' } }, { properties: { class: 'service' } }, { properties: { class: 'secondary' } }]);
    expect(order.map((f) => f.properties.class)).toEqual(['service', 'secondary', 'primary']);
  });

  it('puts a name where it fits, never upside down', () => {
    const long = [[20, 100], [220, 100]];
    const at = labelAlong(long, 60);
    expect(at).toEqual({ x: 120, y: 100, angle: 0 });
    expect(labelAlong([[20, 100], [60, 100]], 60)).toBeNull(); // too short
    expect(labelAlong([[-50, 100], [100, 100]], 30)).toBeNull(); // leaves the tile
    const back = labelAlong([[220, 120], [20, 100]], 60);
    expect(Math.abs(back.angle)).toBeLessThanOrEqual(Math.PI / 2);
    expect(roadLabelZoom('primary')).toBeLessThan(roadLabelZoom('service'));
  });

  it('draws only outlines and names over an intranet raster', () => {
    expect([...visibleLayers(true)].sort()).toEqual(['label', 'outline']);
    expect(visibleLayers(false).has('road')).toBe(true);
    expect(visibleLayers(false).has('building')).toBe(true);
  });
});
