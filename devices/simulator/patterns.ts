import type {
  Command,
  DeviceEvent,
  DeviceKind,
  FaultCode,
  OpeningHours,
  Reading,
} from '../../contract/index.js';
import { isOpenAtMinute } from '../../contract/index.js';
import { wearAt } from './wear.js';

/**
 * Daily life of a hut, as functions of (simulated) time and a seeded PRNG. Site-level curves
 * (demand, weather, rain) take no PRNG state, so the seven devices of a site agree on them
 * without talking to each other; each device model keeps only its own small state.
 */

export type Values = Reading['values'];
export type PatternEvent = Omit<DeviceEvent, 'seq' | 'ts'>;
/** `silent`: the device is down and sends nothing this step (a failing controller). */
export type Step = { values: Values; events: PatternEvent[]; silent?: boolean };
export type CommandResult = { ok: boolean; message?: string; events?: PatternEvent[] };
export interface DeviceModel {
  step(t: number, dtMs: number): Step;
  command(cmd: Command, t: number): CommandResult;
}
/** Local HH:MM, as in the hub's site records. */
export interface ModelContext {
  /** Fleet seed: weather and rain are district-wide, so they hang off this alone. */
  seed: number;
  siteId: string;
  deviceId: string;
  seats?: number;
  openingHours?: OpeningHours;
  /** A water dispenser that starts wearing out at this instant (see wear.ts). */
  wearingSince?: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// China has one zone and no daylight saving, so Asia/Shanghai is UTC+8 all year round.
const SHANGHAI = 8 * HOUR;

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, to turn (seed, id, slot) into a PRNG seed. */
export function hashSeed(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const ch of parts.join('|')) h = Math.imul(h ^ ch.codePointAt(0)!, 0x01000193);
  return h >>> 0;
}

