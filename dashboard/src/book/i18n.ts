import { createI18n } from 'vue-i18n';
import { type AppLocale, initialLocale, showLocale } from '../locale.js';
import { appointmentsEn } from '../locales/appointments.en.js';
import { appointmentsZh } from '../locales/appointments.zh-CN.js';
import { langEn, langZh } from '../locales/lang.js';

/**
 * The booking page's translations: the same vue-i18n and the same `appt` texts as the staff app's
 * appointment panels, without the rest of the staff app's messages.
 */
const messages = {
  'zh-CN': { appt: appointmentsZh, lang: langZh },
  en: { appt: appointmentsEn, lang: langEn },
};

export const bookI18n = createI18n<[(typeof messages)['zh-CN']], AppLocale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages,
});

export function setBookLocale(locale: AppLocale, save = true): void {
  bookI18n.global.locale.value = locale;
  showLocale(locale, bookI18n.global.t('appt.book.title'), save);
}

setBookLocale(bookI18n.global.locale.value, false);
