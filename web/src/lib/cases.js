// The cases API as the pages use it (staff: /api/v1/cases..., residents: /open311/v2/...), and the
// case state machine of docs/cases.md, used to show only the steps this user may take when the
// server does not list them itself. Everything about case URLs and shapes lives here.
import { get, post, request, qs } from './api.js';

export const STATES = [
  'reported', 'registered', 'dispatched', 'in_progress', 'extension_requested', 'handled',
  'returned', 'escalated', 'suspended', 'reopened', 'verified_closed', 'evaluated', 'rejected', 'duplicate',
];
export const OPEN_STATES = ['reported', 'registered', 'dispatched', 'in_progress', 'extension_requested', 'handled', 'returned', 'escalated', 'suspended', 'reopened'];

// from states -> action -> roles (docs/cases.md, the table of the state machine).
const STEPS = [
  [['reported'], 'register', ['operator', 'admin']],
  [['reported'], 'reject', ['operator', 'admin']],
  [['reported', 'registered'], 'mark_duplicate', ['operator', 'admin']],
  [['registered', 'returned', 'escalated', 'reopened'], 'dispatch', ['operator', 'admin']],
  [['dispatched'], 'accept', ['handler', 'worker', 'admin']],
  [['dispatched', 'in_progress'], 'return', ['handler', 'worker', 'admin']],
  [['handled'], 'return', ['operator', 'inspector', 'admin']],
  [['in_progress'], 'request_extension', ['handler', 'worker', 'admin']],
  [['extension_requested'], 'approve_extension', ['operator', 'admin']],
  [['extension_requested'], 'deny_extension', ['operator', 'admin']],
  [['dispatched', 'in_progress'], 'suspend', ['operator', 'admin']],
  [['suspended'], 'resume', ['operator', 'admin']],
  [['registered', 'dispatched', 'in_progress', 'returned'], 'escalate', ['operator', 'leader', 'admin']],
  [['in_progress'], 'handle', ['handler', 'worker', 'admin']],
  [['handled'], 'close', ['operator', 'admin']],
  [['verified_closed'], 'evaluate', ['operator', 'inspector', 'admin']],
  [['verified_closed', 'evaluated'], 'reopen', ['operator', 'inspector', 'admin']],
];

/** The actions a user with `roles` may take on a case: the server's list when it gives one. */
export function allowedActions(c, roles) {
  if (c && Array.isArray(c.actions)) return c.actions;
  if (!c) return [];
  const out = [];
  for (const [from, action, who] of STEPS) {
    if (!from.includes(c.state) || !who.some((r) => roles.includes(r))) continue;
    if (action === 'escalate' && c.tier === 'street') continue;
    if (!out.includes(action)) out.push(action);
  }
  return out;
}

/** Open cases first by urgency: overdue first (most overdue first), then least time left. */
export function byUrgency(a, b) {
  const ra = a.remaining_s ?? Infinity;
  const rb = b.remaining_s ?? Infinity;
  if (!!a.overdue !== !!b.overdue) return a.overdue ? -1 : 1;
  if (ra !== rb) return ra - rb;
  return (b.id || 0) - (a.id || 0);
}

/** GET /api/v1/cases with filters: {state, grid, category, overdue, q, limit, offset}. */
export async function listCases(filters = {}) {
  const doc = await get('/api/v1/cases' + qs(filters));
  return { cases: doc.cases || [], total: doc.total ?? (doc.cases || []).length };
}

export const LIST_MAX = 500;

/** One case with what goes with it: {case (with .actions), history, photos}. */
export async function getCase(id) {
  const doc = await get(`/api/v1/cases/${encodeURIComponent(id)}`);
  const c = { ...doc.case, actions: doc.actions };
  return { case: c, history: doc.history || [], photos: doc.photos || [] };
}

/** One step: {action, note, assignee, extension, duplicate_of, evaluation, version}. */
export const transition = (id, step, headers) => post(`/api/v1/cases/${encodeURIComponent(id)}/transitions`, step, headers);

export async function suggestions(id) {
  const doc = await get(`/api/v1/cases/${encodeURIComponent(id)}/suggestions`);
  return Array.isArray(doc) ? doc : doc.suggestions || [];
}

/** A new case by staff (field app): the idempotency key makes a retried send make one case. */
export const createCase = (body, idemKey) => post('/api/v1/cases', body, idemKey ? { 'Idempotency-Key': idemKey } : {});

export const addPhoto = (id, blob) => request('POST', `/api/v1/cases/${encodeURIComponent(id)}/photos`, blob, { 'Content-Type': blob.type || 'application/octet-stream' });

export const photoUrl = (id, sha) => `/api/v1/cases/${encodeURIComponent(id)}/photos/${encodeURIComponent(sha)}`;

/** Rows of GET /api/v1/stats/cases: {group, since, until, rows:[{key, reported, ..., on_time_rate}]}. */
export const caseStats = (params) => get('/api/v1/stats/cases' + qs(params));

/** Categories and their groups, [{code, name_zh, name_en, ...}], from the staff API or Open311. */
export async function categories() {
  try {
    const doc = await get('/api/v1/categories');
    return Array.isArray(doc) ? doc : doc.categories || [];
  } catch (e) {
    return residentServices();
  }
}

/** Open311 service list as categories, names in both languages (two answers merged). */
export async function residentServices() {
  const [zh, en] = await Promise.all([get('/open311/v2/services.json?lang=zh'), get('/open311/v2/services.json?lang=en')]);
  const english = new Map((en || []).map((s) => [s.service_code, s]));
  return (zh || []).map((s) => {
    const e = english.get(s.service_code) || s;
    return { code: s.service_code, name_zh: s.service_name, name_en: e.service_name, group_zh: s.group || '', group_en: e.group || '' };
  });
}

/** Open311 report: form fields (with the page's api_key); returns [{service_request_id, token, ...}]. */
export async function residentReport(fields, photo) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && v !== null && v !== '') form.append(k, String(v));
  if (photo) form.append('media', photo, photo.name || 'photo.jpg');
  return request('POST', '/open311/v2/requests.json', form);
}

export async function residentLookup(id) {
  const doc = await get(`/open311/v2/requests/${encodeURIComponent(id)}.json`);
  return Array.isArray(doc) ? doc[0] : doc;
}
