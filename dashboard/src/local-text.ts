import { useI18n } from 'vue-i18n';
import type { LocalText } from '../../contract/index.js';

/**
 * Text people typed (a community, an address, a device name) in the reader's language. Chinese is
 * always given, English may not be yet: an English reader then sees the Chinese, and a Chinese
 * reader the English when only that exists, each marked (`fallback`) so nobody mistakes it for a
 * translation that was never made (issue 8 #14).
 */
export function pickText(v: LocalText, locale: string): { text: string; fallback: boolean } {
  const zh = v.zh.trim();
  const en = v.en?.trim() ?? '';
  const [want, other] = locale.startsWith('zh') ? [zh, en] : [en, zh];
  if (want) return { text: want, fallback: false };
  return { text: other, fallback: other !== '' };
}

/** `pickText` as one string, the fallback marked by the locale's `lang.fallback` ("芳华里 [zh]"). */
export function useLocalText() {
  const { t, locale } = useI18n();
  return (v: LocalText | undefined): string => {
    if (!v) return '';
    const { text, fallback } = pickText(v, locale.value);
    return fallback ? t('lang.fallback', { text }) : text;
  };
}
