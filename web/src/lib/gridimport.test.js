// The console's grid import logic: the upload request it makes, polling a job to its end (and
// stopping when the page is left), and the report turned into features to draw.
import { describe, it, expect } from 'vitest';
import { startImport, pollImport, reportFeatures } from './gridimport.js';

describe('grid import', () => {
  it('uploads the file as the body with the options as parameters', async () => {
    const calls = [];
    const file = new Blob(['{"type":"FeatureCollection","features":[]}'], { type: 'application/json' });
    file.name = 'streets.geojson';
    await startImport(file, { dryRun: true, crs: 'gcj02', fields: { code: ' WGBM ', name: '' } }, (...a) => (calls.push(a), { id: 1 }));
    const [method, path, body, headers] = calls[0];
    expect(method).toBe('POST');
    expect(path).toBe('/api/v1/grids/imports?dry_run=true&crs=gcj02&name=streets.geojson&code_field=WGBM');
    expect(body).toBe(file);
    expect(headers['Content-Type']).toBe('application/geo+json');
    const zip = new Blob(['PK'], { type: '' });
    zip.name = 'streets.ZIP';
    await startImport(zip, { encoding: 'GBK' }, (...a) => (calls.push(a), { id: 2 }));
    expect(calls[1][1]).toBe('/api/v1/grids/imports?dry_run=false&crs=wgs84&name=streets.ZIP&encoding=GBK');
    expect(calls[1][3]['Content-Type']).toBe('application/zip');
  });

  it('polls until the job is over, reporting every state', async () => {
    const states = ['queued', 'running', 'running', 'rejected'];
    let n = 0;
    const seen = [];
    const last = await pollImport(7, (j) => seen.push(j.state), { interval: 0, getImpl: async (path) => (expect(path).toBe('/api/v1/grids/imports/7'), { state: states[n++] }) });
    expect(seen).toEqual(states);
    expect(last.state).toBe('rejected');
  });

  it('stops quietly when cancelled', async () => {
    let n = 0;
    const last = await pollImport(7, () => {}, { interval: 0, isCancelled: () => n >= 2, getImpl: async () => (n++, { state: 'running' }) });
    expect(last).toBe(null);
    expect(n).toBe(2);
  });

  it('draws rejects and findings by geometry, else by point, else not at all', () => {
    const square = { type: 'MultiPolygon', coordinates: [[[[120, 30], [120.1, 30], [120.1, 30.1], [120, 30]]]] };
    const fc = reportFeatures({
      rejects: [
        { index: 2, code: '330106001', field: 'name_zh', reason: 'missing', geometry: square, point: { lon: 120.05, lat: 30.05 } },
        { index: 5, code: '330106002', field: 'geometry', reason: 'ring not closed', geometry: null, point: { lon: 120.2, lat: 30.2 } },
        { index: 9, code: null, field: 'code', reason: 'missing', geometry: null, point: null },
      ],
      findings: [{ kind: 'overlap', code: 'a', other_code: 'b', reason: 'overlaps', geometry: square, point: { lon: 1, lat: 2 } }],
    });
    expect(fc.features.map((f) => [f.properties.key, f.geometry.type])).toEqual([
      ['reject-2', 'MultiPolygon'],
      ['reject-5', 'Point'],
      ['finding-0', 'MultiPolygon'],
    ]);
    expect(fc.features[1].geometry.coordinates).toEqual([120.2, 30.2]);
    expect(reportFeatures(null).features).toEqual([]);
  });
});
