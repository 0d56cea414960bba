// Case categories for the report forms: the server's list when it answers (and the last answer
// kept for use without signal), else the default taxonomy the server itself embeds
// (src/model/category_default.json, bundled at build time). Groups become <optgroup>s.
import fallback from '../../../src/model/category_default.json';

const KEY = 'civgrid.categories';

/** [{code, name_zh, name_en, children:[...]}] groups with their fileable sub-categories. */
export function grouped(list) {
  const groups = new Map();
  for (const c of list) if (c.code.length === 2) groups.set(c.code, { ...c, children: [] });
  for (const c of list) {
    if (c.code.length <= 2) continue;
    const g = groups.get(c.code.slice(0, 2)) || { code: c.code.slice(0, 2), name_zh: c.group_zh || '', name_en: c.group_en || c.group_zh || '', children: [] };
    g.children.push(c);
    groups.set(g.code, g);
  }
  return [...groups.values()].filter((g) => g.children.length);
}

export function defaultCategories() {
  return fallback.categories;
}

/** Loads categories with `fetcher` (async -> list); remembers them; falls back as above. */
export async function loadCategories(fetcher) {
  try {
    const list = await fetcher();
    if (list && list.length) {
      try {
        localStorage.setItem(KEY, JSON.stringify(list));
      } catch {
        /* no storage */
      }
      return list;
    }
  } catch {
    /* offline or no such route: use what we have */
  }
  try {
    const kept = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (kept && kept.length) return kept;
  } catch {
    /* ignored */
  }
  return defaultCategories();
}
