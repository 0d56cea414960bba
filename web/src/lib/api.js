// The one way the pages talk to civgrid's API: JSON in and out, the console's cookie session with
// its CSRF token for writes, or the field app's bearer token; every failure becomes an ApiError
// carrying the server's error body (code, message, field) or "offline" when no answer came.

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

const auth = { csrf: '', token: '' };

/** The console keeps its CSRF token only in memory (it is asked again from /auth/me). */
export function setCsrf(csrf) {
  auth.csrf = csrf || '';
}
/** The field app's bearer token (kept by the caller; '' for none). */
export function setToken(token) {
  auth.token = token || '';
}
export function hasToken() {
  return !!auth.token;
}

function headersFor(method, extra) {
  const h = { Accept: 'application/json', ...extra };
  if (auth.token) h.Authorization = 'Bearer ' + auth.token;
  else if (method !== 'GET' && method !== 'HEAD' && auth.csrf) h['X-CSRF-Token'] = auth.csrf;
  return h;
}

async function parse(r) {
  const type = r.headers.get('Content-Type') || '';
  if (type.includes('json')) {
    try {
      return await r.json();
    } catch {
      return null;
    }
  }
  return r.text();
}

/**
 * One request. body: a plain object (sent as JSON), FormData (multipart) or undefined. signal: an
 * AbortSignal that cancels it (the caller's AbortController), then the fetch's AbortError is
 * thrown as it is, not as an ApiError. Returns the parsed answer; throws ApiError.
 */
export async function request(method, path, body, extraHeaders = {}, fetchImpl = globalThis.fetch, signal = undefined) {
  const headers = headersFor(method, extraHeaders);
  let payload;
  if (body instanceof FormData || body instanceof Blob) payload = body;
  else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let r;
  try {
    r = await fetchImpl(path, { method, headers, body: payload, credentials: 'same-origin', ...(signal ? { signal } : {}) });
  } catch (e) {
    if (isAbort(e)) throw e;
    throw new ApiError(0, 'offline', String(e && e.message ? e.message : e));
  }
  const doc = await parse(r);
  if (!r.ok) {
    const e = doc && typeof doc === 'object' && doc.error ? doc.error : null;
    if (!e && Array.isArray(doc) && doc[0] && doc[0].description) {
      // Open311's error list: [{code, description}], the field named before a colon.
      const d = String(doc[0].description);
      const m = d.match(/^([a-z_]+): (.*)$/);
      const code = r.status === 404 ? 'not_found' : r.status === 403 ? 'forbidden' : r.status >= 500 ? 'unavailable' : 'invalid';
      throw new ApiError(r.status, code, m ? m[2] : d, m ? m[1] : null);
    }
    throw new ApiError(r.status, e ? e.code : 'http_' + r.status, e ? e.message : '', e ? e.field : null);
  }
  return doc;
}

export const get = (path) => request('GET', path);
export const post = (path, body, headers, signal) => request('POST', path, body, headers, undefined, signal);

/** Whether an error is a request cancelled through its AbortSignal. */
export function isAbort(e) {
  return !!e && e.name === 'AbortError';
}
export const put = (path, body) => request('PUT', path, body);
export const patch = (path, body) => request('PATCH', path, body);

/** A query string from an object, leaving out empty values. */
export function qs(params) {
  const parts = [];
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(v));
  }
  return parts.length ? '?' + parts.join('&') : '';
}

/** Words for an error, in the page's language: what happened, then the server's detail. */
export function errorText(t, err) {
  if (!(err instanceof ApiError)) return t('error.unexpected', { detail: String(err && err.message ? err.message : err) });
  const known = ['offline', 'unauthenticated', 'forbidden', 'rate_limited', 'invalid', 'not_found', 'conflict', 'too_large', 'unavailable', 'internal', 'csrf'];
  const key = known.includes(err.code) ? 'error.' + err.code : err.status === 409 ? 'error.conflict' : 'error.unexpected';
  const head = t(key, { detail: err.message });
  const field = err.field ? t('error.field', { field: err.field }) : '';
  const detail = err.code === 'offline' || key === 'error.unexpected' || !err.message ? '' : ' — ' + err.message;
  return head + field + detail;
}
