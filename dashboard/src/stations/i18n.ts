import { createI18n } from 'vue-i18n';
import { type AppLocale, initialLocale, showLocale } from '../locale.js';
import { feedbackEn } from '../locales/feedback.en.js';
import { feedbackZh } from '../locales/feedback.zh-CN.js';
import { finderEn } from '../locales/finder.en.js';
import { finderZh } from '../locales/finder.zh-CN.js';
import { langEn, langZh } from '../locales/lang.js';

/** The finder page's translations only: it bundles nothing of the staff app or the booking page. */
const messages = {
  'zh-CN': { finder: finderZh, feedback: feedbackZh, lang: langZh },
  en: { finder: finderEn, feedback: feedbackEn, lang: langEn },
};

export const stationsI18n = createI18n<[(typeof messages)['zh-CN']], AppLocale, false>({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages,
});

export function setStationsLocale(locale: AppLocale, save = true): void {
  stationsI18n.global.locale.value = locale;
  showLocale(locale, stationsI18n.global.t('finder.title'), save);
}

setStationsLocale(stationsI18n.global.locale.value, false);
