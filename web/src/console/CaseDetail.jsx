// One case: where it is (map with its grid), what it is, its SLA, the history as a timeline, its
// photos, and a button for each step this user may take now; dispatching opens a dialog with the
// server's suggestions (locality and department, best first).
import { useEffect, useRef, useState } from 'preact/hooks';
import { getCase, transition, suggestions, allowedActions, OPEN_STATES } from '../lib/cases.js';
import { grid as gridOf, asFeatures } from '../lib/grids.js';
import { createMap, geoLayer, pointMarker } from '../lib/map.js';
import { countdown, formatTime } from '../lib/time.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { Dialog, ErrorBox, Loading, useAsync, useT } from '../lib/ui.jsx';

function CaseMap({ c }) {
  const el = useRef(null);
  useEffect(() => {
    const m = createMap(el.current, { center: [c.lat || 30.27, c.lon || 120.16], zoom: 16 });
    let alive = true;
    if (c.grid)
      gridOf(c.grid).then(
        (g) => {
          if (!alive) return;
          const l = geoLayer(asFeatures(g), { style: { color: '#1f2933', weight: 2, fillColor: '#2f74b5', fillOpacity: 0.12, className: 'grid-shape' } }).addTo(m);
          const b = l.getBounds();
          if (c.lat && c.lon) b.extend([c.lat, c.lon]);
          if (b.isValid()) m.fitBounds(b, { padding: [12, 12], animate: false, maxZoom: 18 });
        },
        () => {},
      );
    if (c.lat && c.lon) pointMarker(c.lat, c.lon).addTo(m);
    return () => {
      alive = false;
      m.remove();
    };
  }, [c.id]);
  return <div class="minimap" ref={el} role="img" aria-label={`${c.lat ?? ''}, ${c.lon ?? ''}`} />;
}

function assigneeText(a, t) {
  if (!a || a.kind === 'none') return t('case.unassigned');
  return `${t('assignee.' + a.kind)}: ${a.label || a.account_id || ''}`;
}

