// Response-time coverage: which part of each grid a patrol reaches from the posts within a budget
// (the 1/2/3/5/10-minute circles, 2 minutes by default), on the road network of a profile. The
// posts start as the stored police (or fire) stations; the operator adds posts by clicking the map
// (or at the map's centre, from the keyboard), drags them, removes them from the list. Grids are
// coloured by their covered share of road, buildings or households, uncovered road is drawn red,
// each grid's slowest point is marked; a click on the map draws the isochrone of that point; the
// planner proposes posts (the fewest for full coverage, or the best p more) drawn apart from the
// existing ones, with the coverage they would give, and the operator may adopt them.
import { useEffect, useRef, useState } from 'preact/hooks';
import { createMap, geoLayer, L } from '../lib/map.js';
import { get, qs, errorText, isAbort } from '../lib/api.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { ErrorBox, Loading, Empty, useT } from '../lib/ui.jsx';
import {
  BUDGETS,
  DEFAULT_BUDGET,
  PROFILES,
  MEASURES,
  LEVELS,
  POST_KINDS,
  SHARE_STEPS,
  coverage,
  isochrone,
  storedPosts,
  proposePosts,
  PLAN_TIME_LIMIT_S,
  shareColour,
  gridRows,
  sortRows,
  totals,
  pct,
  isNoGraph,
} from '../lib/coverage.js';

let nextId = 1;

function postIcon(kind, label) {
  return L.divIcon({ className: 'post-icon ' + kind, html: '<span>' + label + '</span>', iconSize: [26, 26], iconAnchor: [13, 13] });
}

function seconds(t, s) {
  if (s === null || s === undefined) return '—';
  if (s === Infinity) return t('coverage.beyond');
  return t('coverage.seconds', { s: Math.round(s) });
}

/** Words for a planning error: a missing graph says what to run. */
function PlanError({ error, profile, onRetry }) {
  const t = useT();
  if (!error) return null;
  if (isNoGraph(error)) return <ErrorBox error={t('coverage.noGraph', { profile: t('coverage.profile.' + profile), command: 'civgrid net build' + (profile === 'car' ? '' : ' --profile ' + profile) })} onRetry={onRetry} />;
  return <ErrorBox error={errorText(t, error)} onRetry={onRetry} />;
}

