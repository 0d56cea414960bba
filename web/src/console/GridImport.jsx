// The Grids page's import: choose a GeoJSON file or a zipped Shapefile, check it or import it, watch the job's progress,
// then read the report: the rejected features and the topology findings in keyboard-usable
// tables, drawn on the page's map (clicking a row, or its button from the keyboard, zooms to its
// feature). The import runs on the
// server as a job (lib/gridimport.js); nothing is written unless every feature is valid.
import { useEffect, useRef, useState } from 'preact/hooks';
import { startImport, pollImport, reportFeatures, rejectReason, findingReason, FIELD_OPTIONS } from '../lib/gridimport.js';
import { geoLayer, pointMarker, L } from '../lib/map.js';
import { ErrorBox, useT } from '../lib/ui.jsx';
import { i18n } from '../lib/i18n.js';
import './grid-import.css';

const REJECT_STYLE = { color: '#b45309', weight: 2, dashArray: '5 4', fillColor: '#f59e0b', fillOpacity: 0.35, className: 'import-reject' };
const FINDING_STYLE = { color: '#b42318', weight: 2, fillColor: '#c8372d', fillOpacity: 0.4, className: 'import-finding' };

// The job being shown, kept for this tab so a reload (or a visit to another page) comes back to
// it: the import goes on on the server meanwhile.
const JOB_KEY = 'civgrid.gridImport';
function rememberJob(id) {
  try {
    if (id) sessionStorage.setItem(JOB_KEY, String(id));
    else sessionStorage.removeItem(JOB_KEY);
  } catch {
    /* ignored: no storage */
  }
}
function rememberedJob() {
  try {
    return sessionStorage.getItem(JOB_KEY);
  } catch {
    return null;
  }
}

/** The import's state shared by the form (in the side panel) and the report (above the map). */
export function useGridImport(onImported) {
  const [job, setJob] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const live = useRef(true);
  async function follow(id) {
    const last = await pollImport(id, (j) => live.current && setJob(j), { isCancelled: () => !live.current });
    if (last && last.state === 'imported' && onImported) onImported(last);
  }
  useEffect(() => {
    const id = rememberedJob();
    if (id) {
      setBusy(true);
      follow(id)
        .catch(() => rememberJob(null)) // forgotten by the server (an hour old, or a restart)
        .finally(() => live.current && setBusy(false));
    }
    return () => {
      live.current = false;
    };
  }, []);
  async function run(file, options) {
    setBusy(true);
    setError(null);
    setJob(null);
    try {
      const first = await startImport(file, options);
      if (!live.current) return;
      rememberJob(first.id);
      setJob(first);
      await follow(first.id);
    } catch (e) {
      if (live.current) setError(e);
    } finally {
      if (live.current) setBusy(false);
    }
  }
  return {
    job,
    error,
    busy,
    run,
    clear: () => {
      rememberJob(null);
      setJob(null);
      setError(null);
    },
  };
}

export function ImportForm({ imp }) {
  const t = useT();
  const [file, setFile] = useState(null);
  const [missing, setMissing] = useState(false);
  function submit(e) {
    e.preventDefault();
    const f = e.currentTarget;
    if (!file) {
      setMissing(true);
      f.querySelector('#import-file').focus();
      return;
    }
    const fields = {};
    for (const k of FIELD_OPTIONS) fields[k] = f['field-' + k].value;
    imp.run(file, { dryRun: f.mode.value === 'check', crs: f.crs.value, fields, encoding: f.encoding.value });
  }
  const job = imp.job;
  const over = job && !['queued', 'running'].includes(job.state);
  return (
    <form class="import-form stack" onSubmit={submit} aria-labelledby="import-title" data-testid="import-form">
      <label for="import-file">{t('gridImport.file')}</label>
      <input
        id="import-file"
        name="file"
        type="file"
        accept=".geojson,.json,.zip,application/geo+json,application/json,application/zip"
        aria-describedby="import-file-hint"
        aria-invalid={missing ? 'true' : undefined}
        onChange={(e) => {
          setFile(e.currentTarget.files[0] || null);
          setMissing(false);
        }}
      />
      <p class="hint" id="import-file-hint">
        {t('gridImport.fileHint')}
      </p>
      {missing && (
        <p class="state error" role="alert">
          {t('gridImport.pickFile')}
        </p>
      )}
      <fieldset>
        <legend>{t('gridImport.mode')}</legend>
        <label class="choice">
          <input type="radio" name="mode" value="check" defaultChecked /> {t('gridImport.dryRun')}
        </label>
        <label class="choice">
          <input type="radio" name="mode" value="write" /> {t('gridImport.write')}
        </label>
      </fieldset>
      <label for="import-crs">{t('gridImport.crs')}</label>
      <select id="import-crs" name="crs">
        <option value="wgs84">{t('gridImport.wgs84')}</option>
        <option value="gcj02">{t('gridImport.gcj02')}</option>
      </select>
      <details class="import-fields">
        <summary>{t('gridImport.fields')}</summary>
        <p class="hint">{t('gridImport.fieldsHint')}</p>
        {FIELD_OPTIONS.map((k) => (
          <label key={k} class="import-field">
            <span>{t('gridImport.field.' + k)}</span>
            <input name={'field-' + k} autocomplete="off" spellcheck={false} />
          </label>
        ))}
        <label class="import-field">
          <span>{t('gridImport.encoding')}</span>
          <select name="encoding">
            <option value="">{t('gridImport.encodingAuto')}</option>
            <option value="UTF-8">UTF-8</option>
            <option value="GBK">GBK</option>
            <option value="GB18030">GB18030</option>
          </select>
        </label>
      </details>
      <div class="buttons">
        <button type="submit" class="primary" disabled={imp.busy} data-testid="import-start">
          {imp.busy ? t('gridImport.working') : t('gridImport.start')}
        </button>
      </div>
      <ErrorBox error={imp.error} />
      {job && <ImportProgress job={job} />}
      {over && <ImportOutcome job={job} />}
    </form>
  );
}

