// Grid imports from the console (POST /api/v1/grids/imports, then GET the job until it is over):
// starting one with the file as the body, polling it, and turning its report into what the map
// draws (rejected features by their geometry or point, topology findings likewise), and their
// reasons in the page's language from the server's reason codes.
import { request, get, qs } from './api.js';

export const TERMINAL = ['imported', 'validated', 'rejected', 'failed'];
export const FIELD_OPTIONS = ['code', 'name', 'name_en', 'level', 'parent', 'grade', 'households'];

/**
 * Starts an import of `file` (a File or Blob: GeoJSON, or a zipped Shapefile when its name ends
 * in .zip). options: dryRun, crs, fields {code: 'WGBM', ...}.
 */
export function startImport(file, { dryRun = false, crs = 'wgs84', fields = {}, encoding = '' } = {}, requestImpl = request) {
  const params = { dry_run: dryRun ? 'true' : 'false', crs, name: file.name || '' };
  for (const k of FIELD_OPTIONS) if (fields[k] && fields[k].trim()) params[k + '_field'] = fields[k].trim();
  const zipped = /\.zip$/i.test(file.name || '') || /zip/.test(file.type || '');
  if (zipped && encoding) params.encoding = encoding; // GeoJSON is always UTF-8
  return requestImpl('POST', '/api/v1/grids/imports' + qs(params), file, { 'Content-Type': zipped ? 'application/zip' : 'application/geo+json' });
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls job `id` every `interval` ms until it is over, calling onUpdate with each state; resolves
 * with the final job. `isCancelled()` stops it quietly (the page was left): resolves null.
 */
export async function pollImport(id, onUpdate, { interval = 400, isCancelled = () => false, getImpl = get } = {}) {
  for (;;) {
    if (isCancelled()) return null;
    const job = await getImpl('/api/v1/grids/imports/' + encodeURIComponent(id));
    if (isCancelled()) return null;
    onUpdate(job);
    if (TERMINAL.includes(job.state)) return job;
    await wait(interval);
  }
}

function pointGeometry(p) {
  return p ? { type: 'Point', coordinates: [p.lon, p.lat] } : null;
}

/**
 * The report as one FeatureCollection to draw: each reject (kind 'reject') and each finding
 * (kind 'finding'), by its geometry, else its point; entries with neither are left out. Each
 * feature's `key` ('reject-3', 'finding-0') ties it to its table row.
 */
export function reportFeatures(result) {
  const features = [];
  if (!result) return { type: 'FeatureCollection', features };
  (result.rejects || []).forEach((r) => {
    const geometry = r.geometry || pointGeometry(r.point);
    if (geometry) features.push({ type: 'Feature', geometry, properties: { kind: 'reject', key: 'reject-' + r.index, code: r.code, name: r.name, field: r.field, reason: r.reason, item: r } });
  });
  (result.findings || []).forEach((f, i) => {
    const geometry = f.geometry || pointGeometry(f.point);
    if (geometry) features.push({ type: 'Feature', geometry, properties: { kind: 'finding', key: 'finding-' + i, finding: f.kind, code: f.code, other_code: f.other_code, reason: f.reason, item: f } });
  });
  return { type: 'FeatureCollection', features };
}

/**
 * A reject's reason in the page's language: the message for its `reason_code` with the grid's
 * code, the field and the value the server names; the server's English `reason` for a code this
 * page does not know (a newer server). `tr` is an i18next instance (t and exists).
 */
export function rejectReason(r, tr) {
  const key = 'importReason.' + r.reason_code;
  if (!r.reason_code || !tr.exists(key)) return r.reason;
  const value = r.reason_value ?? '';
  const code = r.code || '';
  return tr.t(key, { code, field: r.field || '', value, digits: code.length, level: tr.exists('level.' + value) ? tr.t('level.' + value) : value });
}

/** A topology finding's reason in the page's language, likewise (GEOS's words kept for a fault it names that this page does not). */
export function findingReason(f, tr) {
  const code = f.reason_code || f.kind;
  const key = 'findingReason.' + code;
  if (!code || !tr.exists(key)) return f.reason;
  return tr.t(key, { other: f.other_code || '—', area: Math.round(f.area_m2 || 0), detail: f.reason || '' });
}
