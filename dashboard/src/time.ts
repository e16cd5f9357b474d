/**
 * Every wall-clock time in the product is shown in the hub's zone (HUB_TZ, from /api/config),
 * wherever the reader is. Asia/Shanghai until the configuration has been read.
 */
let timeZone = 'Asia/Shanghai';

const cache = new Map<string, Intl.DateTimeFormat | Intl.RelativeTimeFormat>();

export function setTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
  } catch {
    return; // A zone this browser does not know: keep the default rather than fail to render.
  }
  timeZone = zone;
  cache.clear();
}

export function getTimeZone(): string {
  return timeZone;
}

function dtf(locale: string, kind: 'day' | 'time' | 'dateTime' | 'full'): Intl.DateTimeFormat {
  const key = `${locale}|${kind}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    const opts: Intl.DateTimeFormatOptions =
      kind === 'day'
        ? { year: 'numeric', month: '2-digit', day: '2-digit' }
        : kind === 'time'
          ? { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
          : kind === 'dateTime'
            ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }
            : { dateStyle: 'medium', timeStyle: 'medium', hourCycle: 'h23' };
    f = new Intl.DateTimeFormat(kind === 'day' ? 'en-CA' : locale, { ...opts, timeZone });
    cache.set(key, f);
  }
  return f;
}

function rtf(locale: string): Intl.RelativeTimeFormat {
  const key = `${locale}|rel`;
  let f = cache.get(key) as Intl.RelativeTimeFormat | undefined;
  if (!f) {
    f = new Intl.RelativeTimeFormat(locale, { numeric: 'auto', style: 'short' });
    cache.set(key, f);
  }
  return f;
}

/** Clock time, with the date too when `ts` is not on the same calendar day (in the hub's zone) as `now`. */
export function formatClock(ts: number, now: number, locale: string): string {
  const sameDay = dtf(locale, 'day').format(ts) === dtf(locale, 'day').format(now);
  return dtf(locale, sameDay ? 'time' : 'dateTime').format(ts);
}

/** The calendar day of `ts` in the hub's zone, as YYYY-MM-DD (the server's `date` fields). */
export function hubDate(ts: number): string {
  return dtf('en-CA', 'day').format(ts);
}

export function formatFull(ts: number, locale: string): string {
  return dtf(locale, 'full').format(ts);
}

/** "3 min ago" style; null below a minute (and for device clocks running ahead) so callers say "just now". */
export function formatAgo(ts: number, now: number, locale: string): string | null {
  const sec = Math.floor((now - ts) / 1000);
  if (sec < 60) return null;
  const f = rtf(locale);
  if (sec < 3600) return f.format(-Math.floor(sec / 60), 'minute');
  if (sec < 86_400) return f.format(-Math.floor(sec / 3600), 'hour');
  return f.format(-Math.floor(sec / 86_400), 'day');
}

/** "14:00" for an hour bucket, in the hub's zone. */
export function formatHour(ts: number, locale: string): string {
  return dtf(locale, 'time').format(ts);
}

/**
 * When something was last heard of, as a tile or a device card shows it: "14:05 · 3 min ago", with
 * the full date and time for a title; "never" when there is no time yet.
 */
export function formatLastSeen(
  ts: number | null,
  now: number,
  locale: string,
  t: (key: string) => string,
): { text: string; title: string } {
  if (ts === null) return { text: t('tile.never'), title: '' };
  const ago = formatAgo(ts, now, locale) ?? t('tile.justNow');
  return { text: `${formatClock(ts, now, locale)} · ${ago}`, title: formatFull(ts, locale) };
}
