/**
 * Wall-clock time in the hub's zone (HUB_TZ) and instants (epoch ms). Sessions are entered as a
 * local date and HH:MM and stored as both: the local fields for display and grouping by day, the
 * instants for every comparison with the clock. All conversions go through here.
 */

const partsFormats = new Map<string, Intl.DateTimeFormat>();

function partsFormat(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    partsFormats.set(timeZone, f);
  }
  return f;
}

export interface LocalParts {
  /** YYYY-MM-DD */
  date: string;
  /** HH:MM */
  time: string;
  /** Minutes since local midnight. */
  minutes: number;
}

type Fields = Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', number>;

function formatFields(ms: number, timeZone: string): Fields {
  const p: Record<string, number> = {};
  for (const { type, value } of partsFormat(timeZone).formatToParts(ms)) {
    if (type !== 'literal') p[type] = Number(value);
  }
  return p as Fields;
}

/**
 * The minute last asked of each zone. The live view and the alert rules ask "is it open now?" of
 * every site many times a second, and formatToParts costs microseconds each time; within one
 * minute only the seconds differ, as long as the zone's offset is whole minutes (the cache is
 * skipped for the historical offsets that are not).
 */
const lastMinute = new Map<string, { start: number; fields: Fields }>();

function fields(ms: number, timeZone: string): Fields {
  const start = Math.floor(ms / 60_000) * 60_000;
  let cached = lastMinute.get(timeZone);
  if (cached?.start !== start) {
    const f = formatFields(start, timeZone);
    if (f.second !== 0) return formatFields(ms, timeZone);
    cached = { start, fields: f };
    lastMinute.set(timeZone, cached);
  }
  return { ...cached.fields, second: Math.floor((ms - start) / 1000) };
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function localParts(ms: number, timeZone: string): LocalParts {
  const f = fields(ms, timeZone);
  return {
    date: `${pad(f.year, 4)}-${pad(f.month)}-${pad(f.day)}`,
    time: `${pad(f.hour)}:${pad(f.minute)}`,
    minutes: f.hour * 60 + f.minute,
  };
}

export function localDateOf(ms: number, timeZone: string): string {
  return localParts(ms, timeZone).date;
}

/** The zone's offset from UTC at an instant, in ms (Asia/Shanghai: +8 h all year). */
export function zoneOffsetMs(ms: number, timeZone: string): number {
  const f = fields(ms, timeZone);
  const asUtc = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute, f.second);
  return asUtc - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant of a local date and HH:MM. Two passes so that a zone with daylight saving gets the
 * offset in force at the result, not at the guess; a time skipped by a spring-forward gap lands
 * just after it.
 */
export function zonedToEpoch(date: string, time: string, timeZone: string): number {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  const first = wall - zoneOffsetMs(wall, timeZone);
  const second = wall - zoneOffsetMs(first, timeZone);
  return second;
}

/** Calendar arithmetic on YYYY-MM-DD, independent of any zone. */
export function addDays(date: string, days: number): string {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, mo - 1, d + days)).toISOString().slice(0, 10);
}

/** Days from `a` to `b` (YYYY-MM-DD), negative when b is earlier. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / 86_400_000);
}

/** Monday of the ISO week a date falls in. */
export function weekStart(date: string): string {
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(date, -((dow + 6) % 7));
}

/** ISO 8601 with the zone's offset, e.g. 2025-06-03T09:30:00+08:00, for people and other systems. */
export function isoLocal(ms: number, timeZone: string): string {
  const { date, time } = localParts(ms, timeZone);
  const off = Math.round(zoneOffsetMs(ms, timeZone) / 60_000);
  const sign = off < 0 ? '-' : '+';
  const abs = Math.abs(off);
  return `${date}T${time}:00${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return h * 60 + m;
}
