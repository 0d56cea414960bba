// The case workbench: queues by state with their counts, overdue first, SLA countdowns, filters
// (category, grid, words, overdue only), and the selected case's detail beside the list.
import { useEffect, useState } from 'preact/hooks';
import { listCases, byUrgency, OPEN_STATES, STATES } from '../lib/cases.js';
import { countdown, formatTime } from '../lib/time.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { ErrorBox, Loading, Empty, useT } from '../lib/ui.jsx';
import { CaseDetail } from './CaseDetail.jsx';

const QUEUES = ['open', 'reported', 'registered', 'dispatched', 'in_progress', 'extension_requested', 'handled', 'returned', 'escalated', 'suspended', 'closed'];
const CLOSED = STATES.filter((s) => !OPEN_STATES.includes(s));

export function Cases({ ctx, selected }) {
  const t = useT();
  const [queue, setQueue] = useState('open');
  const [filters, setFilters] = useState({ q: '', category: '', grid: '', overdue: false });
  const [all, setAll] = useState(null);
  const [error, setError] = useState(null);
  const [tick, setTick] = useState(0);

  async function load() {
    setError(null);
    try {
      const r = await listCases({ limit: 1000 });
      setAll(r.cases);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
    const timer = setInterval(() => setTick((x) => x + 1), 30000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    if (tick) load();
  }, [tick]);

  const inQueue = (c, q) => (q === 'open' ? OPEN_STATES.includes(c.state) : q === 'closed' ? CLOSED.includes(c.state) : c.state === q);
  const counts = Object.fromEntries(QUEUES.map((q) => [q, all ? all.filter((c) => inQueue(c, q)).length : 0]));
  const words = filters.q.trim().toLowerCase();
  const shown = (all || [])
    .filter((c) => inQueue(c, queue))
    .filter((c) => !filters.overdue || c.overdue)
    .filter((c) => !filters.category || (c.category || '').startsWith(filters.category))
    .filter((c) => !filters.grid || (c.grid || '').startsWith(filters.grid))
    .filter((c) => !words || String(c.id) === words || (c.description || '').toLowerCase().includes(words) || (c.address || '').toLowerCase().includes(words))
    .sort(byUrgency);
  const cats = [...new Map((all || []).map((c) => [c.category, c.category_name])).entries()].sort();

  return (
    <div class="workbench">
      <section class="queues" aria-label={t('cases.queues')}>
        <div role="tablist" aria-label={t('cases.queues')}>
          {QUEUES.map((q) => (
            <button key={q} role="tab" type="button" aria-selected={queue === q} class={queue === q ? 'tab on' : 'tab'} onClick={() => setQueue(q)} data-queue={q}>
              {t(q === 'open' || q === 'closed' ? 'cases.queue.' + q : 'state.' + q)} <span class="count">{counts[q]}</span>
            </button>
          ))}
        </div>
        <form class="filters" onSubmit={(e) => e.preventDefault()} role="search">
          <label>
            {t('cases.search')}
            <input type="search" value={filters.q} onInput={(e) => setFilters({ ...filters, q: e.currentTarget.value })} placeholder={t('cases.searchHint')} />
          </label>
          <label>
            {t('cases.category')}
            <select value={filters.category} onChange={(e) => setFilters({ ...filters, category: e.currentTarget.value })}>
              <option value="">{t('common.all')}</option>
              {cats.map(([code, name]) => (
                <option key={code} value={code}>{nameOf(name) || code}</option>
              ))}
            </select>
          </label>
          <label>
            {t('cases.grid')}
            <input value={filters.grid} onInput={(e) => setFilters({ ...filters, grid: e.currentTarget.value.trim() })} placeholder="330199001" inputmode="numeric" />
          </label>
          <label class="check">
            <input type="checkbox" checked={filters.overdue} onChange={(e) => setFilters({ ...filters, overdue: e.currentTarget.checked })} /> {t('cases.overdueOnly')}
          </label>
          <button type="button" onClick={load}>{t('common.refresh')}</button>
        </form>
        <ErrorBox error={error} onRetry={load} />
        {!all && !error && <Loading />}
        {all && !shown.length && <Empty text={t('cases.empty')} />}
        <table class="cases" aria-label={t('cases.list')}>
          <thead>
            <tr>
              <th scope="col">{t('cases.no')}</th>
              <th scope="col">{t('cases.category')}</th>
              <th scope="col">{t('cases.state')}</th>
              <th scope="col">{t('cases.sla')}</th>
              <th scope="col">{t('cases.reported')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((c) => {
              const cd = countdown(c.remaining_s, t);
              return (
                <tr key={c.id} class={(selected == c.id ? 'sel ' : '') + (cd.overdue ? 'overdue' : cd.urgent ? 'urgent' : '')}>
                  <td>
                    <a href={'#/cases/' + c.id} data-case={c.id}>#{c.id}</a>
                  </td>
                  <td>
                    {nameOf(c.category_name) || c.category}
                    <div class="desc">{c.description}</div>
                  </td>
                  <td>
                    <span class={'badge s-' + c.state}>{t('state.' + c.state)}</span>
                  </td>
                  <td class="sla">{OPEN_STATES.includes(c.state) ? cd.text : '—'}</td>
                  <td>{formatTime(c.reported_at, i18n.language)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </section>
      <section class="detail" aria-label={t('cases.detail')}>
        {selected ? <CaseDetail key={selected} id={selected} ctx={ctx} onChanged={load} /> : <Empty text={t('cases.pick')} />}
      </section>
    </div>
  );
}
