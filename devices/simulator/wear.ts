import { hashSeed, mulberry32 } from './patterns.js';

/**
 * A water dispenser wearing out: its heater fails for hours at a time, more often week by week,
 * and its controller browns out with it now and then, so it sends nothing at all. The schedule is a
 * pure function of time, so the demo's eight weeks of history and the live fleet tell one story.
 */

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;
/** Episodes come in 3-hour slots; a failing slot tends to drag on into the next. */
const SLOT = 3 * HOUR;

export interface WearState {
  /** The heater is out (fault E_HEATER raised, no heating). */
  faulty: boolean;
  /** The controller is down too: no readings, no events. */
  silent: boolean;
  /** When this slot ends: the fault lasts at least until then. */
  until: number;
}

export function wearAt(t: number, since: number, seed: number): WearState {
  const slot = Math.floor(t / SLOT);
  const until = (slot + 1) * SLOT;
  if (t < since) return { faulty: false, silent: false, until };
  // From one bad slot in eight at the start to over half of them three weeks on.
  const p = Math.min(0.6, 0.12 + (0.16 * (t - since)) / WEEK);
  const u = (salt: string) => mulberry32(hashSeed(seed, 'wear', salt, slot))();
  const faulty = u('heater') < p;
  return { faulty, silent: faulty && u('brownout') < 0.35, until };
}