export const localHour = (t: number) => ((((t + SHANGHAI) % DAY) + DAY) % DAY) / HOUR;
const dayOfYear = (t: number) => {
  const d = new Date(t + SHANGHAI);
  return (t + SHANGHAI - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY;
};
/** 0 in mid-January, 1 in mid-July: a continental climate is close to a cosine. */
export const summerness = (t: number) => (1 - Math.cos((2 * Math.PI * (dayOfYear(t) - 15)) / 365)) / 2;

/** The hub's own rule; a hut without hours set is always open. */
export function isOpen(t: number, hours?: OpeningHours): boolean {
  if (!hours) return true;
  // The rule parses HH:MM on every call; models ask it several times a step, so keep a day's answers.
  let day = openMinutes.get(hours);
  if (!day) {
    day = Uint8Array.from({ length: 1440 }, (_, m) => (isOpenAtMinute(hours, m) ? 1 : 0));
    openMinutes.set(hours, day);
  }
  return day[Math.floor(localHour(t) * 60)] === 1;
}
const openMinutes = new WeakMap<OpeningHours, Uint8Array>();

const bump = (h: number, centre: number, width: number) => Math.exp(-0.5 * ((h - centre) / width) ** 2);
/** Riders eat between deliveries: lunch 11:30–13:30, dinner 17:30–19:30. */
export const mealTime = (h: number) => bump(h, 12.5, 0.6) + 0.85 * bump(h, 18.5, 0.6);

/** Expected share of seats taken; can pass 1 at peaks (riders stand). */
export function demand(t: number, hours?: OpeningHours): number {
  if (!isOpen(t, hours)) return 0;
  const h = localHour(t);
  const base = 0.03 + 0.12 * Math.min(1, bump(h, 14, 4.5) / 0.3);
  // 1970-01-01 was a Thursday (4).
  const weekday = (Math.floor((t + SHANGHAI) / DAY) + 4) % 7;
  const weekend = weekday === 0 || weekday === 6 ? 0.85 : 1;
  return (base + 0.25 * bump(h, 8, 0.5) + 0.85 * mealTime(h)) * weekend;
}

/**
 * Rain in 2-hour slots. Weather comes in days: a wet day (more of them in summer) rains through
 * most of its slots, so planners see lending follow rain days; a dry day may still get a shower.
 */
export function isRaining(t: number, seed: number): boolean {
  const slot = Math.floor(t / (2 * HOUR));
  // Every device asks every step; hashing the slot each time made eight weeks of history take minutes.
  const key = seed * 1e7 + slot;
  const known = rainSlots.get(key);
  if (known !== undefined) return known;
  if (rainSlots.size > 10_000) rainSlots.clear();
  const wet = rainIn(slot, t, seed);
  rainSlots.set(key, wet);
  return wet;
}
const rainSlots = new Map<number, boolean>();

function rainIn(slot: number, t: number, seed: number): boolean {
  const day = Math.floor((t + SHANGHAI) / DAY);
  const u = (s: number, salt: string) => mulberry32(hashSeed(seed, salt, s))();
  const wetDay = u(day, 'wet-day') < 0.06 + 0.3 * summerness(t) ** 2;
  return u(slot, 'rain') < (wetDay ? 0.65 : 0.02);
}

export function outdoorTemp(t: number, seed: number): number {
  const h = localHour(t);
  const front = 2.5 * Math.sin((2 * Math.PI * t) / (4.3 * DAY) + (seed % 100));
  const daily = 5 * Math.cos((2 * Math.PI * (h - 15)) / 24);
  return -0.5 + 30 * summerness(t) + daily + front - (isRaining(t, seed) ? 3 : 0);
}

export function outdoorHumidity(t: number, seed: number): number {
  if (isRaining(t, seed)) return 93;
  return 45 + 25 * summerness(t) - 12 * Math.cos((2 * Math.PI * (localHour(t) - 15)) / 24);
}

/** Cool to 26 °C (the public-building rule) when hot, heat to 20 °C when cold, only while open. */
export function acPlan(t: number, seed: number, hours?: OpeningHours) {
  const out = outdoorTemp(t, seed);
  if (isOpen(t, hours) && out >= 27) return { on: true, setpoint: 26 };
  if (isOpen(t, hours) && out <= 8) return { on: true, setpoint: 20 };
  return { on: false, setpoint: 24 };
}

function indoorTemp(t: number, seed: number, hours?: OpeningHours): number {
  const out = outdoorTemp(t, seed);
  const plan = acPlan(t, seed, hours);
  // A small glass-and-steel hut warms in afternoon sun; running AC pulls it most of the way to setpoint.
  return plan.on ? plan.setpoint + (out - plan.setpoint) * 0.2 : out + 2 * bump(localHour(t), 14, 3);
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round1 = (v: number) => Math.round(v * 10) / 10;
const gauss = (rng: () => number) => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
const chance = (rng: () => number, perMinute: number, dt: number) =>
  rng() < 1 - Math.exp((-perMinute * dt) / MINUTE);
function poisson(rng: () => number, lambda: number): number {
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gauss(rng)));
  const limit = Math.exp(-lambda);
  let k = 0;
  for (let p = rng(); p > limit; p *= rng()) k++;
  return k;
}

interface Sim {
  rng: () => number;
  ctx: ModelContext;
  seats: number;
  /** Some huts sit by a busy crossing, some down a side street. */
  popularity: number;
  override: { on?: boolean; setpoint?: number; until: number } | null;
  fault: { code: string; until: number } | null;
}
type Behaviour = (t: number, dt: number, events: PatternEvent[]) => Values;

/** People in the hut now, per the site curves; shared by every device of a site. */
const crowd = (s: Sim, t: number) =>
  s.seats * s.popularity * demand(t, s.ctx.openingHours) * (isRaining(t, s.ctx.seed) ? 1.3 : 1);
/** A manual command holds until the next schedule change, simplified to two hours. */
const powered = (s: Sim, t: number, scheduled: boolean) =>
  s.override && t < s.override.until && s.override.on !== undefined ? s.override.on : scheduled;

