// i18n completeness: both languages have exactly the same keys, no empty text, the same
// {{placeholders}} per key, and every key the source asks for with t('...') exists (dynamic
// families such as state.* are checked against the names the server uses).
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import zh from './zh-CN.js';
import en from './en.js';
import { STATES } from '../lib/cases.js';

const here = dirname(fileURLToPath(import.meta.url));

function flat(o, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? prefix + '.' + k : k;
    if (v && typeof v === 'object') flat(v, key, out);
    else out[key] = v;
  }
  return out;
}
const Z = flat(zh);
const E = flat(en);
const vars = (s) => [...String(s).matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1]).sort();

function sources(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return sources(p);
    return /\.(js|jsx)$/.test(f) && !f.endsWith('.test.js') ? [p] : [];
  });
}

describe('i18n', () => {
  it('has the same keys in both languages', () => {
    expect(Object.keys(E).sort()).toEqual(Object.keys(Z).sort());
  });
  it('has no empty text and the same placeholders', () => {
    for (const k of Object.keys(Z)) {
      expect(String(Z[k]).trim(), k).not.toBe('');
      expect(String(E[k]).trim(), k).not.toBe('');
      expect(vars(E[k]), k).toEqual(vars(Z[k]));
    }
  });
  it('has every key the source uses', () => {
    const used = new Set();
    for (const f of sources(join(here, '..'))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/\bt\('([a-zA-Z0-9_.]+)'/g)) used.add(m[1]);
    }
    expect(used.size).toBeGreaterThan(100);
    const missing = [...used].filter((k) => !k.endsWith('.') && !(k in Z));
    expect(missing).toEqual([]);
  });
  it('names every case state, action, level, grade, role and error code', () => {
    const need = [
      ...STATES.map((s) => 'state.' + s),
      ...['register', 'reject', 'mark_duplicate', 'dispatch', 'accept', 'return', 'request_extension', 'approve_extension', 'deny_extension', 'suspend', 'resume', 'escalate', 'handle', 'close', 'evaluate', 'reopen'].map((a) => 'action.' + a),
      ...['district', 'street', 'community', 'grid', 'subgrid'].map((l) => 'level.' + l),
      ...['routine', 'guarded', 'focus', 'strict', 'none'].map((g) => 'grade.' + g),
      ...['worker', 'leader', 'operator', 'handler', 'inspector', 'admin'].map((r) => 'role.' + r),
      ...['offline', 'unauthenticated', 'forbidden', 'rate_limited', 'invalid', 'not_found', 'conflict', 'too_large', 'unavailable', 'internal', 'csrf'].map((c) => 'error.' + c),
      ...['invalid', 'outside_parent', 'overlap', 'gap'].map((k) => 'finding.' + k),
      ...['worker', 'resident', 'hotline', 'patrol', 'inspection'].map((s) => 'source.' + s),
    ];
    expect(need.filter((k) => !(k in Z) || !(k in E))).toEqual([]);
  });
});
