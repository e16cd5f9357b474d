import { computed } from 'vue';
import { useI18n } from 'vue-i18n';
import type { AppLocale } from '../locale.js';

/**
 * What the appointment panels and the booking page need from vue-i18n: `t` for the `appt.*`
 * texts, the reader's language, a server error code as a sentence, and a day as a label.
 */
export function useAppointmentTexts() {
  const { t, te, locale } = useI18n();
  const lang = computed<AppLocale>(() => (locale.value === 'en' ? 'en' : 'zh-CN'));

  const errorText = (code: string) =>
    te(`appt.error.${code}`) ? t(`appt.error.${code}`) : t('appt.error.generic', { code });

  /** "3月5日 周三" / "Wed 5 Mar" for a YYYY-MM-DD date; the date is already in the hub's zone. */
  const dayLabel = (date: string) => {
    const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
    const weekday = t(`appt.weekday.${new Date(Date.UTC(y, mo - 1, d)).getUTCDay()}`);
    return lang.value === 'en'
      ? `${weekday} ${d} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][mo - 1]}`
      : `${mo}月${d}日 ${weekday}`;
  };

  return { t, te, lang, errorText, dayLabel };
}
