// Front-end rules other than the queue: Shanghai time whatever the machine's zone, SLA countdown
// words, the urgency order of the workbench, the steps offered per role, and the statistics.
import { describe, it, expect } from 'vitest';
import { formatTime, countdown } from './time.js';
import { allowedActions, byUrgency } from './cases.js';
import { perCategoryPerDay, onTimeRates, topCategories } from './stats.js';
import { loadPerGrid } from './grids.js';
import { i18n } from './i18n.js';

const t = i18n.getFixedT('en');

describe('time', () => {
  it('shows Shanghai time', () => {
    expect(formatTime('2026-11-24T02:05:00Z')).toBe('2026-11-24 10:05');
    expect(formatTime(0)).toBe('');
    expect(formatTime(1795000000)).toBe('2026-11-18 19:06');
    expect(formatTime('2026-11-24T23:30:00+08:00')).toBe('2026-11-24 23:30');
  });
  it('counts down in words', () => {
    expect(countdown(3 * 3600 + 20 * 60, t)).toEqual({ text: '3 h 20 min left', overdue: false, urgent: false });
    expect(countdown(-600, t)).toEqual({ text: 'Overdue by 10 min', overdue: true, urgent: false });
    expect(countdown(1200, t).urgent).toBe(true);
    expect(countdown(null, t).text).toBe('No deadline');
    // Due at 17:30, read at 20:00: no working time left or passed, yet overdue (the server's flag).
    expect(countdown(0, t, true)).toEqual({ text: 'Overdue by 0 min', overdue: true, urgent: false });
    expect(countdown(0, t, false)).toEqual({ text: '0 min left', overdue: false, urgent: true });
  });
});

describe('cases', () => {
  it('puts overdue first, then least time left', () => {
    const list = [
      { id: 1, remaining_s: 500 },
      { id: 2, remaining_s: -100, overdue: true },
      { id: 3, remaining_s: null },
      { id: 4, remaining_s: -5000, overdue: true },
      { id: 5, remaining_s: 100 },
    ];
    expect(list.sort(byUrgency).map((c) => c.id)).toEqual([4, 2, 5, 1, 3]);
  });
  it('offers the steps of the state machine per role, or the server list', () => {
    expect(allowedActions({ state: 'registered', tier: 'grid' }, ['operator'])).toEqual(['mark_duplicate', 'dispatch', 'escalate']);
    expect(allowedActions({ state: 'registered', tier: 'street' }, ['operator'])).toEqual(['mark_duplicate', 'dispatch']);
    expect(allowedActions({ state: 'dispatched', tier: 'grid' }, ['worker'])).toEqual(['accept', 'return']);
    expect(allowedActions({ state: 'handled' }, ['worker'])).toEqual([]);
    expect(allowedActions({ state: 'handled', actions: ['close'] }, ['worker'])).toEqual(['close']);
  });
});

describe('statistics', () => {
  it('picks the busiest categories', () => {
    const rows = [
      { key: '0101', reported: 3 },
      { key: '0102', reported: 0 },
      { key: '0201', reported: 5 },
      { key: '0301', reported: 3 },
    ];
    expect(topCategories(rows, 2)).toEqual(['0201', '0101']);
  });
  it('lines up days across categories', () => {
    const r = perCategoryPerDay({
      '0101': [{ key: '2026-11-24', reported: 2 }],
      '0201': [{ key: '2026-11-23', reported: 1 }, { key: '2026-11-24', reported: 4 }],
    });
    expect(r.days).toEqual(['2026-11-23', '2026-11-24']);
    expect(r.series).toEqual([
      { category: '0101', counts: [0, 2] },
      { category: '0201', counts: [1, 4] },
    ]);
  });
  it('rates closing on time in percent, leaving out groups that closed nothing', () => {
    const rows = [
      { key: 'a', closed: 2, on_time_rate: 0.5 },
      { key: 'b', closed: 0, on_time_rate: null },
      { key: 'c', closed: 3, on_time_rate: 2 / 3 },
    ];
    expect(onTimeRates(rows)).toEqual([
      { key: 'c', closed: 3, rate: 66.7 },
      { key: 'a', closed: 2, rate: 50 },
    ]);
  });
  it('counts load per grid prefix', () => {
    const cases = [{ grid: '3301990010010' }, { grid: '3301990010020' }, { grid: '3301990020010' }, { grid: null }];
    expect(loadPerGrid(cases, ['330199001', '330199002', '330199003'])).toEqual({ 330199001: 2, 330199002: 1, 330199003: 0 });
  });
});
