// The console's grid import logic: the upload request it makes, polling a job to its end (and
// stopping when the page is left), and the report turned into features to draw.
import { describe, it, expect } from 'vitest';
import { startImport, pollImport, reportFeatures, rejectReason, findingReason } from './gridimport.js';
import { i18n } from './i18n.js';
import zh from '../locales/zh-CN.js';

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

  it('words rejects and findings by their reason codes in the page language, else the server text', async () => {
    await i18n.changeLanguage('zh-CN');
    const grade = { index: 7, code: '330106001002002', field: 'grade', reason: "grade 'dangerous' is unknown (use routine, guarded, focus or strict)", reason_code: 'grade_unknown', reason_value: 'dangerous' };
    expect(rejectReason(grade, i18n)).toBe('网格类型“dangerous”无法识别（可用 routine、guarded、focus、strict）');
    const length = { code: '3301060010', field: 'code', reason: '...', reason_code: 'code_length', reason_value: 'community' };
    expect(rejectReason(length, i18n)).toBe('编码 3301060010 有 10 位，与层级“社区”的编码位数不符');
    const parent = { code: '330106009001', field: 'parent', reason: '...', reason_code: 'parent_missing', reason_value: '330106009' };
    expect(rejectReason(parent, i18n)).toBe('上级 330106009 既不在本文件中，也不在数据库中');
    // a code this page does not know (a newer server) and a server without codes: its own text
    expect(rejectReason({ ...grade, reason_code: 'brand_new_rule' }, i18n)).toBe(grade.reason);
    expect(rejectReason({ code: 'x', reason: 'old server text' }, i18n)).toBe('old server text');
    // every reason code of docs/api.md has a message
    const documented = ['code_missing', 'outside_scope', 'geometry_unreadable', 'geometry_missing', 'geometry_no_area', 'level_not_text', 'level_unknown', 'code_length_unknown', 'code_length', 'code_not_digits', 'code_zero_sequence', 'code_duplicate', 'parent_not_code', 'parent_length', 'parent_level', 'code_not_under_parent', 'parent_missing', 'parent_rejected', 'name_missing', 'name_en_not_text', 'grade_unknown', 'households_invalid', 'out_of_memory'];
    expect(documented.filter((c) => !(c in zh.importReason))).toEqual([]);

    const overlap = { kind: 'overlap', code: '330106001001001', other_code: '330106001001002', area_m2: 152.34, reason: 'overlaps 330106001001002 by 152.3 m2', reason_code: 'overlap' };
    expect(findingReason(overlap, i18n)).toBe('与 330106001001002 重叠 152 m²');
    expect(findingReason({ kind: 'invalid', reason: 'Self-intersection', reason_code: 'invalid_self_intersection' }, i18n)).toBe('多边形自相交');
    // a fault GEOS names that the server does not code: GEOS's words inside the message
    expect(findingReason({ kind: 'invalid', reason: 'Something new', reason_code: 'invalid' }, i18n)).toBe('多边形无效（Something new）');
    // a server without reason codes: the kind still words overlaps, gaps and the like
    expect(findingReason({ ...overlap, reason_code: undefined }, i18n)).toBe('与 330106001001002 重叠 152 m²');

    await i18n.changeLanguage('en');
    expect(rejectReason(grade, i18n)).toBe('Grade "dangerous" is unknown (use routine, guarded, focus or strict)');
    expect(rejectReason(length, i18n)).toBe('Code 3301060010 has 10 digits, the wrong length for a code of level "Community"');
    expect(findingReason(overlap, i18n)).toBe('Overlaps 330106001001002 by 152 m²');
    await i18n.changeLanguage('zh-CN');
  });
});