export function Coverage({ ctx }) {
  const t = useT();
  const el = useRef(null);
  const map = useRef(null);
  const layers = useRef({});
  const [profile, setProfile] = useState('car');
  const [budget, setBudget] = useState(DEFAULT_BUDGET);
  const [level, setLevel] = useState('grid');
  const [measure, setMeasure] = useState('road');
  const [source, setSource] = useState('police');
  const [posts, setPosts] = useState([]);
  const [postsState, setPostsState] = useState({ loading: true, error: null });
  const [shapes, setShapes] = useState(null);
  const [cov, setCov] = useState({ doc: null, loading: false, error: null });
  const [clickMode, setClickMode] = useState('iso');
  const [iso, setIso] = useState({ fc: null, loading: false, error: null, at: null });
  const [plan, setPlan] = useState({ mode: 'full', p: 3, loading: false, error: null, result: null, doc: null, show: true, cancelled: false });
  const planAbort = useRef(null); // the AbortController of the search under way
  const [sort, setSort] = useState({ key: 'road', dir: 'asc' });
  const [selected, setSelected] = useState(null);
  const seq = useRef(0);
  const isoSeq = useRef(0);
  const canPlan = ctx.perms.includes('grid.write');
  const canIso = ctx.perms.includes('locate');

  // The map, once.
  useEffect(() => {
    map.current = createMap(el.current, { basemapLabels: false });
    return () => {
      map.current.remove();
      map.current = null;
    };
  }, []);

  // The grids of the level, for their shapes and names.
  useEffect(() => {
    let live = true;
    setShapes(null);
    get('/api/v1/grids' + qs({ level, format: 'geojson', limit: 10000 })).then(
      (fc) => live && setShapes(fc),
      () => live && setShapes({ type: 'FeatureCollection', features: [] }),
    );
    return () => {
      live = false;
    };
  }, [level]);

  // The current posts from the stored places of the chosen kind.
  async function loadPosts(kind) {
    setPlan((p) => ({ ...p, result: null, doc: null, error: null }));
    if (kind === 'none') {
      setPosts([]);
      setPostsState({ loading: false, error: null });
      return;
    }
    setPostsState({ loading: true, error: null });
    try {
      setPosts(await storedPosts(kind));
      setPostsState({ loading: false, error: null });
    } catch (e) {
      setPostsState({ loading: false, error: e });
    }
  }
  useEffect(() => {
    loadPosts(source);
  }, [source]);

  // Coverage whenever the posts, budget, profile or level change (the latest answer wins).
  useEffect(() => {
    if (postsState.loading) return;
    if (!posts.length) {
      setCov({ doc: null, loading: false, error: null });
      return;
    }
    const n = ++seq.current;
    setCov((c) => ({ ...c, loading: true, error: null }));
    const timer = setTimeout(() => {
      coverage({ posts, budget, profile, level }).then(
        (doc) => n === seq.current && setCov({ doc, loading: false, error: null }),
        (error) => n === seq.current && setCov({ doc: null, loading: false, error }),
      );
    }, 200);
    return () => clearTimeout(timer);
  }, [posts, budget, profile, level, postsState.loading]);

  // A proposal belongs to the settings it was made for.
  useEffect(() => {
    setPlan((p) => ({ ...p, result: null, doc: null, error: null }));
    isoSeq.current++;
    setIso({ fc: null, loading: false, error: null, at: null });
  }, [budget, profile]);

  const showing = plan.result && plan.show && plan.doc ? plan.doc : cov.doc;
  const names = {};
  if (shapes) for (const f of shapes.features) names[f.properties.code] = nameOf(f.properties);
  const rows = showing ? sortRows(gridRows(showing, names), sort.key, sort.dir) : [];
  const byCode = Object.fromEntries(rows.map((r) => [r.code, r]));

  // Clicks on the map: an isochrone, or a new post.
  const clickRef = useRef(null);
  clickRef.current = (ll) => {
    if (clickMode === 'add') addPost(ll.lat, ll.lng);
    else if (canIso) showIso(ll.lat, ll.lng);
  };
  useEffect(() => {
    const m = map.current;
    const f = (e) => clickRef.current(e.latlng);
    m.on('click', f);
    return () => m.off('click', f);
  }, []);

  function addPost(lat, lon) {
    setPosts((ps) => [...ps, { id: 'new-' + nextId++, lat, lon, name_zh: '', name_en: '' }]);
  }
  function movePost(id, lat, lon) {
    setPosts((ps) => ps.map((p) => (p.id === id ? { ...p, lat, lon } : p)));
  }
  function removePost(id) {
    setPosts((ps) => ps.filter((p) => p.id !== id));
  }
  // The reached roads at once, then the area around them (the latest click wins).
  async function showIso(lat, lon) {
    const n = ++isoSeq.current;
    const at = [lat, lon];
    setIso({ fc: null, loading: true, error: null, at });
    try {
      const lines = await isochrone({ lat, lon, budget, profile, buffer: 0 });
      if (n !== isoSeq.current) return;
      setIso({ fc: lines, loading: true, error: null, at });
      const fc = await isochrone({ lat, lon, budget, profile });
      if (n === isoSeq.current) setIso({ fc, loading: false, error: null, at });
    } catch (error) {
      if (n === isoSeq.current) setIso((s) => ({ ...s, loading: false, error }));
    }
  }
  // The search is bounded (PLAN_TIME_LIMIT_S on the server, its best plan by then) and can be
  // cancelled: the request is aborted and nothing of it is shown.
  async function propose(e) {
    e.preventDefault();
    if (planAbort.current) planAbort.current.abort();
    const ctl = new AbortController();
    planAbort.current = ctl;
    setPlan((p) => ({ ...p, loading: true, error: null, result: null, doc: null, cancelled: false }));
    try {
      const result = await proposePosts({ fixed: posts, budget, profile, p: plan.mode === 'p' ? plan.p : undefined, signal: ctl.signal });
      if (ctl.signal.aborted) return;
      const added = result.posts.filter((p) => !p.fixed);
      const doc = added.length ? await coverage({ posts: [...posts, ...added], budget, profile, level }) : cov.doc;
      if (ctl.signal.aborted) return;
      planAbort.current = null;
      setPlan((p) => ({ ...p, loading: false, result, doc, show: true }));
      requestAnimationFrame(() => {
        const box = document.querySelector('[data-testid=proposal]');
        if (box) box.scrollIntoView({ block: 'nearest' });
        // Every proposed post in view: the map widens to take in those outside it. (Its box
        // may have changed since it was drawn, as the table below filled in: measured first.)
        const m = map.current;
        if (m && added.length) {
          m.invalidateSize({ animate: false });
          const want = L.latLngBounds(added.map((p) => [p.lat, p.lon]));
          const view = m.getBounds();
          if (!view.contains(want)) m.fitBounds(view.extend(want), { padding: [24, 24], animate: false });
        }
      });
    } catch (error) {
      if (isAbort(error) || ctl.signal.aborted) return;
      planAbort.current = null;
      setPlan((p) => ({ ...p, loading: false, error }));
    }
  }
  function cancelPlan() {
    if (planAbort.current) planAbort.current.abort();
    planAbort.current = null;
    setPlan((p) => ({ ...p, loading: false, cancelled: true }));
  }
  useEffect(() => () => planAbort.current && planAbort.current.abort(), []);
  function adopt() {
    const added = plan.result.posts.filter((p) => !p.fixed).map((p) => ({ id: 'new-' + nextId++, lat: p.lat, lon: p.lon, name_zh: '', name_en: '' }));
    setPlan((p) => ({ ...p, result: null, doc: null }));
    setPosts((ps) => [...ps, ...added]);
  }

  // Draws the layers.
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    const ls = layers.current;
    for (const k of Object.keys(ls)) if (ls[k]) m.removeLayer(ls[k]);
    if (shapes && shapes.features.length) {
      ls.grids = geoLayer(shapes, {
        style: (f) => {
          const r = byCode[f.properties.code];
          const on = selected === f.properties.code;
          return { color: on ? '#1f2933' : '#52606d', weight: on ? 3 : 0.8, fillColor: r ? shareColour(r[measure]) : '#cfd8dc', fillOpacity: r ? 0.45 : 0.15, className: 'grid-shape cov-grid' };
        },
        onEachFeature: (f, layer) => {
          const r = byCode[f.properties.code];
          layer.bindTooltip(`${nameOf(f.properties)} · ${t('coverage.col.' + measure)} ${r ? pct(r[measure]) : '—'}`, { sticky: true });
        },
      }).addTo(m);
    }
    if (showing) {
      ls.uncovered = geoLayer(showing, { style: { color: '#d7191c', weight: 3, opacity: 0.9, className: 'uncovered-road' }, interactive: false }).addTo(m);
      ls.worst = L.layerGroup(
        rows
          .filter((r) => r.worstAt)
          .map((r) => L.circleMarker([r.worstAt[1], r.worstAt[0]], r.worst > budget ? { radius: 5, color: '#fff', weight: 1.5, fillColor: '#5b2a86', fillOpacity: 1, className: 'worst-point late' } : { radius: 2.5, color: '#5b2a86', weight: 1, fillColor: '#fff', fillOpacity: 1, className: 'worst-point' }).bindTooltip(`${r.name || r.code}: ${t('coverage.worstAt', { time: seconds(t, r.worst) })}`)),
      ).addTo(m);
    }
    if (iso.fc) {
      ls.iso = geoLayer(iso.fc, {
        style: (f) => (f.properties.kind === 'area' ? { color: '#1f5f8b', weight: 1.5, fillColor: '#3b82f6', fillOpacity: 0.22, className: 'iso-area' } : { color: '#1f5f8b', weight: 2, className: 'iso-network' }),
        interactive: false,
      }).addTo(m);
      if (iso.at) L.circleMarker(iso.at, { radius: 6, color: '#fff', weight: 2, fillColor: '#1f5f8b', fillOpacity: 1, interactive: false }).addTo(ls.iso);
    }
    ls.posts = L.layerGroup(
      posts.map((p, i) => {
        const mk = L.marker([p.lat, p.lon], { icon: postIcon('existing', String(i + 1)), draggable: true, keyboard: true, title: t('coverage.postTitle', { n: i + 1, name: nameOf(p) || '' }) });
        mk.on('dragend', () => {
          const ll = mk.getLatLng();
          movePost(p.id, ll.lat, ll.lng);
        });
        return mk;
      }),
    ).addTo(m);
    if (plan.result) {
      ls.proposed = L.layerGroup(
        plan.result.posts
          .filter((p) => !p.fixed)
          .map((p, i) => L.marker([p.lat, p.lon], { icon: postIcon('proposed', '+' + (i + 1)), keyboard: false, title: t('coverage.proposedTitle', { n: i + 1 }) })),
      ).addTo(m);
    }
  }, [shapes, showing, measure, posts, plan.result, iso.fc, selected, budget, i18n.language]);

  // The district in view once the grids are there.
  const fitted = useRef(false);
  useEffect(() => {
    if (fitted.current || !layers.current.grids) return;
    const b = layers.current.grids.getBounds();
    if (b.isValid()) {
      map.current.fitBounds(b, { padding: [12, 12], animate: false });
      fitted.current = true;
    }
  }, [shapes]);

  function focusGrid(code) {
    setSelected(code);
    const f = shapes && shapes.features.find((x) => x.properties.code === code);
    if (f) map.current.fitBounds(L.geoJSON(f).getBounds().pad(0.6), { animate: false });
  }
  function sortBy(key) {
    setSort((s) => ({ key, dir: s.key === key && s.dir === 'asc' ? 'desc' : 'asc' }));
  }

  const sum = cov.doc ? totals(cov.doc) : null;
  const added = plan.result ? plan.result.posts.filter((p) => !p.fixed) : [];
  const sumWith = plan.result && plan.doc && added.length ? totals(plan.doc) : null;
  const centre = () => map.current.getCenter();
  const cols = [
    ['name', t('coverage.col.grid')],
    ['road', t('coverage.col.road')],
    ['building', t('coverage.col.building')],
    ['household', t('coverage.col.household')],
    ['worst', t('coverage.col.worst')],
  ];

  return (
    <div class="coverage">
      <aside class="panel" aria-label={t('coverage.panel')}>
        <h1>{t('coverage.title')}</h1>
        <fieldset class="cov-controls">
          <legend>{t('coverage.settings')}</legend>
          <div class="row2">
            <label>
              {t('coverage.profileLabel')}
              <select value={profile} onChange={(e) => setProfile(e.currentTarget.value)} data-testid="cov-profile">
                {PROFILES.map((p) => (
                  <option key={p} value={p}>{t('coverage.profile.' + p)}</option>
                ))}
              </select>
            </label>
            <label>
              {t('coverage.levelLabel')}
              <select value={level} onChange={(e) => setLevel(e.currentTarget.value)}>
                {LEVELS.map((l) => (
                  <option key={l} value={l}>{t('level.' + l)}</option>
                ))}
              </select>
            </label>
          </div>
          <div role="radiogroup" aria-label={t('coverage.budgetLabel')} class="budgets">
            <span class="lbl">{t('coverage.budgetLabel')}</span>
            {BUDGETS.map((b) => (
              <label key={b} class={'chip' + (budget === b ? ' on' : '')}>
                <input type="radio" name="budget" value={b} checked={budget === b} onChange={() => setBudget(b)} data-budget={b} />
                {t('coverage.minutes', { count: b / 60 })}
              </label>
            ))}
          </div>
          <div role="radiogroup" aria-label={t('coverage.measureLabel')} class="budgets">
            <span class="lbl">{t('coverage.measureLabel')}</span>
            {MEASURES.map((k) => (
              <label key={k} class={'chip' + (measure === k ? ' on' : '')}>
                <input type="radio" name="measure" value={k} checked={measure === k} onChange={() => setMeasure(k)} />
                {t('coverage.measure.' + k)}
              </label>
            ))}
          </div>
        </fieldset>

        <section aria-labelledby="cov-posts-h">
          <h2 id="cov-posts-h">{t('coverage.posts', { count: posts.length })}</h2>
          <label class="inline">
            {t('coverage.source')}{' '}
            <select value={source} onChange={(e) => setSource(e.currentTarget.value)} data-testid="cov-source">
              {POST_KINDS.map((k) => (
                <option key={k} value={k}>{t('coverage.kind.' + k)}</option>
              ))}
              <option value="none">{t('coverage.kind.none')}</option>
            </select>
          </label>
          <div role="radiogroup" aria-label={t('coverage.clickLabel')} class="budgets">
            <span class="lbl">{t('coverage.clickLabel')}</span>
            <label class={'chip' + (clickMode === 'iso' ? ' on' : '')}>
              <input type="radio" name="click" checked={clickMode === 'iso'} onChange={() => setClickMode('iso')} disabled={!canIso} data-testid="click-iso" />
              {t('coverage.clickIso')}
            </label>
            <label class={'chip' + (clickMode === 'add' ? ' on' : '')}>
              <input type="radio" name="click" checked={clickMode === 'add'} onChange={() => setClickMode('add')} data-testid="click-add" />
              {t('coverage.clickAdd')}
            </label>
          </div>
          <div class="buttons left">
            <button type="button" onClick={() => addPost(centre().lat, centre().lng)} data-testid="add-centre">{t('coverage.addCentre')}</button>
            {canIso && <button type="button" onClick={() => showIso(centre().lat, centre().lng)}>{t('coverage.isoCentre')}</button>}
          </div>
          <p class="hint">{t('coverage.postsHint')}</p>
          {postsState.loading && <Loading text={t('coverage.loadingPosts')} />}
          <ErrorBox error={postsState.error} onRetry={() => loadPosts(source)} />
          {!postsState.loading && !posts.length && <Empty text={t('coverage.noPosts')} />}
          <ol class="posts" data-testid="posts">
            {posts.map((p, i) => (
              <li key={p.id}>
                <span class="post-no">{i + 1}</span>
                <span class="post-name">
                  {nameOf(p) || t('coverage.newPost')} <small>{p.lat.toFixed(5)}, {p.lon.toFixed(5)}</small>
                </span>
                <button type="button" class="link" onClick={() => map.current.setView([p.lat, p.lon], Math.max(map.current.getZoom(), 16))}>{t('coverage.show')}</button>
                <button type="button" class="link" onClick={() => removePost(p.id)} aria-label={t('coverage.removeLabel', { n: i + 1 })}>{t('coverage.remove')}</button>
              </li>
            ))}
          </ol>
        </section>

        {iso.loading && <Loading text={t('coverage.isoLoading')} />}
        <PlanError error={iso.error} profile={profile} />
        {iso.fc && (
          <div class="state ok iso-info" data-testid="iso-info">
            {(() => {
              const net = iso.fc.features.find((f) => f.properties.kind === 'network');
              const area = iso.fc.features.find((f) => f.properties.kind === 'area');
              const v = { budget: t('coverage.minutes', { count: budget / 60 }), km: ((net ? net.properties.metres : 0) / 1000).toFixed(1) };
              return area ? t('coverage.isoInfo', { ...v, area: (area.properties.area_m2 / 1e6).toFixed(2) }) : t('coverage.isoLines', v);
            })()}{' '}
            <button
              type="button"
              class="link"
              onClick={() => {
                isoSeq.current++;
                setIso({ fc: null, loading: false, error: null, at: null });
              }}
            >
              {t('coverage.clear')}
            </button>
          </div>
        )}

        <section aria-labelledby="cov-plan-h">
          <h2 id="cov-plan-h">{t('coverage.planTitle')}</h2>
          {!canPlan ? (
            <p class="hint">{t('coverage.noPlan')}</p>
          ) : (
            <form onSubmit={propose} class="stack">
              <label class="check">
                <input type="radio" name="pmode" checked={plan.mode === 'full'} onChange={() => setPlan((p) => ({ ...p, mode: 'full' }))} />
                {t('coverage.planFull')}
              </label>
              <label class="check">
                <input type="radio" name="pmode" checked={plan.mode === 'p'} onChange={() => setPlan((p) => ({ ...p, mode: 'p' }))} />
                {t('coverage.planBest')}
                <input type="number" min="1" max="50" value={plan.p} aria-label={t('coverage.planP')} class="num" onInput={(e) => setPlan((p) => ({ ...p, p: Math.max(1, Math.min(50, parseInt(e.currentTarget.value, 10) || 1)), mode: 'p' }))} />
              </label>
              <div class="buttons left">
                <button type="submit" class="primary" disabled={plan.loading} data-testid="propose">
                  {plan.loading ? t('coverage.planning') : t('coverage.propose')}
                </button>
                {plan.loading && (
                  <button type="button" onClick={cancelPlan} data-testid="propose-cancel">
                    {t('coverage.planCancel')}
                  </button>
                )}
              </div>
              {plan.loading && (
                <div data-testid="planning">
                  <Loading text={t('coverage.planningHint', { seconds: PLAN_TIME_LIMIT_S })} />
                </div>
              )}
              {plan.cancelled && !plan.loading && (
                <p class="hint" role="status" data-testid="plan-cancelled">
                  {t('coverage.planCancelled')}
                </p>
              )}
              <PlanError error={plan.error} profile={profile} />
              {plan.result && (
                <div class="state pending proposal" data-testid="proposal">
                  <p>
                    {added.length ? t('coverage.proposed', { count: added.length }) : t('coverage.nothingToAdd')}{' '}
                    {plan.result.plan.total_weight > 0 && t('coverage.proposedReach', { share: pct(plan.result.plan.covered_weight / plan.result.plan.total_weight) })}
                  </p>
                  {plan.result.plan.timed_out && (
                    <p class="hint" data-testid="plan-timed-out">
                      {t('coverage.planTimedOut', { seconds: PLAN_TIME_LIMIT_S })}
                    </p>
                  )}
                  <label class="check">
                    <input type="checkbox" checked={plan.show} onChange={(e) => setPlan((p) => ({ ...p, show: e.currentTarget.checked }))} />
                    {t('coverage.showWith')}
                  </label>
                  <div class="buttons left">
                    <button type="button" onClick={adopt} disabled={!added.length} data-testid="adopt">{t('coverage.adopt')}</button>
                    <button type="button" onClick={() => setPlan((p) => ({ ...p, result: null, doc: null }))}>{t('coverage.discard')}</button>
                  </div>
                </div>
              )}
            </form>
          )}
        </section>
        <ul class="legend">
          <li><i class="post-swatch existing" /> {t('coverage.legendPost')}</li>
          <li><i class="post-swatch proposed" /> {t('coverage.legendProposed')}</li>
          <li><i style={{ background: '#d7191c', height: '4px' }} /> {t('coverage.legendUncovered')}</li>
          <li><i style={{ background: '#5b2a86', borderRadius: '50%' }} /> {t('coverage.legendWorst')}</li>
        </ul>
      </aside>

      <div class="cov-main">
        <div class="cov-summary" aria-live="polite" data-testid="cov-summary">
          {cov.loading && <Loading text={t('coverage.computing')} />}
          <PlanError error={cov.error} profile={profile} onRetry={() => setPosts((ps) => [...ps])} />
          {sum && !cov.loading && (
            <dl class="figures">
              {MEASURES.map((k) => (
                <div key={k}>
                  <dt>{t('coverage.measure.' + k)}</dt>
                  <dd data-measure={k}>
                    {pct(sum[k])}
                    {sumWith && <span class="with"> → {pct(sumWith[k])}</span>}
                  </dd>
                </div>
              ))}
              <div>
                <dt>{t('coverage.fullGrids')}</dt>
                <dd>
                  {sum.full} / {sum.grids}
                  {sumWith && <span class="with"> → {sumWith.full}</span>}
                </dd>
              </div>
              <div>
                <dt>{t('coverage.uncoveredKm')}</dt>
                <dd>
                  {(sum.uncovered_m / 1000).toFixed(1)} km
                  {sumWith && <span class="with"> → {(sumWith.uncovered_m / 1000).toFixed(1)} km</span>}
                </dd>
              </div>
            </dl>
          )}
          <ul class="legend shares">
            {SHARE_STEPS.map(([limit, colour], i) => (
              <li key={colour}>
                <i style={{ background: colour }} /> {i === 0 ? '< 50 %' : i === SHARE_STEPS.length - 1 ? '100 %' : '< ' + Math.round(limit * 100) + ' %'}
              </li>
            ))}
          </ul>
        </div>
        <div class="map" ref={el} role="region" aria-label={t('coverage.mapLabel')} data-testid="cov-map" />
        <div class="cov-table">
          {showing ? (
            <table class="data" data-testid="cov-table">
              <caption class="sr-only">{t('coverage.tableCaption')}</caption>
              <thead>
                <tr>
                  {cols.map(([k, label]) => (
                    <th key={k} aria-sort={sort.key === k ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none'}>
                      <button type="button" class="sort" onClick={() => sortBy(k)} data-sort={k}>
                        {label} {sort.key === k ? (sort.dir === 'asc' ? '▲' : '▼') : ''}
                      </button>
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.code} class={selected === r.code ? 'sel' : ''}>
                    <td>
                      <button type="button" class="link" onClick={() => focusGrid(r.code)}>{r.name || r.code}</button> <small>{r.code}</small>
                    </td>
                    {MEASURES.map((k) => (
                      <td key={k} class="num">
                        <i class="dot" style={{ background: shareColour(r[k]) }} /> {pct(r[k])}
                      </td>
                    ))}
                    <td class="num">{seconds(t, r.worst)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            !cov.loading && !cov.error && <Empty text={t('coverage.noTable')} />
          )}
        </div>
      </div>
    </div>
  );
}
