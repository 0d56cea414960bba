// The case workbench: queues by state with their counts, overdue first, SLA countdowns, filters
// (category, grid, words, overdue only), and the selected case's detail beside the list.
import { useEffect, useState } from 'preact/hooks';
import { listCases, byUrgency, categories, OPEN_STATES, STATES, LIST_MAX } from '../lib/cases.js';
import { countdown, formatTime } from '../lib/time.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { ErrorBox, Loading, Empty, useT, tabKeys } from '../lib/ui.jsx';
import { CaseDetail } from './CaseDetail.jsx';
import { loadCategories } from '../lib/taxonomy.js';

const QUEUES = ['open', 'reported', 'registered', 'dispatched', 'in_progress', 'extension_requested', 'handled', 'returned', 'escalated', 'suspended', 'closed'];
const CLOSED = STATES.filter((s) => !OPEN_STATES.includes(s));

export function Cases({ ctx, selected }) {
  const t = useT();
  const [queue, setQueue] = useState('open');
  const [filters, setFilters] = useState({ q: '', category: '', grid: '', overdue: false });
  const [words, setWords] = useState(''); // the search box, applied on Enter
  const [open, setOpen] = useState(null); // every open case (for the queue counts)
  const [list, setList] = useState(null); // the chosen queue with the filters, from the server
  const [error, setError] = useState(null);
  const [cats, setCats] = useState([]);
  const [tick, setTick] = useState(0);

  const queueStates = (q) => (q === 'open' ? OPEN_STATES : q === 'closed' ? CLOSED : [q]).join(',');
  async function load() {
    setError(null);
    try {
      const [o, l] = await Promise.all([
        listCases({ state: OPEN_STATES.join(','), order: 'due', limit: LIST_MAX }),
        listCases({ state: queueStates(queue), category: filters.category, grid: filters.grid, q: filters.q, overdue: filters.overdue ? 'true' : '', order: 'due', limit: LIST_MAX }),
      ]);
      setOpen(o);
      setList(l);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    loadCategories(categories).then(setCats);
    const timer = setInterval(() => setTick((x) => x + 1), 30000);
    return () => clearInterval(timer);
  }, []);
  useEffect(() => {
    load();
  }, [queue, filters, tick]);

  const counts = Object.fromEntries(QUEUES.map((q) => [q, open ? open.cases.filter((c) => q === 'open' || c.state === q).length : null]));
  if (open) counts.open = open.total;
  counts.closed = null;
  const shown = list ? [...list.cases].sort(byUrgency) : [];

  return (
    <div class="workbench">
      <section class="queues" aria-label={t('cases.queues')}>
        <div role="tablist" aria-label={t('cases.queues')} onKeyDown={tabKeys}>
          {QUEUES.map((q) => (
            <button key={q} role="tab" type="button" aria-selected={queue === q} tabindex={queue === q ? 0 : -1} class={queue === q ? 'tab on' : 'tab'} onClick={() => setQueue(q)} data-queue={q}>
              {t(q === 'open' || q === 'closed' ? 'cases.queue.' + q : 'state.' + q)} {counts[q] !== null && <span class="count">{counts[q]}</span>}
            </button>
          ))}
        </div>
        <form
          class="filters"
          onSubmit={(e) => {
            e.preventDefault();
            setFilters({ ...filters, q: words.trim() });
          }}
          role="search"
        >
          <label>
            {t('cases.search')}
            <input type="search" value={words} onInput={(e) => setWords(e.currentTarget.value)} onBlur={() => setFilters({ ...filters, q: words.trim() })} placeholder={t('cases.searchHint')} />
          </label>
          <label>
            {t('cases.category')}
            <select value={filters.category} onChange={(e) => setFilters({ ...filters, category: e.currentTarget.value })}>
              <option value="">{t('common.all')}</option>
              {cats.map((c) => (
                <option key={c.code} value={c.code}>
                  {c.code.length > 2 ? '\u00a0\u00a0' : ''}
                  {nameOf(c)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('cases.grid')}
            <input value={filters.grid} onChange={(e) => setFilters({ ...filters, grid: e.currentTarget.value.trim() })} placeholder="330199001" inputmode="numeric" />
          </label>
          <label class="check">
            <input type="checkbox" checked={filters.overdue} onChange={(e) => setFilters({ ...filters, overdue: e.currentTarget.checked })} /> {t('cases.overdueOnly')}
          </label>
          <button type="button" onClick={load}>{t('common.refresh')}</button>
        </form>
        <ErrorBox error={error} onRetry={load} />
        {!list && !error && <Loading />}
        {list && !shown.length && <Empty text={t('cases.empty')} />}
        {list && list.total > shown.length && <p class="hint">{t('cases.more', { shown: shown.length, total: list.total })}</p>}
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
              const cd = countdown(c.remaining_s, t, c.overdue);
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
                  <td class="sla">
                    {OPEN_STATES.includes(c.state) ? cd.text : '—'}
                    {OPEN_STATES.includes(c.state) && c.due_at ? (
                      <div class="due">{t('sla.due', { at: formatTime(c.due_at, i18n.language).slice(5) })}</div>
                    ) : null}
                  </td>
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