const behaviours: Record<DeviceKind, (s: Sim) => Behaviour> = {
  occupancy_counter: (s) => {
    let occ = -1;
    return (t, dt) => {
      const target = crowd(s, t);
      const k = 1 - Math.exp(-dt / (8 * MINUTE));
      // Counting noise scales with the crowd; a locked, empty hut reads a steady 0.
      const noise = target > 0 ? gauss(s.rng) * Math.sqrt(k * (target + 0.3)) : 0;
      occ = occ < 0 ? target : occ + (target - occ) * k + noise;
      occ = clamp(occ, 0, 500);
      return { occupancy: Math.round(occ) };
    };
  },
  door_sensor: (s) => {
    let [open, openUntil, last] = [false, 0, 0];
    return (t, dt, events) => {
      const people = crowd(s, t);
      // Turnover of a ~25-minute stay, plus every change in the crowd walks through the door.
      const passes = (2 * people) / 25 + Math.abs(people - last) / Math.max(dt / MINUTE, 1);
      last = people;
      if (!open && chance(s.rng, passes, dt)) {
        const propped = s.rng() < 0.004; // someone wedges it open on a hot day
        openUntil = t + (propped ? 10 + 30 * s.rng() : 0.1 + 0.25 * s.rng()) * MINUTE;
        open = true;
        events.push({ type: 'door_opened' });
      } else if (open && t >= openUntil) {
        open = false;
        events.push({ type: 'door_closed' });
      }
      return { open };
    };
  },
  water_dispenser: (s) => {
    let level = 40 + 60 * s.rng();
    let refillAt: number | null = null;
    return (t, dt, events) => {
      // A 250 ml cup from an 18.9 l bottle; a visitor drinks about once every 50 minutes.
      level = Math.max(0, level - 1.3 * poisson(s.rng, (crowd(s, t) * 0.02 * dt) / MINUTE));
      if (level < 12 && refillAt === null) refillAt = t + (20 + 100 * s.rng()) * MINUTE;
      if (refillAt !== null && t >= refillAt) {
        [level, refillAt] = [100, null];
        events.push({ type: 'refilled' });
      }
      const on = powered(s, t, isOpen(t, s.ctx.openingHours));
      const heating = on && s.fault?.code !== 'E_HEATER' && s.rng() < 0.2;
      const power = heating ? 500 + 50 * s.rng() : on ? 3 + 2 * s.rng() : 0;
      return { on, power_w: round1(power), water_level_pct: round1(level) };
    };
  },
  microwave: (s) => {
    let busyUntil = 0;
    return (t, dt) => {
      // The smart plug can cut power; nobody can start a microwave remotely.
      const plugged = powered(s, t, true);
      const starts = crowd(s, t) * 0.01 * (1 + 6 * mealTime(localHour(t)));
      if (plugged && t >= busyUntil && chance(s.rng, starts, dt)) busyUntil = t + (1 + 2 * s.rng()) * MINUTE;
      const on = plugged && t < busyUntil;
      const power = on ? clamp(1050 + 60 * gauss(s.rng), 800, 1300) : plugged ? 1.5 : 0;
      return { on, power_w: round1(power) };
    };
  },
  air_conditioner: (s) => (t) => {
    const plan = acPlan(t, s.ctx.seed, s.ctx.openingHours);
    const on = powered(s, t, plan.on);
    const active = s.override && t < s.override.until ? s.override.setpoint : undefined;
    const setpoint = active ?? plan.setpoint;
    const load = clamp(Math.abs(outdoorTemp(t, s.ctx.seed) - setpoint) / 12, 0.15, 1);
    const power = on ? clamp(300 + 1200 * load + 40 * gauss(s.rng), 100, 2500) : 2 * s.rng();
    return { on, power_w: round1(power), setpoint_c: setpoint };
  },
  lending_cabinet: (s) => {
    const items = [
      { item: 'umbrella' as const, cap: 20, share: 0.5, avail: 14 + Math.floor(7 * s.rng()) },
      { item: 'raincoat' as const, cap: 12, share: 0.5, avail: 8 + Math.floor(5 * s.rng()) },
    ];
    return (t, dt, events) => {
      const rain = isRaining(t, s.ctx.seed);
      // The cabinet hangs outside, so it lends at night too; items come back hours later.
      const borrowRate = rain ? 0.08 + 0.02 * crowd(s, t) : 0.002;
      for (const it of items) {
        const borrowed = Math.min(it.avail, poisson(s.rng, (borrowRate * it.share * dt) / MINUTE));
        const out = it.cap - it.avail + borrowed;
        const returned = Math.min(out, poisson(s.rng, (out * (rain ? 0.001 : 0.004) * dt) / MINUTE));
        it.avail += returned - borrowed;
        for (let i = 0; i < borrowed; i++) events.push({ type: 'item_borrowed', item: it.item });
        for (let i = 0; i < returned; i++) events.push({ type: 'item_returned', item: it.item });
      }
      return { umbrellas: items[0]!.avail, raincoats: items[1]!.avail };
    };
  },
  environment_sensor: (s) => (t) => {
    const cooled = acPlan(t, s.ctx.seed, s.ctx.openingHours).on ? 10 : 0;
    const temp = indoorTemp(t, s.ctx.seed, s.ctx.openingHours) + 0.3 * gauss(s.rng);
    const humidity = outdoorHumidity(t, s.ctx.seed) - cooled + 2 * gauss(s.rng);
    return { temperature_c: round1(clamp(temp, -40, 70)), humidity_pct: round1(clamp(humidity, 0, 100)) };
  },
};

