// The grid worker's app: my tasks (kept for use without signal), reporting a case with photo and
// GPS, and steps on a task. Everything written goes through the outbox (IndexedDB), which sends
// it when there is a connection, exactly once, and shows what is still waiting.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, post, setToken, ApiError } from '../lib/api.js';
import { listCases, allowedActions, OPEN_STATES, byUrgency, categories } from '../lib/cases.js';
import { openQueue } from '../lib/queue.js';
import { grouped, loadCategories } from '../lib/taxonomy.js';
import { countdown, formatTime } from '../lib/time.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { LocationPicker } from '../lib/LocationPicker.jsx';
import { ErrorBox, Empty, LangSwitch, Loading, LoginForm, useT, tabKeys } from '../lib/ui.jsx';
import { sendItem } from './outbox.js';
import { bboxOf, saveArea, storedTiles, SAVE_MAX } from '../lib/offline-tiles.js';

const TOKEN = 'civgrid.field.token';
const ME = 'civgrid.field.me';
const TASKS = 'civgrid.field.tasks';
const GRIDS = 'civgrid.field.grids'; // the worker's grids, so the map opens on them offline
const FIELD_ACTIONS = ['accept', 'handle', 'return', 'request_extension'];

function stored(key) {
  try {
    return JSON.parse(localStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}
function store(key, v) {
  try {
    if (v === null) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(v));
  } catch {
    /* no storage */
  }
}

function useOnline() {
  const [on, setOn] = useState(navigator.onLine);
  useEffect(() => {
    const a = () => setOn(true);
    const b = () => setOn(false);
    addEventListener('online', a);
    addEventListener('offline', b);
    return () => {
      removeEventListener('online', a);
      removeEventListener('offline', b);
    };
  }, []);
  return on;
}

function Tasks({ me, queue, flush }) {
  const t = useT();
  const [tasks, setTasks] = useState(stored(TASKS));
  const [error, setError] = useState(null);
  const [open, setOpen] = useState(null);
  async function load() {
    setError(null);
    try {
      const r = await listCases({ assignee: 'me', state: OPEN_STATES.join(','), limit: 200 });
      setTasks(r.cases);
      store(TASKS, r.cases);
    } catch (e) {
      setError(e);
    }
  }
  useEffect(() => {
    load();
  }, []);
  async function step(c, action, note) {
    await queue.add({ kind: 'step', label: `#${c.id} ${t('action.' + action)}`, payload: { case_id: c.id, action, note, version: c.version } });
    setOpen(null);
    flush();
  }
  const list = (tasks || []).slice().sort(byUrgency);
  return (
    <section aria-labelledby="tasks-title">
      <div class="page-head">
        <h2 id="tasks-title">{t('field.tasks')}</h2>
        <button type="button" onClick={load}>{t('common.refresh')}</button>
      </div>
      {error && tasks && <p class="hint">{t('field.tasksStale')}</p>}
      {error && !tasks && <ErrorBox error={error} onRetry={load} />}
      {!tasks && !error && <Loading />}
      {tasks && !list.length && <Empty text={t('field.noTasks')} />}
      <ul class="cards">
        {list.map((c) => {
          const cd = countdown(c.remaining_s, t, c.overdue);
          const acts = allowedActions(c, me.account.roles).filter((a) => FIELD_ACTIONS.includes(a));
          return (
            <li key={c.id} class={'card task ' + (cd.overdue ? 'overdue' : '')}>
              <div class="task-head">
                <strong>#{c.id} {nameOf(c.category_name) || c.category}</strong>
                <span class={'badge s-' + c.state}>{t('state.' + c.state)}</span>
              </div>
              <p>{c.description}</p>
              <p class={'sla ' + (cd.overdue ? 'overdue' : cd.urgent ? 'urgent' : '')}>{cd.text}</p>
              {c.address && <p class="hint">{c.address}</p>}
              {open === c.id ? (
                <StepForm acts={acts} onCancel={() => setOpen(null)} onStep={(a, note) => step(c, a, note)} />
              ) : (
                acts.length > 0 && (
                  <button type="button" onClick={() => setOpen(c.id)}>
                    {t('field.update')}
                  </button>
                )
              )}
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function StepForm({ acts, onStep, onCancel }) {
  const t = useT();
  const [action, setAction] = useState(acts[0]);
  const [note, setNote] = useState('');
  return (
    <form
      class="stack"
      onSubmit={(e) => {
        e.preventDefault();
        onStep(action, note);
      }}
    >
      <label for="step-action">{t('field.step')}</label>
      <select id="step-action" value={action} onChange={(e) => setAction(e.currentTarget.value)}>
        {acts.map((a) => (
          <option key={a} value={a}>{t('action.' + a)}</option>
        ))}
      </select>
      <label for="step-note">{t('case.note')}</label>
      <textarea id="step-note" rows="2" value={note} onInput={(e) => setNote(e.currentTarget.value)} maxlength="2000" />
      <div class="buttons">
        <button type="button" onClick={onCancel}>{t('common.cancel')}</button>
        <button type="submit" class="primary">{t('common.save')}</button>
      </div>
    </form>
  );
}

/** The base map without signal: how many tiles this phone keeps, and saving the worker's area. */
function OfflineMap({ grids }) {
  const t = useT();
  const [count, setCount] = useState(null);
  const [saving, setSaving] = useState(null); // {done, total} while saving
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const supported = typeof caches !== 'undefined';
  const refresh = () => storedTiles().then(setCount, () => setCount(null));
  useEffect(() => {
    if (supported) refresh();
  }, []);
  if (!supported) return <p class="hint">{t('field.offlineMapUnsupported')}</p>;
  const bbox = bboxOf(grids);
  async function save() {
    setError(null);
    setResult(null);
    setSaving({ done: 0, total: 0 });
    try {
      const token = stored(TOKEN);
      const r = await saveArea(bbox, { headers: token ? { Authorization: 'Bearer ' + token } : {}, onProgress: (done, total) => setSaving({ done, total }) });
      setResult(r);
      if (!r.saved) setError(t('field.offlineMapFailed'));
    } catch (e) {
      setError(t('field.offlineMapFailed') + ' (' + String(e && e.message ? e.message : e) + ')');
    }
    setSaving(null);
    refresh();
  }
  return (
    <div class="offline-map" data-testid="offline-map">
      <p class="hint" role="status" aria-live="polite">
        {count === null ? t('field.offlineMapUnknown') : t('field.offlineMapCount', { count })}{' '}
        {result && <span data-testid="tiles-saved">{t('field.offlineMapSaved', { saved: result.saved, total: result.total })}</span>}
      </p>
      {saving ? (
        <Loading text={t('field.offlineMapSaving', { done: saving.done, total: saving.total })} />
      ) : (
        <button type="button" onClick={save} disabled={!bbox || !navigator.onLine} data-testid="save-area">
          {t('field.offlineMapSave')}
        </button>
      )}
      {!bbox && <p class="hint">{t('field.offlineMapNoArea')}</p>}
      <p class="hint">{t('field.offlineMapHint', { max: SAVE_MAX })}</p>
      <ErrorBox error={error} />
    </div>
  );
}

function ReportForm({ queue, flush, onQueued }) {
  const t = useT();
  const [cats, setCats] = useState(null);
  const [where, setWhere] = useState(null);
  // The grids kept on the device at once (the map opens on them, also without signal), then the
  // server's when there is signal.
  const [grids, setGrids] = useState(() => stored(GRIDS));
  const [error, setError] = useState(null);
  useEffect(() => {
    loadCategories(categories).then(setCats);
    get('/api/v1/grids?format=geojson&level=grid&limit=2000').then(
      (fc) => {
        store(GRIDS, fc);
        setGrids(fc);
      },
      () => {},
    );
  }, []);
  async function submit(e) {
    e.preventDefault();
    const f = e.currentTarget;
    if (!where) {
      setError(t('report.needWhere'));
      return;
    }
    setError(null);
    const photo = f.photo.files[0] || null;
    const payload = { category: f.category.value, description: f.description.value, lat: where.lat, lon: where.lon, source: 'worker' };
    if (f.address.value) payload.address = f.address.value;
    await queue.add({ kind: 'report', label: f.description.value.slice(0, 60), payload, photo });
    f.reset();
    setWhere(null);
    onQueued();
    flush();
  }
  return (
    <form class="stack" onSubmit={submit} aria-labelledby="freport-title">
      <h2 id="freport-title">{t('field.report')}</h2>
      <label for="category">{t('report.category')}</label>
      {!cats ? (
        <Loading />
      ) : (
        <select id="category" name="category" required>
          <option value="">{t('report.pickCategory')}</option>
          {grouped(cats).map((g) => (
            <optgroup key={g.code} label={nameOf(g)}>
              {g.children.map((c) => (
                <option key={c.code} value={c.code}>{nameOf(c)}</option>
              ))}
            </optgroup>
          ))}
        </select>
      )}
      <label for="description">{t('report.description')}</label>
      <textarea id="description" name="description" required maxlength="4000" rows="3" />
      <LocationPicker value={where} onChange={setWhere} gridsFc={grids} />
      <OfflineMap grids={grids} />
      <label for="address">{t('report.address')}</label>
      <input id="address" name="address" maxlength="256" />
      <label for="photo">{t('report.photo')}</label>
      <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" capture="environment" />
      <ErrorBox error={error} />
      <button type="submit" class="primary big">{t('field.save')}</button>
      <p class="hint">{t('field.saveHint')}</p>
    </form>
  );
}

function Outbox({ items, sent, queue, flush, online }) {
  const t = useT();
  return (
    <section aria-labelledby="outbox-title">
      <div class="page-head">
        <h2 id="outbox-title">{t('field.outbox')}</h2>
        <button type="button" onClick={flush} disabled={!online}>{t('field.sendNow')}</button>
      </div>
      {!items.length && <Empty text={t('field.nothingPending')} />}
      <ul class="cards" data-testid="pending">
        {items.map((it) => (
          <li key={it.key} class={'card ' + (it.state === 'failed' ? 'failed' : 'pending')}>
            <strong>{it.kind === 'report' ? t('field.kindReport') : t('field.kindStep')}</strong> {it.label}
            <p class="hint">
              {formatTime(Math.floor(it.created_at / 1000), i18n.language)} · {it.state === 'failed' ? t('field.failed', { detail: it.error }) : t('field.waiting')}
            </p>
            {it.state === 'failed' && (
              <div class="buttons">
                <button type="button" onClick={() => queue.retry(it.key).then(flush)}>{t('common.retry')}</button>
                <button type="button" onClick={() => confirm(t('field.discardConfirm')) && queue.remove(it.key)}>{t('field.discard')}</button>
              </div>
            )}
          </li>
        ))}
      </ul>
      <h3>{t('field.sent')}</h3>
      {!sent.length && <Empty text={t('field.nothingSent')} />}
      <ul class="cards" data-testid="sent">
        {sent.slice(0, 20).map((it) => (
          <li key={it.key} class="card sent">
            <strong>{it.kind === 'report' ? t('field.kindReport') : t('field.kindStep')}</strong> {it.label}
            <p class="hint">
              {t('field.sentAs', { id: it.result && it.result.case_id })} · {formatTime(Math.floor(it.sent_at / 1000), i18n.language)}
            </p>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Field() {
  const t = useT();
  const online = useOnline();
  const [me, setMe] = useState(stored(ME));
  const [tab, setTab] = useState('tasks');
  const [queue, setQueue] = useState(null);
  const [items, setItems] = useState([]);
  const [sent, setSent] = useState([]);
  const [notice, setNotice] = useState('');
  const qref = useRef(null);

  const token = stored(TOKEN);
  if (token) setToken(token);

  useEffect(() => {
    openQueue({ locks: navigator.locks }).then((q) => {
      qref.current = q;
      const refresh = async () => {
        setItems(await q.pending());
        setSent(await q.sent());
      };
      q.onChange(refresh);
      refresh();
      setQueue(q);
    });
  }, []);

  async function flush() {
    const q = qref.current;
    if (!q || !stored(TOKEN) || !navigator.onLine) return;
    const r = await q.flush(sendItem);
    if (r.sent) setNotice(t('field.synced', { count: r.sent }));
  }
  useEffect(() => {
    if (!queue || !me) return;
    flush();
    const on = () => flush();
    addEventListener('online', on);
    const timer = setInterval(flush, 20000);
    return () => {
      removeEventListener('online', on);
      clearInterval(timer);
    };
  }, [queue, me]);

  // Confirms the stored login when there is signal (a token may have been revoked).
  useEffect(() => {
    if (!me || !navigator.onLine) return;
    get('/api/v1/auth/me').then(
      (m) => {
        store(ME, m);
        setMe(m);
      },
      (e) => {
        if (e instanceof ApiError && e.status === 401) logout();
      },
    );
  }, []);

  function logout() {
    post('/api/v1/auth/logout').catch(() => {});
    store(TOKEN, null);
    store(ME, null);
    store(TASKS, null);
    store(GRIDS, null);
    setToken('');
    setMe(null);
  }

  useEffect(() => {
    document.title = t('field.title');
  });

  if (!me)
    return (
      <LoginForm
        title={t('field.title')}
        onLogin={async (username, password) => {
          const doc = await post('/api/v1/auth/login', { username, password, client: 'token' });
          store(TOKEN, doc.token);
          setToken(doc.token);
          const m = await get('/api/v1/auth/me');
          store(ME, m);
          setMe(m);
        }}
      />
    );

  const pending = items.length;
  return (
    <div class="phone">
      <header class="top slim">
        <span class="brand">
          <img src="/icon.svg" alt="" width="24" height="24" /> {t('field.title')}
        </span>
        <span class={'net ' + (online ? 'on' : 'off')} role="status" data-testid="net">
          {online ? t('field.online') : t('field.offline')}
        </span>
        <LangSwitch />
      </header>
      <nav class="tabs" role="tablist" aria-label={t('nav.label')} onKeyDown={tabKeys}>
        {[
          ['tasks', t('field.tasks')],
          ['report', t('field.report')],
          ['outbox', t('field.outbox') + (pending ? ` (${pending})` : '')],
        ].map(([k, label]) => (
          <button key={k} type="button" role="tab" aria-selected={tab === k} tabindex={tab === k ? 0 : -1} class={tab === k ? 'tab on' : 'tab'} onClick={() => setTab(k)} data-tab={k}>
            {label}
          </button>
        ))}
      </nav>
      <main id="main">
        {pending > 0 && (
          <p class="state pending" role="status" data-testid="pending-count">
            {t('field.pendingCount', { count: pending })}
          </p>
        )}
        {notice && !pending && (
          <p class="state ok" role="status" data-testid="synced">
            {notice}
          </p>
        )}
        {!queue ? (
          <Loading />
        ) : tab === 'tasks' ? (
          <Tasks me={me} queue={queue} flush={flush} />
        ) : tab === 'report' ? (
          <ReportForm queue={queue} flush={flush} onQueued={() => setTab('outbox')} />
        ) : (
          <Outbox items={items} sent={sent} queue={queue} flush={flush} online={online} />
        )}
        <p class="foot">
          {me.account.display_name || me.account.username} ·{' '}
          <button type="button" class="link" onClick={logout}>
            {t('login.logout')}
          </button>
        </p>
      </main>
    </div>
  );
}