function ImportProgress({ job }) {
  const t = useT();
  const p = job.progress || {};
  const phase = t('gridImport.phase.' + (p.phase || 'queued'));
  return (
    <div class="import-progress" data-testid="import-progress">
      <div class="import-progress-head">
        <span id="import-phase">{phase}</span>
        <span>{p.percent ?? 0}%</span>
      </div>
      <progress max="100" value={p.percent ?? 0} aria-labelledby="import-phase" data-state={job.state} />
      {p.total > 0 && <p class="hint">{t(job.dry_run ? 'gridImport.countsDry' : 'gridImport.counts', { validated: p.validated, total: p.total, written: p.written })}</p>}
    </div>
  );
}

function ImportOutcome({ job }) {
  const t = useT();
  const r = job.result || {};
  const cls = { imported: 'ok', validated: 'ok', rejected: 'error', failed: 'error' }[job.state];
  let text;
  if (job.state === 'imported') text = t('gridImport.imported', { written: r.written, unchanged: r.unchanged });
  else if (job.state === 'validated') text = t('gridImport.validated', { count: r.accepted });
  else if (job.state === 'rejected') text = t('gridImport.rejected', { rejected: r.rejected, features: r.features });
  else {
    const e = job.error || {};
    text = t('gridImport.failed', { detail: (e.message || '') + (e.field ? t('error.field', { field: e.field }) : '') });
  }
  return (
    <p class={'state ' + cls} role="status" data-testid="import-outcome" data-state={job.state}>
      {text}
    </p>
  );
}

