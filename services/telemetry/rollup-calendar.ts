import { DateTime, IANAZone } from 'luxon';

/**
 * Bucket boundaries in the hub's zone: hours, days, weeks from Monday and months begin at local
 * wall-clock boundaries, so a day in Shanghai runs 00:00–24:00 local (16:00–16:00 UTC) and a day in
 * Berlin on a DST change lasts 23 or 25 hours. Five-minute buckets are multiples of five minutes
 * since the epoch, which every zone's offset (a multiple of 15 minutes) keeps local.
 *
 * The zone's offsets come from Luxon (its IANA data), looked up once per week of time and bisected
 * to the minute where they change; the rest is arithmetic on wall-clock milliseconds. Luxon's
 * DateTime per bucket cost 60–250 µs here (measured), so a year of hours took seconds on the event
 * loop; this takes milliseconds. Limit: at most one offset change per week, and whole-hour DST
 * shifts for hour buckets (every zone but Lord Howe Island).
 */
export const FIVE_MIN = 300_000;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
const WEEK = 7 * DAY;

export type CalendarGrain = 'hour' | 'day' | 'week' | 'month';

export interface Bucket {
  /** Start, inclusive (ms). */
  t: number;
  /** End, exclusive (ms). */
  tEnd: number;
  /** Local start: YYYY-MM-DD, or YYYY-MM-DDTHH for hours. */
  label: string;
}

export function fiveMinuteOf(ms: number): number {
  return Math.floor(ms / FIVE_MIN) * FIVE_MIN;
}

interface WeekOffsets {
  before: number;
  /** The instant the offset changes within this week, if it does. */
  at?: number;
  after: number;
}

class ZoneOffsets {
  private readonly zone: IANAZone;
  private readonly weeks = new Map<number, WeekOffsets>();

  constructor(readonly name: string) {
    if (!IANAZone.isValidZone(name)) throw new Error(`bad time zone ${name}`);
    this.zone = IANAZone.create(name);
  }

  /** The zone's offset from UTC at `ms`, in ms. */
  offset(ms: number): number {
    const w = Math.floor(ms / WEEK);
    let e = this.weeks.get(w);
    if (!e) {
      e = this.week(w);
      if (this.weeks.size > 20_000) this.weeks.clear();
      this.weeks.set(w, e);
    }
    return e.at !== undefined && ms >= e.at ? e.after : e.before;
  }

  private week(w: number): WeekOffsets {
    const off = (ms: number) => this.zone.offset(ms) * MIN;
    let lo = w * WEEK;
    let hi = lo + WEEK;
    const before = off(lo);
    const after = off(hi);
    if (before === after) return { before, after };
    while (hi - lo > MIN) {
      const mid = Math.floor((lo + hi) / 2 / MIN) * MIN;
      if (off(mid) === before) lo = mid;
      else hi = mid;
    }
    return { before, at: hi, after };
  }

  /** The instant of local wall-clock `wall` (ms as if UTC); a skipped time lands just after the gap. */
  instant(wall: number): number {
    const guess = wall - this.offset(wall);
    return wall - this.offset(guess);
  }

  wall(ms: number): number {
    return ms + this.offset(ms);
  }
}

const zones = new Map<string, ZoneOffsets>();
function zoneOf(name: string): ZoneOffsets {
  let z = zones.get(name);
  if (!z) {
    z = new ZoneOffsets(name);
    zones.set(name, z);
  }
  return z;
}

const isoDate = (wall: number) => new Date(wall).toISOString().slice(0, 10);

/** Wall-clock start of the local bucket holding wall time `w`, and of the next one. */
function wallBounds(w: number, grain: Exclude<CalendarGrain, 'hour'>): [number, number] {
  const day = Math.floor(w / DAY) * DAY;
  if (grain === 'day') return [day, day + DAY];
  if (grain === 'week') {
    const monday = day - ((new Date(day).getUTCDay() + 6) % 7) * DAY;
    return [monday, monday + WEEK];
  }
  const d = new Date(day);
  return [
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1),
    Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1),
  ];
}

/** The local bucket of `grain` holding the instant `ms` (weeks start on Monday); label '' unless asked. */
export function bucketOf(ms: number, grain: CalendarGrain, timeZone: string, labels = true): Bucket {
  const z = zoneOf(timeZone);
  if (grain === 'hour') {
    const t = Math.floor(z.wall(ms) / HOUR) * HOUR - z.offset(ms);
    // The next local hour boundary, in the offset in force then (23- and 25-hour days).
    const next = t + HOUR;
    const tEnd = Math.floor(z.wall(next) / HOUR) * HOUR - z.offset(next);
    const wall = z.wall(t);
    return {
      t,
      tEnd: tEnd > t ? tEnd : next,
      label: `${isoDate(wall)}T${String(new Date(wall).getUTCHours()).padStart(2, '0')}`,
    };
  }
  const [a, b] = wallBounds(z.wall(ms), grain);
  return { t: z.instant(a), tEnd: z.instant(b), label: labels ? isoDate(a) : '' };
}

/** Every bucket of `grain` overlapping [from, to), in order; the first may start before `from`. */
export function bucketsBetween(
  from: number,
  to: number,
  grain: CalendarGrain,
  timeZone: string,
  labels = true,
): Bucket[] {
  const out: Bucket[] = [];
  for (
    let b = bucketOf(from, grain, timeZone, labels);
    b.t < to;
    b = bucketOf(b.tEnd, grain, timeZone, labels)
  ) {
    out.push(b);
  }
  return out;
}

/** Local midnight of a YYYY-MM-DD date. */
export function startOfDate(date: string, timeZone: string): number {
  const wall = Date.parse(`${date}T00:00:00Z`);
  if (Number.isNaN(wall)) throw new Error(`bad date ${date}`);
  return zoneOf(timeZone).instant(wall);
}

export function localDate(ms: number, timeZone: string): string {
  return isoDate(zoneOf(timeZone).wall(ms));
}

/** ISO weekday (1 = Monday) and hour of the local time at `ms`. */
export function weekdayHour(ms: number, timeZone: string): { weekday: number; hour: number } {
  const d = new Date(zoneOf(timeZone).wall(ms));
  return { weekday: ((d.getUTCDay() + 6) % 7) + 1, hour: d.getUTCHours() };
}

/** The zone's offset from UTC at `ms`, in ms. */
export function wallOffset(ms: number, timeZone: string): number {
  return zoneOf(timeZone).offset(ms);
}

/** Minutes since local midnight at `ms`. */
export function minuteOfDay(ms: number, timeZone: string): number {
  return Math.floor((zoneOf(timeZone).wall(ms) % DAY) / MIN);
}

export function shiftDate(date: string, by: { days?: number; months?: number; years?: number }): string {
  return DateTime.fromISO(date, { zone: 'UTC' }).plus(by).toISODate()!;
}
