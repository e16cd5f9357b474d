import { DateTime } from 'luxon';

/**
 * Bucket boundaries in the hub's zone, through Luxon: hours, days, weeks from Monday and months
 * begin at local wall-clock boundaries, so a day in Shanghai runs 00:00–24:00 local (16:00–16:00
 * UTC) and a day in Berlin on a DST change lasts 23 or 25 hours. Five-minute buckets are multiples
 * of five minutes since the epoch, which every zone's offset (a multiple of 15 minutes) keeps local.
 */
export const FIVE_MIN = 300_000;

export type CalendarGrain = 'hour' | 'day' | 'week' | 'month';

export interface Bucket {
  /** Start, inclusive (ms). */
  t: number;
  /** End, exclusive (ms). */
  tEnd: number;
  /** Local start: YYYY-MM-DD, or YYYY-MM-DDTHH for hours. */
  label: string;
}

const unit = { hour: 'hour', day: 'day', week: 'week', month: 'month' } as const;
const step = { hour: { hours: 1 }, day: { days: 1 }, week: { weeks: 1 }, month: { months: 1 } } as const;

export function fiveMinuteOf(ms: number): number {
  return Math.floor(ms / FIVE_MIN) * FIVE_MIN;
}

function checkedZone(timeZone: string, ms: number): DateTime {
  const dt = DateTime.fromMillis(ms, { zone: timeZone });
  if (!dt.isValid) throw new Error(`bad time zone ${timeZone}`);
  return dt;
}

/** The local bucket of `grain` holding the instant `ms` (Luxon's weeks start on Monday). */
export function bucketOf(ms: number, grain: CalendarGrain, timeZone: string): Bucket {
  const start = checkedZone(timeZone, ms).startOf(unit[grain]);
  return { t: start.toMillis(), tEnd: start.plus(step[grain]).toMillis(), label: labelOf(start, grain) };
}

/** Every bucket of `grain` overlapping [from, to), in order; the first may start before `from`. */
export function bucketsBetween(from: number, to: number, grain: CalendarGrain, timeZone: string): Bucket[] {
  const out: Bucket[] = [];
  let start = checkedZone(timeZone, from).startOf(unit[grain]);
  while (start.toMillis() < to) {
    const next = start.plus(step[grain]);
    out.push({ t: start.toMillis(), tEnd: next.toMillis(), label: labelOf(start, grain) });
    // Hours are added in real time, so the repeated hour of an autumn DST change comes twice.
    start = next;
  }
  return out;
}

/** Local midnight of a YYYY-MM-DD date. */
export function startOfDate(date: string, timeZone: string): number {
  const dt = DateTime.fromISO(date, { zone: timeZone });
  if (!dt.isValid) throw new Error(`bad date ${date} or zone ${timeZone}`);
  return dt.startOf('day').toMillis();
}

export function localDate(ms: number, timeZone: string): string {
  return checkedZone(timeZone, ms).toISODate()!;
}

/** ISO weekday (1 = Monday) and hour of the local time at `ms`. */
export function weekdayHour(ms: number, timeZone: string): { weekday: number; hour: number } {
  const dt = checkedZone(timeZone, ms);
  return { weekday: dt.weekday, hour: dt.hour };
}

export function shiftDate(date: string, by: { days?: number; months?: number; years?: number }): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus(by).toISODate()!;
}

function labelOf(start: DateTime, grain: CalendarGrain): string {
  return grain === 'hour' ? start.toFormat("yyyy-LL-dd'T'HH") : start.toISODate()!;
}
