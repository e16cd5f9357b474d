import type { DeviceKind, KpiKey, Kpis, OpeningHours, StatsRow } from '../../contract/index.js';
import { isOpenAtMinute, minutesOf } from '../../contract/index.js';
import { FIVE_MIN } from '../telemetry/rollup-calendar.js';
import type { AggregateRow } from '../telemetry/rollup-duckdb.js';

/** The rollup metrics the KPIs are made of; queries ask for these only. */
export const KPI_METRICS = [
  'occupancy',
  'water_level_pct',
  'power_w',
  '_up',
  'ev:door_opened',
  'ev:item_borrowed:umbrella',
  'ev:item_returned:umbrella',
  'ev:item_borrowed:raincoat',
  'ev:item_returned:raincoat',
] as const;

/** The metrics one KPI needs (for sparklines and trends, which ask for one KPI). */
export const METRICS_OF: Record<KpiKey, readonly string[]> = {
  occupancyHours: ['occupancy'],
  peakOccupancy: ['occupancy'],
  doorOpenings: ['ev:door_opened'],
  waterDispensedPct: ['water_level_pct'],
  umbrellasLent: ['ev:item_borrowed:umbrella'],
  umbrellasReturned: ['ev:item_returned:umbrella'],
  raincoatsLent: ['ev:item_borrowed:raincoat'],
  raincoatsReturned: ['ev:item_returned:raincoat'],
  energyKwh: ['power_w'],
  uptimePct: ['_up'],
  openHours: [],
  usableHours: ['_up'],
  sessionsHeld: [],
  booked: [],
  attended: [],
  noShows: [],
  fillRate: [],
};

/** Which device kind can tell a KPI: a site without one gets null, not 0. */
const KIND_OF: Partial<Record<KpiKey, readonly DeviceKind[]>> = {
  occupancyHours: ['occupancy_counter'],
  peakOccupancy: ['occupancy_counter'],
  doorOpenings: ['door_sensor'],
  waterDispensedPct: ['water_dispenser'],
  umbrellasLent: ['lending_cabinet'],
  umbrellasReturned: ['lending_cabinet'],
  raincoatsLent: ['lending_cabinet'],
  raincoatsReturned: ['lending_cabinet'],
  energyKwh: ['water_dispenser', 'microwave', 'air_conditioner'],
};

const SCREENING: readonly KpiKey[] = ['sessionsHeld', 'booked', 'attended', 'noShows', 'fillRate'];

/** Sums that combine across buckets, sites and communities; Kpis are made from them at the end. */
export interface Acc {
  occArea: number;
  occMax: number | null;
  door: number;
  fall: number;
  umbL: number;
  umbR: number;
  rainL: number;
  rainR: number;
  powerArea: number;
  up5: number;
  /** Five-minute buckets × devices that could have reported. */
  up5Possible: number;
  openH: number;
  sessionsHeld: number;
  booked: number;
  attended: number;
  noShows: number;
  slotsOffered: number;
  /** KPIs some contributing site can tell at all. */
  known: Set<KpiKey>;
}

/** `known` is the accumulator's own unless given (see `AnalyticsService.accMaker`). */
export function emptyAcc(known: Set<KpiKey> = new Set()): Acc {
  return {
    occArea: 0,
    occMax: null,
    door: 0,
    fall: 0,
    umbL: 0,
    umbR: 0,
    rainL: 0,
    rainR: 0,
    powerArea: 0,
    up5: 0,
    up5Possible: 0,
    openH: 0,
    sessionsHeld: 0,
    booked: 0,
    attended: 0,
    noShows: 0,
    slotsOffered: 0,
    known,
  };
}

/** What a site with these devices and this type can tell. */
export function knownKpis(kinds: Iterable<DeviceKind>, screening: boolean): Set<KpiKey> {
  const have = new Set(kinds);
  const out = new Set<KpiKey>(['openHours']);
  if (have.size > 0) out.add('uptimePct').add('usableHours');
  for (const [kpi, ks] of Object.entries(KIND_OF)) {
    if (ks.some((k) => have.has(k))) out.add(kpi as KpiKey);
  }
  if (screening) for (const k of SCREENING) out.add(k);
  return out;
}

