// The console's frame: who is logged in (the cookie session; the CSRF token is asked again from
// /auth/me after a reload), the navigation between the screens (hash routes, so a reload or a
// shared link opens the same screen) and logging out.
import { useEffect, useState } from 'preact/hooks';
import { get, post, setCsrf, ApiError } from '../lib/api.js';
import { LangSwitch, Loading, LoginForm, ErrorBox, useT } from '../lib/ui.jsx';
import { MapView } from './MapView.jsx';
import { Cases } from './Cases.jsx';
import { Grids } from './Grids.jsx';
import { Coverage } from './Coverage.jsx';
import { Users } from './Users.jsx';
import { Stats } from './Stats.jsx';
import { Settings } from './Settings.jsx';

function route() {
  const h = (location.hash || '#/map').slice(2).split('/');
  return { page: h[0] || 'map', arg: h.slice(1).map(decodeURIComponent) };
}

export function App() {
  const t = useT();
  const [me, setMe] = useState(undefined);
  const [error, setError] = useState(null);
  const [r, setR] = useState(route());

  async function loadMe() {
    try {
      const m = await get('/api/v1/auth/me');
      setCsrf(m.session && m.session.csrf_token);
      setMe(m);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) setMe(null);
      else setError(e);
    }
  }
  useEffect(() => {
    loadMe();
    const f = () => setR(route());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  useEffect(() => {
    document.title = t('console.title') + ' · civgrid';
  });

  if (error) return <main class="login-page"><ErrorBox error={error} onRetry={() => { setError(null); loadMe(); }} /></main>;
  if (me === undefined) return <main class="login-page"><Loading /></main>;
  if (me === null)
    return (
      <LoginForm
        title={t('console.title')}
        onLogin={async (username, password) => {
          const doc = await post('/api/v1/auth/login', { username, password, client: 'console' });
          setCsrf(doc.csrf_token);
          await loadMe();
        }}
      />
    );

  const perms = me.permissions || [];
  const roles = me.account.roles || [];
  const nav = [
    ['map', t('nav.map')],
    ['cases', t('nav.cases')],
    ['coverage', t('nav.coverage')],
    ['grids', t('nav.grids')],
    perms.includes('user.read') && ['users', t('nav.users')],
    ['stats', t('nav.stats')],
    ['settings', t('nav.settings')],
  ].filter(Boolean);

  async function logout() {
    try {
      await post('/api/v1/auth/logout');
    } catch {
      /* the session may already be gone */
    }
    setCsrf('');
    setMe(null);
  }

  const ctx = { me, roles, perms };
  let body;
  switch (r.page) {
    case 'cases':
      body = <Cases ctx={ctx} selected={r.arg[0] || null} />;
      break;
    case 'grids':
      body = <Grids ctx={ctx} selected={r.arg[0] || null} />;
      break;
    case 'coverage':
      body = <Coverage ctx={ctx} />;
      break;
    case 'users':
      body = <Users ctx={ctx} />;
      break;
    case 'stats':
      body = <Stats ctx={ctx} />;
      break;
    case 'settings':
      body = <Settings ctx={ctx} />;
      break;
    default:
      body = <MapView ctx={ctx} focus={r.arg[0] || null} />;
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">{t('common.skip')}</a>
      <header class="top">
        <span class="brand">
          <img src="/icon.svg" alt="" width="24" height="24" /> {t('console.title')}
        </span>
        <nav aria-label={t('nav.label')}>
          {nav.map(([k, label]) => (
            <a key={k} href={'#/' + k} aria-current={r.page === k ? 'page' : undefined} data-nav={k}>
              {label}
            </a>
          ))}
        </nav>
        <span class="who">
          <LangSwitch />
          <span class="user" title={roles.map((x) => t('role.' + x)).join('、')}>
            {me.account.display_name || me.account.username}
          </span>
          <button type="button" onClick={logout}>{t('login.logout')}</button>
        </span>
      </header>
      <main id="main" tabindex="-1">{body}</main>
    </div>
  );
}
