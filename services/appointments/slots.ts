import type { Site } from '../../contract/index.js';
import { minutesOf } from '../../contract/index.js';

const DAY_MIN = 24 * 60;

/**
 * Whether a session from `start` to `end` (HH:MM; an end not after the start means the next day)
 * lies within a site's opening hours. `open === close` is open all day; `close < open` is open past
 * midnight, so the hut's day runs from `open` to `close` the next morning, and the small hours of
 * a date belong to the previous evening's opening.
 */
export function withinOpeningHours(hours: Site['openingHours'], start: string, end: string): boolean {
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

export interface Slot {
  index: number;
  startAt: number;
  endAt: number;
}

interface SlotSource {
  start_at: number;
  end_at: number;
  slot_minutes: number;
}

/** Slots are implied by the session: back to back from its start, each `slot_minutes` long. */
export function slotsOf(s: SlotSource): Slot[] {
  const len = s.slot_minutes * 60_000;
  const n = Math.floor((Number(s.end_at) - Number(s.start_at)) / len);
  return Array.from({ length: n }, (_, index) => ({
    index,
    startAt: Number(s.start_at) + index * len,
    endAt: Number(s.start_at) + (index + 1) * len,
  }));
}

export function slotAt(s: SlotSource, startAt: number): Slot | undefined {
  const len = s.slot_minutes * 60_000;
  const offset = startAt - Number(s.start_at);
  if (offset < 0 || offset % len !== 0) return undefined;
  return slotsOf(s)[offset / len];
}

/** Booking closes `cutoffMs` before a slot starts; a slot in the past is closed too. */
export function slotOpen(slot: Pick<Slot, 'startAt'>, now: number, cutoffMs: number): boolean {
  return now < slot.startAt - cutoffMs;
}
