import { z } from 'zod';
import { siteId } from './device/index.js';
import { type LiveDevice, localText, type Site, type SiteLive, siteType } from './domain.js';
import { isOpenAt } from './rules/opening-hours.js';
import { screeningHappensAt } from './rules/screening.js';
import { isStale } from './rules/site-status.js';

/**
 * Issue 16: "is the station usable now", for a passer-by without an account. One pure rule, used
 * by the hub's public snapshot and by the finder page when time passes between snapshots. It sees
 * the staff's SiteLive but answers only in amenities and codes: no device ids, no fault messages,
 * no residents' data.
 */

/** Below this the tank is as good as empty for a rider who wants a cup of hot water. */
export const WATER_EMPTY_PCT = 5;

/** An amenity as a passer-by sees it; `null` when the hut has no such equipment. */
export const amenityState = z.enum(['yes', 'no', 'unknown']);
export const stationState = z.enum(['usable', 'partly', 'closed', 'unknown']);
/** What keeps a station from being fully usable; the page translates these. */
export const missingCode = z.enum([
  'seats',
  'water',
  'microwave',
  'air_conditioner',
  'umbrellas',
  'raincoats',
]);

export const stationAnswerSchema = z.object({
  state: stationState,
  missing: z.array(missingCode),
  /** Free seats now (seats − people inside), or null when nobody counts. */
  seatsFree: z.number().int().nullable(),
  seats: z.number().int(),
  water: amenityState.nullable(),
  microwave: amenityState.nullable(),
  airConditioner: amenityState.nullable(),
  umbrellas: z.number().int().nullable(),
  raincoats: z.number().int().nullable(),
  /** Door reported open, or null without a door sensor. Shown, not part of the answer. */
  doorOpen: z.boolean().nullable(),
  /** Doctors screen here today (a scheduled session today). */
  screeningToday: z.boolean(),
});

/** One station on the public finder: the site's public face plus its answer. */
export const publicStation = z.object({
  id: siteId,
  name: z.object({ zh: z.string(), en: z.string() }),
  type: siteType,
  community: localText,
  address: localText,
  lat: z.number(),
  lng: z.number(),
  openingHours: z.object({ open: z.string(), close: z.string() }),
  /** Newest data time; the page re-applies staleness with its own clock. */
  lastUpdate: z.number().int().nullable(),
  /** A booking link is offered where doctors screen. */
  bookable: z.boolean(),
  answer: stationAnswerSchema,
});

export const publicStations = z.object({
  generatedAt: z.number().int(),
  staleAfterMs: z.number().int(),
  timeZone: z.string(),
  stations: z.array(publicStation),
});

export type AmenityState = z.infer<typeof amenityState>;
export type StationState = z.infer<typeof stationState>;
export type MissingCode = z.infer<typeof missingCode>;
export type StationAnswer = z.infer<typeof stationAnswerSchema>;
export type PublicStation = z.infer<typeof publicStation>;
export type PublicStations = z.infer<typeof publicStations>;

export interface StationExtras {
  /** Sessions scheduled (not cancelled) at the site today. */
  screeningToday?: boolean;
}

/** A device a visitor can rely on: enabled, reporting, no fault. Disabled ones do not count at all. */
function working(d: LiveDevice): boolean {
  return d.online && !d.fault;
}

/** yes if one works, no if all report broken (fault), unknown if some are offline and none works. */
function amenity(devices: LiveDevice[], usable: (d: LiveDevice) => boolean): AmenityState | null {
  if (devices.length === 0) return null;
  if (devices.some((d) => working(d) && usable(d))) return 'yes';
  if (devices.some((d) => !d.online)) return 'unknown';
  return 'no';
}

function countOf(devices: LiveDevice[], metric: 'umbrellas' | 'raincoats'): number | null {
  const reporting = devices.filter((d) => working(d) && typeof d.values[metric] === 'number');
  if (reporting.length > 0) return reporting.reduce((n, d) => n + (d.values[metric] as number), 0);
  // A jammed cabinet lends nothing; one that is offline or has not reported yet is unknown.
  return devices.some((d) => d.online && d.fault) ? 0 : null;
}

/**
 * The composite answer. Order matters: outside opening hours the station is closed whatever the
 * devices say; inside them, no fresh data (or every device offline) is `unknown` rather than a
 * guess; otherwise `usable` when nothing is missing, `partly` with the missing codes.
 */
export function stationAnswer(
  site: Pick<Site, 'openingHours' | 'seats' | 'type'>,
  live: SiteLive | undefined,
  now: number,
  timeZone: string,
  staleAfterMs: number,
  extras: StationExtras = {},
): StationAnswer {
  const devices = (live?.devices ?? []).filter((d) => d.enabled);
  const of = (kind: LiveDevice['kind']) => devices.filter((d) => d.kind === kind);
  const occupancy = live?.occupancy ?? null;
  const seatsFree = occupancy === null ? null : Math.max(0, site.seats - occupancy);
  const water = amenity(
    of('water_dispenser'),
    (d) => typeof d.values.water_level_pct !== 'number' || d.values.water_level_pct > WATER_EMPTY_PCT,
  );
  const microwave = amenity(of('microwave'), () => true);
  const airConditioner = amenity(of('air_conditioner'), () => true);
  const cabinets = of('lending_cabinet');
  const umbrellas = countOf(cabinets, 'umbrellas');
  const raincoats = countOf(cabinets, 'raincoats');
  const doors = of('door_sensor').filter((d) => typeof d.values.open === 'boolean');
  const doorOpen = doors.length === 0 ? null : doors.some((d) => d.values.open === true);

  const missing: MissingCode[] = [];
  if (site.seats > 0 && seatsFree === 0) missing.push('seats');
  if (water === 'no') missing.push('water');
  if (microwave === 'no') missing.push('microwave');
  if (airConditioner === 'no') missing.push('air_conditioner');
  if (umbrellas === 0) missing.push('umbrellas');
  if (raincoats === 0) missing.push('raincoats');

  const open = isOpenAt(site.openingHours, now, timeZone);
  const allOffline = devices.length > 0 && devices.every((d) => !d.online);
  const state: StationState = !open
    ? 'closed'
    : !live || allOffline || isStale(live.lastUpdate, now, staleAfterMs)
      ? 'unknown'
      : missing.length === 0
        ? 'usable'
        : 'partly';
  return {
    state,
    missing: state === 'usable' || state === 'partly' ? missing : [],
    seatsFree,
    seats: site.seats,
    water,
    microwave,
    airConditioner,
    umbrellas,
    raincoats,
    doorOpen,
    screeningToday: screeningHappensAt(site) && extras.screeningToday === true,
  };
}

/** The station as the public sees it: only these fields leave the hub. */
export function publicStationOf(
  site: Site,
  live: SiteLive | undefined,
  now: number,
  timeZone: string,
  staleAfterMs: number,
  extras: StationExtras = {},
): PublicStation {
  return {
    id: site.id,
    name: site.name,
    type: site.type,
    community: site.community,
    address: site.address,
    lat: site.lat,
    lng: site.lng,
    openingHours: site.openingHours,
    lastUpdate: live?.lastUpdate ?? null,
    bookable: screeningHappensAt(site),
    answer: stationAnswer(site, live, now, timeZone, staleAfterMs, extras),
  };
}

/** Great-circle distance in metres (haversine), for sorting stations near the visitor. */
export function distanceM(a: { lat: number; lng: number }, b: { lat: number; lng: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLng = (b.lng - a.lng) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLng / 2) ** 2;
  return 2 * 6_371_000 * Math.asin(Math.min(1, Math.sqrt(h)));
}
