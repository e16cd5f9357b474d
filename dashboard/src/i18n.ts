import { createI18n } from 'vue-i18n';
import en from './locales/en.js';
import zhCN, { type MessageSchema } from './locales/zh-CN.js';

export const locales = ['zh-CN', 'en'] as const;
export type AppLocale = (typeof locales)[number];

const STORAGE_KEY = 'yz.locale';

function isLocale(v: unknown): v is AppLocale {
  return typeof v === 'string' && (locales as readonly string[]).includes(v);
}

/** A saved choice wins; otherwise English only for browsers set to English, Chinese for everyone else. */
function initialLocale(): AppLocale {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be blocked (private mode, policies); fall through to the browser language.
  }
  if (isLocale(saved)) return saved;
  return (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
}

export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

function applyToDocument(locale: AppLocale): void {
  document.documentElement.lang = locale;
  document.title = i18n.global.t('app.title');
}

export function currentLocale(): AppLocale {
  return i18n.global.locale.value;
}

export function setLocale(locale: AppLocale): void {
  i18n.global.locale.value = locale;
  try {
    localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // Not persisted; the switch still applies to this page.
  }
  applyToDocument(locale);
}

applyToDocument(currentLocale());
