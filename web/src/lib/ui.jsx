// Small pieces every page shares: the language switch, loading / empty / error states, the login
// form and an accessible dialog (focus moves in, Escape closes, focus returns).
import { useEffect, useRef, useState } from 'preact/hooks';
import { i18n, LANGS, setLanguage } from './i18n.js';
import { errorText } from './api.js';

/** Re-renders the caller when the language changes; returns t. */
export function useT() {
  const [, setLang] = useState(i18n.language);
  useEffect(() => {
    const f = (l) => setLang(l);
    i18n.on('languageChanged', f);
    return () => i18n.off('languageChanged', f);
  }, []);
  return i18n.t.bind(i18n);
}

export function LangSwitch() {
  const t = useT();
  return (
    <label class="lang">
      <span class="sr-only">{t('common.language')}</span>
      <select value={i18n.language} onChange={(e) => setLanguage(e.currentTarget.value)} data-testid="lang">
        {LANGS.map((l) => (
          <option value={l.code} key={l.code}>{l.label}</option>
        ))}
      </select>
    </label>
  );
}

export function Loading({ text }) {
  const t = useT();
  return (
    <p class="state loading" role="status" aria-live="polite">
      <span class="spinner" aria-hidden="true" />
      {text || t('common.loading')}
    </p>
  );
}

export function Empty({ text }) {
  return <p class="state empty">{text}</p>;
}

export function ErrorBox({ error, onRetry }) {
  const t = useT();
  if (!error) return null;
  return (
    <div class="state error" role="alert">
      <p>{typeof error === 'string' ? error : errorText(t, error)}</p>
      {onRetry && (
        <button type="button" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

/** Runs an async loader on mount and when deps change: {data, error, loading, reload}. */
export function useAsync(loader, deps = []) {
  const [s, set] = useState({ data: null, error: null, loading: true });
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    set((p) => ({ ...p, loading: true, error: null }));
    loader().then(
      (data) => live && set({ data, error: null, loading: false }),
      (error) => live && set({ data: null, error, loading: false }),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { ...s, reload: () => setN((x) => x + 1) };
}

export function LoginForm({ title, onLogin }) {
  const t = useT();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    const f = e.currentTarget;
    setBusy(true);
    setError(null);
    try {
      await onLogin(f.username.value.trim(), f.password.value);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  }
  return (
    <main class="login-page">
      <form class="card login" id="login" onSubmit={submit} aria-labelledby="login-title">
        <div class="login-head">
          <h1 id="login-title">{title}</h1>
          <LangSwitch />
        </div>
        <label for="username">{t('login.username')}</label>
        <input id="username" name="username" autocomplete="username" required autofocus />
        <label for="password">{t('login.password')}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <ErrorBox error={error} />
        <button type="submit" class="primary" disabled={busy}>
          {busy ? t('login.busy') : t('login.submit')}
        </button>
      </form>
    </main>
  );
}

export function Dialog({ title, onClose, children, wide }) {
  const t = useT();
  const ref = useRef(null);
  useEffect(() => {
    const before = document.activeElement;
    const el = ref.current;
    const first = el && el.querySelector('input,select,textarea,button:not(.dialog-close)');
    (first || el).focus();
    function key(e) {
      if (e.key === 'Escape') onClose();
      if (e.key === 'Tab' && el) {
        const items = [...el.querySelectorAll('a,button,input,select,textarea,[tabindex]:not([tabindex="-1"])')].filter((x) => !x.disabled);
        if (!items.length) return;
        const a = items[0];
        const z = items[items.length - 1];
        if (e.shiftKey && document.activeElement === a) {
          z.focus();
          e.preventDefault();
        } else if (!e.shiftKey && document.activeElement === z) {
          a.focus();
          e.preventDefault();
        }
      }
    }
    document.addEventListener('keydown', key);
    return () => {
      document.removeEventListener('keydown', key);
      if (before && before.focus) before.focus();
    };
  }, []);
  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class={'dialog' + (wide ? ' wide' : '')} role="dialog" aria-modal="true" aria-labelledby="dialog-title" ref={ref} tabindex="-1">
        <header>
          <h2 id="dialog-title">{title}</h2>
          <button type="button" class="dialog-close" onClick={onClose} aria-label={t('common.close')}>
            ×
          </button>
        </header>
        {children}
      </div>
    </div>
  );
}

/** Arrow keys, Home and End within a role=tablist: move to the tab and choose it. */
export function tabKeys(e) {
  const tabs = [...e.currentTarget.querySelectorAll('[role=tab]')];
  const i = tabs.indexOf(document.activeElement);
  if (i < 0) return;
  const j = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
  if (j === undefined) return;
  e.preventDefault();
  const next = tabs[(j + tabs.length) % tabs.length];
  next.focus();
  next.click();
}