export function addRow(acc: Acc, r: AggregateRow): void {
  switch (r.metric) {
    case 'occupancy':
      acc.occArea += r.area ?? 0;
      if (r.max !== null) acc.occMax = Math.max(acc.occMax ?? r.max, r.max);
      break;
    case 'water_level_pct':
      acc.fall += r.fall ?? 0;
      break;
    case 'power_w':
      acc.powerArea += r.area ?? 0;
      break;
    case '_up':
      acc.up5 += r.up5 ?? 0;
      break;
    case 'ev:door_opened':
      acc.door += r.n;
      break;
    case 'ev:item_borrowed:umbrella':
      acc.umbL += r.n;
      break;
    case 'ev:item_returned:umbrella':
      acc.umbR += r.n;
      break;
    case 'ev:item_borrowed:raincoat':
      acc.rainL += r.n;
      break;
    case 'ev:item_returned:raincoat':
      acc.rainR += r.n;
      break;
  }
}

export function addScreening(acc: Acc, s: StatsRow): void {
  acc.sessionsHeld += s.sessionsHeld;
  acc.booked += s.booked;
  acc.attended += s.attended;
  acc.noShows += s.noShows;
  acc.slotsOffered += s.slotsOffered;
}

export function merge(into: Acc, from: Acc): void {
  for (const k of Object.keys(into) as (keyof Acc)[]) {
    if (k === 'known') for (const x of from.known) into.known.add(x);
    else if (k === 'occMax') {
      if (from.occMax !== null) into.occMax = Math.max(into.occMax ?? from.occMax, from.occMax);
    } else into[k] += from[k];
  }
}

/**
 * The site's elapsed five-minute buckets × devices, and its open hours, in [start, end) (the
 * future part of a range does not count, nor a device's time before it began: `since`, one entry a
 * device). Days cut by `now` are stepped through five minutes at a time.
 */
export function addCalendar(
  acc: Acc,
  o: {
    start: number;
    end: number;
    now: number;
    since: readonly number[];
    hours: OpeningHours;
    minuteOf: (ms: number) => number;
  },
): void {
  const end = Math.min(o.end, o.now);
  if (end <= o.start) return;
  for (const since of o.since) {
    const from = Math.max(o.start, since - (since % FIVE_MIN));
    if (from < end) acc.up5Possible += Math.ceil((end - from) / FIVE_MIN);
  }
  const span = end - o.start;
  const full = o.end <= o.now && span >= 23 * 3_600_000 && span <= 25 * 3_600_000;
  if (full) {
    acc.openH += openMinutesPerDay(o.hours, span) / 60;
    return;
  }
  let open = 0;
  for (let t = o.start; t < end; t += FIVE_MIN) if (isOpenAtMinute(o.hours, o.minuteOf(t))) open += 5;
  acc.openH += open / 60;
}

function openMinutesPerDay(h: OpeningHours, dayMs: number): number {
  if (h.open === h.close) return dayMs / 60_000;
  const o = minutesOf(h.open);
  const c = minutesOf(h.close);
  return o < c ? c - o : 24 * 60 - o + c;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

export function finalize(acc: Acc): Kpis {
  const k = acc.known;
  const v = (key: KpiKey, value: number | null) => (k.has(key) ? value : null);
  const uptime = acc.up5Possible > 0 ? Math.min(1, acc.up5 / acc.up5Possible) : null;
  return {
    occupancyHours: v('occupancyHours', round(acc.occArea)),
    peakOccupancy: v('peakOccupancy', acc.occMax ?? 0),
    doorOpenings: v('doorOpenings', acc.door),
    waterDispensedPct: v('waterDispensedPct', round(acc.fall, 1)),
    umbrellasLent: v('umbrellasLent', acc.umbL),
    umbrellasReturned: v('umbrellasReturned', acc.umbR),
    raincoatsLent: v('raincoatsLent', acc.rainL),
    raincoatsReturned: v('raincoatsReturned', acc.rainR),
    energyKwh: v('energyKwh', round(acc.powerArea / 1000, 3)),
    uptimePct: v('uptimePct', uptime === null ? null : round(uptime * 100, 1)),
    openHours: v('openHours', round(acc.openH)),
    // Open hours during which the site's devices reported, estimated from uptime over the bucket.
    usableHours: v('usableHours', uptime === null ? null : round(acc.openH * uptime)),
    sessionsHeld: v('sessionsHeld', acc.sessionsHeld),
    booked: v('booked', acc.booked),
    attended: v('attended', acc.attended),
    noShows: v('noShows', acc.noShows),
    fillRate: v('fillRate', acc.slotsOffered > 0 ? round(acc.booked / acc.slotsOffered, 4) : null),
  };
}
