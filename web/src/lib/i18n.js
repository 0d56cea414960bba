// Languages of the pages: Simplified Chinese first, English second (i18next). The choice is kept
// in localStorage and applied to <html lang> so screen readers and the CJK font pick it up.
import i18next from 'i18next';
import zh from '../locales/zh-CN.js';
import en from '../locales/en.js';

export const LANGS = [
  { code: 'zh-CN', label: '中文' },
  { code: 'en', label: 'English' },
];
const KEY = 'civgrid.lang';

function saved() {
  try {
    const v = globalThis.localStorage && localStorage.getItem(KEY);
    return LANGS.some((l) => l.code === v) ? v : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

export const i18n = i18next.createInstance();
i18n.init({
  lng: saved(),
  fallbackLng: 'zh-CN',
  resources: { 'zh-CN': { translation: zh }, en: { translation: en } },
  interpolation: { escapeValue: false },
  initImmediate: false,
  returnNull: false,
});
if (globalThis.document) document.documentElement.lang = i18n.language;

export const t = (...args) => i18n.t(...args);

export function setLanguage(code) {
  i18n.changeLanguage(code);
  try {
    localStorage.setItem(KEY, code);
  } catch {
    /* private mode: the choice lasts this page only */
  }
  if (globalThis.document) document.documentElement.lang = code;
}

/** The name of a grid or category object in the current language ({name_zh, name_en} or {zh, en}). */
export function nameOf(o) {
  if (!o) return '';
  const zhName = o.name_zh ?? o.zh ?? '';
  const enName = o.name_en ?? o.en ?? '';
  return i18n.language === 'en' ? enName || zhName : zhName || enName;
}
