// The residents' page: report a problem (category, description, optional photo, a pin or the
// phone's GPS, optional contact) through Open311 and get the case number; look up a case's status
// by its number. Anonymous reporting works; contact details go only to the staff who handle it.
// Open311 takes submissions only with an api_key: the page's key comes with the link a district
// publishes (report.html?key=..., e.g. as a QR code on a notice board) and is remembered, or from
// report-config.json ({"open311_api_key": "..."}) placed beside the page by the operator.
import { useEffect, useState } from 'preact/hooks';
import { residentServices, residentReport, residentLookup } from '../lib/cases.js';
import { grouped, loadCategories } from '../lib/taxonomy.js';
import { nameOf, i18n } from '../lib/i18n.js';
import { formatTime } from '../lib/time.js';
import { LocationPicker } from '../lib/LocationPicker.jsx';
import { ErrorBox, LangSwitch, Loading, useT } from '../lib/ui.jsx';

const KEY = 'civgrid.open311.key';

/** The page's Open311 api_key: ?key= (remembered), the remembered one, or report-config.json. */
export async function pageKey() {
  const fromUrl = new URLSearchParams(location.search).get('key');
  try {
    if (fromUrl) localStorage.setItem(KEY, fromUrl);
    const kept = localStorage.getItem(KEY);
    if (kept) return kept;
  } catch {
    if (fromUrl) return fromUrl;
  }
  try {
    const r = await fetch('/report-config.json', { headers: { Accept: 'application/json' } });
    if (r.ok) return (await r.json()).open311_api_key || '';
  } catch {
    /* no such file */
  }
  return '';
}

function Report({ onReported }) {
  const t = useT();
  const [cats, setCats] = useState(null);
  const [where, setWhere] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(null);
  useEffect(() => {
    loadCategories(residentServices).then(setCats);
    pageKey().then(setKey);
  }, []);
  async function submit(e) {
    e.preventDefault();
    const f = e.currentTarget;
    if (!where) {
      setError(t('report.needWhere'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const photo = f.photo.files[0];
      const doc = await residentReport(
        {
          service_code: f.category.value,
          description: f.description.value,
          lat: where.lat.toFixed(7),
          long: where.lon.toFixed(7),
          address_string: f.address.value,
          email: f.email.value,
          phone: f.phone.value,
          lang: i18n.language === 'en' ? 'en' : 'zh',
          api_key: key,
        },
        photo,
      );
      const r = Array.isArray(doc) ? doc[0] : doc;
      onReported(r);
      f.reset();
      setWhere(null);
    } catch (err) {
      setError(err);
    }
    setBusy(false);
  }
  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="report-title">
      <h2 id="report-title">{t('report.title')}</h2>
      {key === '' && (
        <p class="state error" role="alert">
          {t('report.noKey')}
        </p>
      )}
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
      <textarea id="description" name="description" required maxlength="4000" rows="4" placeholder={t('report.descriptionHint')} />
      <LocationPicker value={where} onChange={setWhere} />
      <label for="address">{t('report.address')}</label>
      <input id="address" name="address" maxlength="256" />
      <label for="photo">{t('report.photo')}</label>
      <input id="photo" name="photo" type="file" accept="image/jpeg,image/png,image/webp" capture="environment" />
      <details>
        <summary>{t('report.contact')}</summary>
        <p class="hint">{t('report.contactHint')}</p>
        <label for="phone">{t('report.phone')}</label>
        <input id="phone" name="phone" type="tel" autocomplete="tel" />
        <label for="email">{t('report.email')}</label>
        <input id="email" name="email" type="email" autocomplete="email" />
      </details>
      <ErrorBox error={error} />
      <button type="submit" class="primary big" disabled={busy || !key}>
        {busy ? t('report.sending') : t('report.submit')}
      </button>
    </form>
  );
}

function Lookup({ initial }) {
  const t = useT();
  const [id, setId] = useState(initial || '');
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function look(e) {
    e && e.preventDefault();
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      setResult(await residentLookup(id.trim()));
    } catch (err) {
      setError(err.status === 404 ? t('lookup.notFound', { id }) : err);
    }
    setBusy(false);
  }
  useEffect(() => {
    if (initial) {
      setId(initial);
    }
  }, [initial]);
  return (
    <form class="card stack" onSubmit={look} aria-labelledby="lookup-title">
      <h2 id="lookup-title">{t('lookup.title')}</h2>
      <label for="lookup-id">{t('lookup.number')}</label>
      <input id="lookup-id" value={id} onInput={(e) => setId(e.currentTarget.value)} required inputmode="numeric" />
      <button type="submit" disabled={busy}>{t('lookup.submit')}</button>
      <ErrorBox error={error} />
      {result && (
        <dl class="facts" data-testid="lookup-result">
          <dt>{t('lookup.number')}</dt>
          <dd>{result.service_request_id}</dd>
          <dt>{t('lookup.status')}</dt>
          <dd data-testid="lookup-status">{result.status === 'closed' ? t('lookup.closed') : t('lookup.open')}</dd>
          {result.status_notes && (
            <>
              <dt>{t('lookup.notes')}</dt>
              <dd>{result.status_notes}</dd>
            </>
          )}
          <dt>{t('report.category')}</dt>
          <dd>{result.service_name || result.service_code}</dd>
          <dt>{t('lookup.requested')}</dt>
          <dd>{formatTime(result.requested_datetime, i18n.language)}</dd>
          {result.updated_datetime && (
            <>
              <dt>{t('lookup.updated')}</dt>
              <dd>{formatTime(result.updated_datetime, i18n.language)}</dd>
            </>
          )}
        </dl>
      )}
    </form>
  );
}

export function Resident() {
  const t = useT();
  const [done, setDone] = useState(null);
  useEffect(() => {
    document.title = t('report.pageTitle');
  });
  return (
    <div class="phone">
      <header class="top slim">
        <span class="brand">
          <img src="/icon.svg" alt="" width="24" height="24" /> {t('report.pageTitle')}
        </span>
        <LangSwitch />
      </header>
      <main id="main">
        {done && (
          <section class="card ok" role="status" aria-live="polite" data-testid="reported">
            <h2>{t('report.thanks')}</h2>
            <p>
              {t('report.yourNumber')} <strong class="caseno" data-testid="case-number">{done.service_request_id}</strong>
            </p>
            <p class="hint">{t('report.keepNumber')}</p>
          </section>
        )}
        <Report onReported={setDone} />
        <Lookup initial={done ? String(done.service_request_id) : ''} />
      </main>
    </div>
  );
}
