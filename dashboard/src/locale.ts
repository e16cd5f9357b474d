/**
 * The reader's language, shared by the staff app (./i18n.ts) and the booking page
 * (./book/i18n.ts): one list of locales and one saved choice, so a shared phone keeps it on both.
 */
export const locales = ['zh-CN', 'en'] as const;
export type AppLocale = (typeof locales)[number];

const STORAGE_KEY = 'yz.locale';

export function isLocale(v: unknown): v is AppLocale {
  return typeof v === 'string' && (locales as readonly string[]).includes(v);
}

/** A saved choice wins; otherwise English only for browsers set to English, Chinese for everyone else. */
export function initialLocale(): AppLocale {
  let saved: string | null = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    // Storage can be blocked (private mode, policies); fall through to the browser language.
  }
  if (isLocale(saved)) return saved;
  return (navigator.language || '').toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
}

/**
 * Sets the page's lang and title, and saves the choice when the reader made it (`save`), so a
 * language taken from the browser keeps following the browser. The caller has switched its i18n.
 */
export function showLocale(locale: AppLocale, title: string, save = true): void {
  try {
    if (save) localStorage.setItem(STORAGE_KEY, locale);
  } catch {
    // Not persisted; the switch still applies to this page.
  }
  document.documentElement.lang = locale;
  document.title = title;
}
