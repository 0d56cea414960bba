// Case statistics for the charts, computed from case records: cases per category per day (in
// Shanghai days) and on-time rates (closed at or before the handling deadline) per grid and per
// department. Pure functions, so the tests can check them.
import { formatDay } from './time.js';

export function perCategoryPerDay(cases, lang) {
  const days = [...new Set(cases.map((c) => formatDay(c.reported_at, lang)).filter(Boolean))].sort();
  const cats = [...new Set(cases.map((c) => c.category))].sort();
  const series = cats.map((cat) => ({ category: cat, counts: days.map((d) => cases.filter((c) => c.category === cat && formatDay(c.reported_at, lang) === d).length) }));
  return { days, series };
}

const closedStates = ['verified_closed', 'evaluated'];

function onTime(c) {
  const by = c.deadlines && c.deadlines.handle_by;
  if (!c.closed_at || !by) return null;
  return new Date(c.closed_at).getTime() <= new Date(by).getTime();
}

/** [{key, closed, on_time, rate}] per key(c) over closed cases, most closed first. */
export function onTimeRates(cases, key) {
  const m = new Map();
  for (const c of cases) {
    if (!closedStates.includes(c.state)) continue;
    const k = key(c);
    if (!k) continue;
    const r = m.get(k) || { key: k, closed: 0, on_time: 0 };
    r.closed++;
    if (onTime(c)) r.on_time++;
    m.set(k, r);
  }
  return [...m.values()].map((r) => ({ ...r, rate: r.closed ? r.on_time / r.closed : 0 })).sort((a, b) => b.closed - a.closed || (a.key < b.key ? -1 : 1));
}