function DispatchDialog({ c, onClose, onDone }) {
  const t = useT();
  const s = useAsync(() => suggestions(c.id), [c.id]);
  const [pick, setPick] = useState(0);
  const [note, setNote] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const a = s.data[pick];
      await transition(c.id, { action: 'dispatch', assignee: a ? { kind: a.kind, account_id: a.account_id || 0, label: a.label } : undefined, note, version: c.version });
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <Dialog title={t('dispatch.title', { id: c.id })} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        {s.loading && <Loading />}
        <ErrorBox error={s.error} onRetry={s.reload} />
        {s.data && !s.data.length && <p class="hint">{t('dispatch.none')}</p>}
        {s.data && s.data.length > 0 && (
          <fieldset>
            <legend>{t('dispatch.suggestions')}</legend>
            {s.data.map((a, i) => (
              <label class="choice" key={i}>
                <input type="radio" name="assignee" checked={pick === i} onChange={() => setPick(i)} />
                <span>
                  {assigneeText(a, t)}
                  {a.reason ? <small> · {a.reason}</small> : null}
                </span>
              </label>
            ))}
          </fieldset>
        )}
        <label for="dispatch-note">{t('case.note')}</label>
        <textarea id="dispatch-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} rows="3" maxlength="2000" aria-describedby={c.source === 'resident' ? 'dispatch-note-public' : undefined} />
        {c.source === 'resident' && <p id="dispatch-note-public" class="hint">{t('case.notePublic')}</p>}
        <ErrorBox error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" class="primary" disabled={busy || !s.data} data-testid="dispatch-confirm">
            {t('action.dispatch')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function StepDialog({ c, action, onClose, onDone }) {
  const t = useT();
  const [note, setNote] = useState('');
  const [extra, setExtra] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const needs = { request_extension: 'extension', mark_duplicate: 'duplicate_of', evaluate: 'evaluation' }[action];
  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const step = { action, note, version: c.version };
    if (needs) step[needs] = Number(extra);
    try {
      await transition(c.id, step);
      onDone();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <Dialog title={t('action.' + action) + ' #' + c.id} onClose={onClose}>
      <form onSubmit={submit} class="stack">
        {needs && (
          <>
            <label for="step-extra">{t('step.' + needs)}</label>
            <input id="step-extra" type="number" required min="1" max={needs === 'evaluation' ? 5 : undefined} value={extra} onInput={(e) => setExtra(e.currentTarget.value)} />
          </>
        )}
        <label for="step-note">{t('case.note')}</label>
        <textarea id="step-note" value={note} onInput={(e) => setNote(e.currentTarget.value)} rows="3" maxlength="2000" aria-describedby={c.source === 'resident' ? 'step-note-public' : undefined} />
        {c.source === 'resident' && <p id="step-note-public" class="hint">{t('case.notePublic')}</p>}
        <ErrorBox error={error} />
        <div class="buttons">
          <button type="button" onClick={onClose}>{t('common.cancel')}</button>
          <button type="submit" class="primary" disabled={busy}>{t('action.' + action)}</button>
        </div>
      </form>
    </Dialog>
  );
}

export function CaseDetail({ id, ctx, onChanged }) {
  const t = useT();
  const lang = i18n.language;
  const d = useAsync(async () => {
    const doc = await getCase(id);
    return { c: doc.case, history: doc.history, photos: doc.photos };
  }, [id]);
  const [dialog, setDialog] = useState(null);
  const [done, setDone] = useState('');

  if (d.loading && !d.data) return <Loading />;
  if (d.error) return <ErrorBox error={d.error} onRetry={d.reload} />;
  const { c, history, photos } = d.data;
  const actions = allowedActions(c, ctx.roles);
  const cd = countdown(c.remaining_s, t, c.overdue);
  const after = (action) => () => {
    setDialog(null);
    setDone(t('case.stepDone', { action: t('action.' + action) }));
    d.reload();
    onChanged && onChanged();
  };
  return (
    <article class="case" aria-labelledby="case-title">
      <header>
        <h2 id="case-title">
          #{c.id} {nameOf(c.category_name) || c.category}
        </h2>
        <span class={'badge s-' + c.state} data-testid="case-state">{t('state.' + c.state)}</span>
        {OPEN_STATES.includes(c.state) && <span class={'sla ' + (cd.overdue ? 'overdue' : cd.urgent ? 'urgent' : '')}>{cd.text}</span>}
      </header>
      {done && (
        <p class="state ok" role="status">
          {done}
        </p>
      )}
      <div class="actions" role="group" aria-label={t('case.actions')}>
        {actions.length === 0 && <span class="hint">{t('case.noActions')}</span>}
        {actions.map((a) => (
          <button key={a} type="button" class={a === 'dispatch' || a === 'close' ? 'primary' : ''} onClick={() => setDialog(a)} data-action={a}>
            {t('action.' + a)}
          </button>
        ))}
      </div>
      <CaseMap c={c} />
      <dl class="facts">
        <dt>{t('case.description')}</dt>
        <dd>{c.description}</dd>
        {c.address && (
          <>
            <dt>{t('case.address')}</dt>
            <dd>{c.address}</dd>
          </>
        )}
        <dt>{t('case.grid')}</dt>
        <dd>{c.grid || t('case.noGrid')}</dd>
        <dt>{t('case.source')}</dt>
        <dd>{t('source.' + c.source)}</dd>
        <dt>{t('case.tier')}</dt>
        <dd>{t('level.' + c.tier)}</dd>
        <dt>{t('case.assignee')}</dt>
        <dd>{assigneeText(c.assignee, t)}</dd>
        <dt>{t('case.reported')}</dt>
        <dd>{formatTime(c.reported_at, lang)}</dd>
        <dt>{t('case.due')}</dt>
        <dd>{formatTime(c.due_at, lang) || '—'}</dd>
      </dl>
      {photos.length > 0 && (
        <section>
          <h3>{t('case.photos')}</h3>
          <div class="photos">
            {photos.map((p) => (
              <a key={p.sha256} href={p.url} target="_blank" rel="noopener">
                <img src={p.url} alt={t('case.photo') + ' ' + formatTime(p.at, lang)} loading="lazy" />
              </a>
            ))}
          </div>
        </section>
      )}
      <section>
        <h3>{t('case.history')}</h3>
        <ol class="timeline">
          {history.map((e) => (
            <li key={e.seq}>
              <time>{formatTime(e.at, lang)}</time>
              <strong>{e.action ? t('action.' + e.action) : t('case.noteEntry')}</strong>
              {e.to && e.from !== e.to ? <span> → {t('state.' + e.to)}</span> : null}
              <span class="who"> · {e.actor && e.actor.name ? e.actor.name : t('case.resident')}</span>
              {e.note && <p>{e.note}</p>}
              {e.detail && e.detail.assignee && <p class="hint">{assigneeText(e.detail.assignee, t)}</p>}
            </li>
          ))}
        </ol>
      </section>
      {dialog === 'dispatch' && <DispatchDialog c={c} onClose={() => setDialog(null)} onDone={after('dispatch')} />}
      {dialog && dialog !== 'dispatch' && <StepDialog c={c} action={dialog} onClose={() => setDialog(null)} onDone={after(dialog)} />}
    </article>
  );
}