/** Codes from the contract's list, so the dashboard has words for every fault the simulator raises. */
const FAULT_CODES: Record<DeviceKind, FaultCode[]> = {
  occupancy_counter: ['E_LENS_BLOCKED', 'E_SENSOR'],
  door_sensor: ['E_MAGNET', 'E_LOW_BATTERY'],
  water_dispenser: ['E_HEATER', 'E_LEAK'],
  microwave: ['E_MAGNETRON', 'E_DOOR_SWITCH'],
  air_conditioner: ['E_COMPRESSOR', 'E_FILTER'],
  lending_cabinet: ['E_LOCK_JAM', 'E_RFID'],
  environment_sensor: ['E_SENSOR', 'E_LOW_BATTERY'],
};
/**
 * About one fault per device per simulated day (1 in ~17,000 ticks at 5 s): with 168 devices that
 * keeps two or three faults open across the district, enough to exercise alerts without crying wolf.
 */
const FAULTS_PER_MINUTE = 1 / (24 * 60);
const POWER_SWITCHED: readonly DeviceKind[] = ['water_dispenser', 'microwave', 'air_conditioner'];

export function createModel(kind: DeviceKind, ctx: ModelContext): DeviceModel {
  const s: Sim = {
    rng: mulberry32(hashSeed(ctx.seed, ctx.deviceId)),
    ctx,
    seats: ctx.seats ?? 8,
    popularity: 0.7 + 0.6 * mulberry32(hashSeed(ctx.seed, ctx.siteId))(),
    override: null,
    fault: null,
  };
  const behave = behaviours[kind](s);
  const codes = FAULT_CODES[kind];
  return {
    step(t, dtMs) {
      const events: PatternEvent[] = [];
      const wear =
        kind === 'water_dispenser' && ctx.wearingSince !== undefined
          ? wearAt(t, ctx.wearingSince, ctx.seed)
          : null;
      if (wear?.faulty && s.fault?.code !== 'E_HEATER') {
        if (s.fault) events.push({ type: 'fault_cleared', code: s.fault.code });
        s.fault = { code: 'E_HEATER', until: wear.until };
        events.push({ type: 'fault', code: 'E_HEATER', message: 'simulated E_HEATER (wearing out)' });
      } else if (wear?.faulty && s.fault) {
        s.fault.until = wear.until;
      }
      if (s.fault && t >= s.fault.until) {
        events.push({ type: 'fault_cleared', code: s.fault.code });
        s.fault = null;
      } else if (!s.fault && chance(s.rng, FAULTS_PER_MINUTE, dtMs)) {
        const code = codes[Math.floor(s.rng() * codes.length)]!;
        s.fault = { code, until: t + (3 + 37 * s.rng()) * MINUTE };
        events.push({ type: 'fault', code, message: `simulated ${code}` });
      }
      return { values: behave(t, Math.max(0, dtMs), events), events, silent: wear?.silent };
    },
    command(cmd, t) {
      if (cmd.action === 'reboot') {
        // A reboot clears a latched fault, as it does on the real controllers.
        const cleared: PatternEvent[] = s.fault ? [{ type: 'fault_cleared', code: s.fault.code }] : [];
        s.fault = null;
        return { ok: true, events: [{ type: 'reboot' }, ...cleared] };
      }
      if (cmd.action === 'set_power') {
        if (!POWER_SWITCHED.includes(kind)) return { ok: false, message: `${kind} has no power switch` };
        if (cmd.on === undefined) return { ok: false, message: 'set_power needs "on"' };
        s.override = { ...s.override, on: cmd.on, until: t + 2 * HOUR };
        return { ok: true };
      }
      if (kind !== 'air_conditioner') return { ok: false, message: `${kind} has no setpoint` };
      if (cmd.setpoint_c === undefined) return { ok: false, message: 'set_setpoint needs "setpoint_c"' };
      s.override = { ...s.override, setpoint: cmd.setpoint_c, until: t + 2 * HOUR };
      return { ok: true };
    },
  };
}
