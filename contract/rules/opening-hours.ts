import { localParts, minutesOf } from './zoned-time.js';

/** A hut's opening hours, local time HH:MM. */
export interface OpeningHours {
  open: string;
  close: string;
}

const DAY_MIN = 24 * 60;

/**
 * Whether a hut is open at `minute` of its local day. `open === close` is open all day; `close`
 * before `open` is open across midnight. The one rule for live status, sessions and the simulator.
 */
export function isOpenAtMinute(hours: OpeningHours, minute: number): boolean {
  const { open, close } = hours;
  if (open === close) return true;
  const o = minutesOf(open);
  const c = minutesOf(close);
  return o < c ? minute >= o && minute < c : minute >= o || minute < c;
}

/** Whether a hut is open at the instant `now`, in the hub's zone. */
export function isOpenAt(hours: OpeningHours, now: number, timeZone: string): boolean {
  return isOpenAtMinute(hours, minutesOf(localParts(now, timeZone).time));
}

/**
 * Whether a session from `start` to `end` (HH:MM; an end not after the start means the next day)
 * lies within the opening hours. With `close < open` the hut's day runs from `open` to `close` the
 * next morning, so the small hours of a date belong to the previous evening's opening.
 */
export function withinOpeningHours(hours: OpeningHours, start: string, end: string): boolean {
  const { open, close } = hours;
  if (open === close) return true;
  const s = minutesOf(start);
  const e = sessionEndMinutes(start, end);
  const o = minutesOf(open);
  const c = minutesOf(close);
  const windows: Array<[number, number]> =
    o < c
      ? [[o, c]]
      : [
          [o - DAY_MIN, c], // opened the evening before, still open this morning
          [o, c + DAY_MIN], // opens this evening, closes tomorrow morning
        ];
  return windows.some(([wo, wc]) => s >= wo && e <= wc);
}

/** End in minutes from the session date's midnight: past 24:00 when the session crosses midnight. */
export function sessionEndMinutes(start: string, end: string): number {
  const s = minutesOf(start);
  const e = minutesOf(end);
  return e > s ? e : e + DAY_MIN;
}
