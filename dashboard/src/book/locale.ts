import { computed, ref } from 'vue';
import { type AppointmentLocale, appointmentMessages } from '../appointments/messages.js';

/** The staff app's key, so one choice holds for both pages on a shared phone. */
const STORAGE_KEY = 'yz.locale';

function saved(): AppointmentLocale {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
}

/** Chinese first: English only when chosen here (or in the staff app) before. */
const lang = ref<AppointmentLocale>(saved());
const messages = computed(() => appointmentMessages[lang.value]);

function apply(): void {
  document.documentElement.lang = lang.value;
  document.title = messages.value.book.title;
}

export function setLang(l: AppointmentLocale): void {
  lang.value = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // Not persisted; the switch still applies to this page.
  }
  apply();
}

export function useBookLocale() {
  return { lang, m: messages };
}

apply();
