// Times as people in the district read them: Asia/Shanghai whatever the browser's own zone, and
// SLA countdowns in working hours and minutes (the server gives remaining working seconds).
export const ZONE = 'Asia/Shanghai';

const cache = new Map();
function fmt(lang, opts) {
  const k = lang + JSON.stringify(opts);
  if (!cache.has(k)) cache.set(k, new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : 'zh-CN', { timeZone: ZONE, hourCycle: 'h23', ...opts }));
  return cache.get(k);
}

/** "2026-11-24 10:05" in Shanghai time; value: ISO string, Unix seconds or Date; '' for none. */
export function formatTime(value, lang = 'zh-CN') {
  if (value === null || value === undefined || value === '' || value === 0) return '';
  const d = typeof value === 'number' ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  const p = Object.fromEntries(
    fmt(lang, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' })
      .formatToParts(d)
      .map((x) => [x.type, x.value]),
  );
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}

/** The date part only, "2026-11-24", in Shanghai time. */
export function formatDay(value, lang = 'zh-CN') {
  return formatTime(value, lang).slice(0, 10);
}

/**
 * Working seconds left as {text, overdue, urgent}: "3h 20m"/"3小时20分", negative = overdue.
 * `overdue`: the server's flag (due time passed). It wins over the seconds: a case due at 17:30
 * is overdue at 20:00 although no working time has passed since, and reads "overdue by 0 min".
 */
export function countdown(seconds, t, overdue) {
  if (seconds === null || seconds === undefined) return { text: t('sla.none'), overdue: !!overdue, urgent: false };
  const late = overdue === undefined ? seconds < 0 : !!overdue;
  const s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const span = h > 0 ? t('sla.hm', { h, m }) : t('sla.m', { m });
  return { text: late ? t('sla.overdue', { span }) : t('sla.left', { span }), overdue: late, urgent: !late && s < 3600 };
}
