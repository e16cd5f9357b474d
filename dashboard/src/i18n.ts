import { createI18n } from 'vue-i18n';
import { type AppLocale, initialLocale, showLocale } from './locale.js';
import en from './locales/en.js';
import zhCN, { type MessageSchema } from './locales/zh-CN.js';

export { type AppLocale, locales } from './locale.js';

/** The staff app's translations; the booking page has its own instance (./book/i18n.ts). */
export const i18n = createI18n<[MessageSchema], AppLocale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

export function currentLocale(): AppLocale {
  return i18n.global.locale.value;
}

export function setLocale(locale: AppLocale, save = true): void {
  i18n.global.locale.value = locale;
  showLocale(locale, i18n.global.t('app.title'), save);
}

setLocale(currentLocale(), false);
