import type { Alert, Site } from '../../../contract/index.js';
import { i18n } from '../i18n.js';

const KEY = 'yz.alertNotify';

/** Whether this browser asked for notifications of critical alerts (opt-in, per browser). */
export function notifyEnabled(): boolean {
  try {
    return (
      localStorage.getItem(KEY) === '1' && 'Notification' in window && Notification.permission === 'granted'
    );
  } catch {
    return false;
  }
}

export async function setNotify(on: boolean): Promise<boolean> {
  if (on && 'Notification' in window && Notification.permission !== 'granted') {
    if ((await Notification.requestPermission()) !== 'granted') return false;
  }
  try {
    localStorage.setItem(KEY, on ? '1' : '0');
  } catch {
    return false;
  }
  if (on) beep();
  return on;
}

/** A short two-tone chime (no audio file to download). */
function beep(): void {
  try {
    const ctx = new AudioContext();
    for (const [i, f] of [880, 660].entries()) {
      const o = ctx.createOscillator();
      const g = ctx.createGain();
      o.frequency.value = f;
      g.gain.setValueAtTime(0.2, ctx.currentTime + i * 0.25);
      g.gain.exponentialRampToValueAtTime(0.001, ctx.currentTime + i * 0.25 + 0.22);
      o.connect(g).connect(ctx.destination);
      o.start(ctx.currentTime + i * 0.25);
      o.stop(ctx.currentTime + i * 0.25 + 0.25);
    }
    setTimeout(() => void ctx.close(), 1000);
  } catch {
    // No audio (autoplay policy, no device): the notification alone.
  }
}

/** A new critical alert on an open dashboard: a system notification and a chime, when opted in. */
export function announce(a: Alert, site: Site | undefined): void {
  if (a.severity !== 'critical' || !notifyEnabled()) return;
  const { t, te, locale } = i18n.global;
  const what = te(`alerts.rule.${a.ruleId}`) ? t(`alerts.rule.${a.ruleId}`) : a.ruleId;
  const name = site ? (locale.value === 'en' ? site.name.en : site.name.zh) : a.siteId;
  try {
    const n = new Notification(`${t('alerts.severity.critical')} · ${name}`, {
      body: what,
      tag: `alert-${a.id}`,
    });
    n.onclick = () => {
      window.focus();
      window.location.assign(`/sites/${encodeURIComponent(a.siteId)}`);
    };
  } catch {
    // Some mobile browsers only notify from a service worker; the chime still sounds.
  }
  beep();
}
