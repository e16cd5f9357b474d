import { describe, expect, it } from 'vitest';
import {
  distanceM,
  type LiveDevice,
  publicStationOf,
  type Site,
  type SiteLive,
  stationAnswer,
} from '../contract/index.js';

/** Issue 16: the finder's composite "usable now" rule, one case per combination that matters. */
const TZ = 'Asia/Shanghai';
const STALE = 60_000;
// 2026-12-01 12:00 in Shanghai: inside 08:00–20:00.
const NOON = Date.UTC(2026, 11, 1, 4, 0);
const NIGHT = Date.UTC(2026, 11, 1, 14, 0); // 22:00 local

const site: Site = {
  id: 'yz-001',
  name: { zh: '一号驿站', en: 'Station 1' },
  type: 'health',
  community: { zh: '东湖' },
  address: { zh: '东湖路1号' },
  lat: 30.5,
  lng: 114.3,
  openingHours: { open: '08:00', close: '20:00' },
  seats: 4,
  createdAt: 0,
} as Site;

const dev = (
  kind: LiveDevice['kind'],
  values: LiveDevice['values'],
  over: Partial<LiveDevice> = {},
): LiveDevice => ({
  id: `yz-001-${kind}`,
  kind,
  name: { zh: kind },
  enabled: true,
  online: true,
  lastSeen: NOON,
  values,
  valuesTs: NOON,
  fault: null,
  fw: '1.0',
  rssi: -50,
  ...over,
});

function live(devices: LiveDevice[], over: Partial<SiteLive> = {}): SiteLive {
  return {
    siteId: 'yz-001',
    open: true,
    occupancy: 1,
    occupancyCounters: 1,
    seats: 4,
    doorOpen: true,
    devicesOnline: devices.length,
    devicesTotal: devices.length,
    lastUpdate: NOON - 1_000,
    health: 'ok',
    issues: [],
    devices,
    ...over,
  };
}

const fullKit = () => [
  dev('occupancy_counter', { occupancy: 1 }),
  dev('door_sensor', { open: true }),
  dev('water_dispenser', { on: true, water_level_pct: 80 }),
  dev('microwave', { on: false, power_w: 0 }),
  dev('air_conditioner', { on: true, setpoint_c: 24 }),
  dev('lending_cabinet', { umbrellas: 3, raincoats: 2 }),
];

const answer = (l: SiteLive | undefined, now = NOON, s: Site = site) => stationAnswer(s, l, now, TZ, STALE);