/** The report above the map, and its features drawn on `map` (a ref to the Leaflet map). */
export function ImportReport({ imp, map }) {
  const t = useT();
  const layers = useRef(new Map());
  const group = useRef(null);
  const [chosen, setChosen] = useState(null);
  const job = imp.job;
  const result = job && job.result;

  useEffect(() => setChosen(null), [result]);
  // Drawn again when the report or the language changes (the tooltips carry words).
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    // The report above the map came or went: the map's box changed size.
    m.invalidateSize({ animate: false });
    if (group.current) m.removeLayer(group.current);
    layers.current = new Map();
    group.current = null;
    if (!result) return;
    const fc = reportFeatures(result);
    if (!fc.features.length) return;
    const g = L.featureGroup();
    geoLayer(fc, {
      style: (f) => (f.properties.kind === 'reject' ? REJECT_STYLE : FINDING_STYLE),
      pointToLayer: (f, ll) => pointMarker(ll.lat, ll.lng, { colour: f.properties.kind === 'reject' ? '#d97706' : '#c8372d', className: 'import-' + f.properties.kind }),
      onEachFeature: (f, l) => {
        const p = f.properties;
        const head = p.kind === 'reject' ? t('gridImport.rejectLabel', { code: p.code || p.name || '—' }) : t('finding.' + p.finding) + ' ' + (p.code || '');
        const reason = p.kind === 'reject' ? rejectReason(p.item, i18n) : findingReason(p.item, i18n);
        l.bindTooltip(head + ': ' + reason, { sticky: true, className: 'import-tip' });
        layers.current.set(p.key, l);
      },
    }).addTo(g);
    g.addTo(m);
    group.current = g;
    m.fitBounds(g.getBounds().pad(0.3), { animate: false, maxZoom: 17 });
    return () => {
      if (map.current && group.current) map.current.removeLayer(group.current);
      group.current = null;
    };
  }, [result, map.current, i18n.language]);

  const opened = useRef(null);
  function show(key) {
    const l = layers.current.get(key);
    const m = map.current;
    setChosen(key);
    if (!l || !m) return;
    if (opened.current && opened.current !== l) opened.current.closeTooltip();
    opened.current = l;
    m.invalidateSize({ animate: false });
    if (l.getBounds) m.fitBounds(l.getBounds().pad(0.5), { animate: false, maxZoom: 18 });
    else m.setView(l.getLatLng(), Math.max(m.getZoom(), 17), { animate: false });
    l.openTooltip();
  }

  if (!result || (!result.rejects.length && !result.findings.length)) return null;
  return (
    <section class="import-report" aria-labelledby="import-report-title" data-testid="import-report">
      <header>
        <h2 id="import-report-title">{t('gridImport.report')}</h2>
        <button type="button" class="link" onClick={imp.clear}>
          {t('gridImport.closeReport')}
        </button>
      </header>
      {result.rejects.length > 0 && (
        <>
          <h3>{t('gridImport.rejectsTitle', { count: result.rejected })}</h3>
          {result.rejects_listed < result.rejected && <p class="hint">{t('gridImport.listed', { listed: result.rejects_listed, total: result.rejected })}</p>}
          <table class="data import-table" data-testid="import-rejects">
            <thead>
              <tr>
                <th scope="col">{t('gridImport.col.index')}</th>
                <th scope="col">{t('gridImport.col.code')}</th>
                <th scope="col">{t('gridImport.col.name')}</th>
                <th scope="col">{t('gridImport.col.field')}</th>
                <th scope="col">{t('gridImport.col.reason')}</th>
                <th scope="col">
                  <span class="sr-only">{t('gridImport.col.map')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {result.rejects.map((r) => {
                const key = 'reject-' + r.index;
                const drawable = layers.current.has(key) || r.geometry || r.point;
                return (
                  <tr key={key} class={(chosen === key ? 'on ' : '') + (drawable ? 'pick' : '')} data-index={r.index} onClick={drawable ? () => show(key) : undefined}>
                    <td>{r.index + 1}</td>
                    <td>
                      <code>{r.code || '—'}</code>
                    </td>
                    <td>{r.name || '—'}</td>
                    <td>
                      <code>{r.field || '—'}</code>
                    </td>
                    <td data-reason-code={r.reason_code || ''}>{rejectReason(r, i18n)}</td>
                    <td>
                      {drawable ? (
                        <button type="button" class="small" onClick={(e) => (e.stopPropagation(), show(key))} aria-label={t('gridImport.showOne', { n: r.index + 1 })}>
                          {t('gridImport.show')}
                        </button>
                      ) : (
                        <small>{t('gridImport.noPlace')}</small>
                      )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </>
      )}
      <h3>{t('gridImport.findingsTitle', { count: result.findings_count })}</h3>
      {result.findings.length === 0 ? (
        <p class="hint">{t('gridImport.noFindings')}</p>
      ) : (
        <table class="data import-table" data-testid="import-findings">
          <thead>
            <tr>
              <th scope="col">{t('gridImport.col.kind')}</th>
              <th scope="col">{t('gridImport.col.code')}</th>
              <th scope="col">{t('gridImport.col.other')}</th>
              <th scope="col">{t('gridImport.col.area')}</th>
              <th scope="col">{t('gridImport.col.reason')}</th>
              <th scope="col">
                <span class="sr-only">{t('gridImport.col.map')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {result.findings.map((f, i) => {
              const key = 'finding-' + i;
              return (
                <tr key={key} class={'pick' + (chosen === key ? ' on' : '')} onClick={() => show(key)}>
                  <td>{t('finding.' + f.kind)}</td>
                  <td>
                    <code>{f.code}</code>
                  </td>
                  <td>
                    <code>{f.other_code || '—'}</code>
                  </td>
                  <td>{f.area_m2 ? Math.round(f.area_m2) + ' m²' : '—'}</td>
                  <td data-reason-code={f.reason_code || f.kind}>{findingReason(f, i18n)}</td>
                  <td>
                    <button type="button" class="small" onClick={(e) => (e.stopPropagation(), show(key))} aria-label={t('gridImport.showFinding', { n: i + 1 })}>
                      {t('gridImport.show')}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
