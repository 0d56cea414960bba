// Shapes the server's case statistics (GET /api/v1/stats/cases) for the charts: per-day series for
// the busiest categories (days without cases count 0), and rates as percentages. Pure functions,
// so the tests can check them.

/** The `top` categories by reported cases, from a group=category answer. */
export function topCategories(rows, top = 6) {
  return [...rows].filter((r) => r.reported > 0).sort((a, b) => b.reported - a.reported || (a.key < b.key ? -1 : 1)).slice(0, top).map((r) => r.key);
}

/** {days, series:[{category, counts}]} from {category: group=day rows}: one column per day seen. */
export function perCategoryPerDay(dayRowsByCategory) {
  const days = [...new Set(Object.values(dayRowsByCategory).flatMap((rows) => rows.map((r) => r.key)))].sort();
  const series = Object.entries(dayRowsByCategory).map(([category, rows]) => {
    const m = new Map(rows.map((r) => [r.key, r.reported]));
    return { category, counts: days.map((d) => m.get(d) || 0) };
  });
  return { days, series };
}

/** [{key, closed, rate (percent, one decimal)}] of rows that closed something, most closed first. */
export function onTimeRates(rows) {
  return rows
    .filter((r) => r.closed > 0 && r.on_time_rate !== null && r.on_time_rate !== undefined)
    .map((r) => ({ key: r.key, closed: r.closed, rate: Math.round(r.on_time_rate * 1000) / 10 }))
    .sort((a, b) => b.closed - a.closed || (a.key < b.key ? -1 : 1));
}