describe('finder composite answer', () => {
  it('everything working inside opening hours: usable, nothing missing', () => {
    const a = answer(live(fullKit()));
    expect(a.state).toBe('usable');
    expect(a.missing).toEqual([]);
    expect(a).toMatchObject({
      seatsFree: 3,
      water: 'yes',
      microwave: 'yes',
      airConditioner: 'yes',
      umbrellas: 3,
    });
  });

  it('outside opening hours: closed, whatever the devices say', () => {
    expect(answer(live(fullKit(), { lastUpdate: NIGHT - 1_000 }), NIGHT).state).toBe('closed');
    expect(answer(undefined, NIGHT).state).toBe('closed');
  });

  it('no data, stale data or every device offline: unknown', () => {
    expect(answer(undefined).state).toBe('unknown');
    expect(answer(live(fullKit(), { lastUpdate: NOON - STALE - 1 })).state).toBe('unknown');
    expect(answer(live(fullKit().map((d) => ({ ...d, online: false })))).state).toBe('unknown');
  });

  it('water empty or dispenser fault: partly, missing water', () => {
    const empty = fullKit().map((d) =>
      d.kind === 'water_dispenser' ? { ...d, values: { on: true, water_level_pct: 2 } } : d,
    );
    expect(answer(live(empty))).toMatchObject({ state: 'partly', missing: ['water'], water: 'no' });
    const fault = fullKit().map((d) =>
      d.kind === 'water_dispenser' ? { ...d, fault: { code: 'E_HEATER', message: 'heater', ts: NOON } } : d,
    );
    expect(answer(live(fault))).toMatchObject({ state: 'partly', missing: ['water'] });
  });

  it('full: people inside reach the seats', () => {
    expect(answer(live(fullKit(), { occupancy: 4 }))).toMatchObject({
      state: 'partly',
      missing: ['seats'],
      seatsFree: 0,
    });
    expect(answer(live(fullKit(), { occupancy: 9 })).seatsFree).toBe(0);
  });

  it('umbrella cabinet empty: partly, missing umbrellas and raincoats', () => {
    const empty = fullKit().map((d) =>
      d.kind === 'lending_cabinet' ? { ...d, values: { umbrellas: 0, raincoats: 0 } } : d,
    );
    expect(answer(live(empty))).toMatchObject({ state: 'partly', missing: ['umbrellas', 'raincoats'] });
  });

  it('microwave and air conditioner faults are missing; an offline one is unknown, not missing', () => {
    const broken = fullKit().map((d) =>
      d.kind === 'microwave' || d.kind === 'air_conditioner'
        ? { ...d, fault: { code: 'E_MAGNETRON', message: 'x', ts: NOON } }
        : d,
    );
    expect(answer(live(broken)).missing).toEqual(['microwave', 'air_conditioner']);
    const offline = fullKit().map((d) => (d.kind === 'microwave' ? { ...d, online: false } : d));
    expect(answer(live(offline))).toMatchObject({ state: 'usable', microwave: 'unknown' });
  });

  it('a hut without some equipment is not missing it; disabled devices do not count', () => {
    const bare = [
      dev('occupancy_counter', { occupancy: 0 }),
      dev(
        'microwave',
        { on: false, power_w: 0 },
        { enabled: false, fault: { code: 'E', message: '', ts: 0 } },
      ),
    ];
    expect(answer(live(bare))).toMatchObject({
      state: 'usable',
      water: null,
      microwave: null,
      umbrellas: null,
    });
  });

  it('screening today only where doctors screen', () => {
    expect(
      stationAnswer(site, live(fullKit()), NOON, TZ, STALE, { screeningToday: true }).screeningToday,
    ).toBe(true);
    const caring = { ...site, type: 'caring' as const };
    expect(
      stationAnswer(caring, live(fullKit()), NOON, TZ, STALE, { screeningToday: true }).screeningToday,
    ).toBe(false);
  });

  it('the public station carries no device ids, names or fault messages', () => {
    const withFault = fullKit().map((d) =>
      d.kind === 'microwave'
        ? { ...d, fault: { code: 'E_MAGNETRON', message: 'secret detail', ts: NOON } }
        : d,
    );
    const text = JSON.stringify(publicStationOf(site, live(withFault), NOON, TZ, STALE));
    expect(text).not.toContain('yz-001-');
    expect(text).not.toContain('secret detail');
    expect(text).not.toContain('E_MAGNETRON');
  });

  it('haversine distance', () => {
    expect(distanceM({ lat: 0, lng: 0 }, { lat: 0, lng: 1 })).toBeGreaterThan(111_000);
    expect(distanceM({ lat: 0, lng: 0 }, { lat: 0, lng: 1 })).toBeLessThan(111_400);
  });
});

describe('finder: cabinets', () => {
  it('a cabinet that has not reported is unknown; a jammed one lends nothing', () => {
    const silent = live([dev('lending_cabinet', {})]);
    expect(stationAnswer(site, silent, NOON, TZ, STALE)).toMatchObject({ umbrellas: null, state: 'usable' });
    const jammed = live([
      dev(
        'lending_cabinet',
        { umbrellas: 3, raincoats: 3 },
        { fault: { code: 'E_LOCK_JAM', message: '', ts: NOON } },
      ),
    ]);
    expect(stationAnswer(site, jammed, NOON, TZ, STALE)).toMatchObject({
      umbrellas: 0,
      missing: ['umbrellas', 'raincoats'],
    });
  });
});
