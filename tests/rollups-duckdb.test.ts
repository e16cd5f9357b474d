import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReadingRow } from '../contract/index.js';
import { type DuckDbStore, openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import { bucketsBetween, type CalendarGrain } from '../services/telemetry/rollup-calendar.js';

const H = 3_600_000;
let dir: string;
let store: DuckDbStore;

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-rollups-'));
  store = await openDuckDbStore(path.join(dir, 'telemetry.duckdb'));
});
afterEach(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

let seq = 0;
const occ = (ts: number, occupancy: number, device = 's1-occ', site = 's1'): ReadingRow => ({
  siteId: site,
  deviceId: device,
  kind: 'occupancy_counter',
  seq: seq++,
  ts,
  values: { occupancy },
});

async function rollAll(tz: string) {
  while ((await store.rollups.rollOnce(tz)) > 0);
}

/** Every day of 2026 in `tz` as one query bucket. */
async function year2026(tz: string, metric = 'occupancy') {
  const days = bucketsBetween(
    Date.parse('2026-01-01T00:00:00Z'),
    Date.parse('2027-01-01T00:00:00Z'),
    'day',
    tz,
  );
  return store.rollups.aggregate({
    grain: 'day',
    buckets: days.map((b) => ({ t: b.t, tEnd: b.tEnd, k: 0 })),
    metrics: [metric],
  });
}

async function perBucket(grain: CalendarGrain, from: number, to: number, tz: string) {
  const buckets = bucketsBetween(from, to, grain, tz);
  const src = grain === 'hour' ? 'hour' : 'day';
  const rows = await store.rollups.aggregate({
    grain: src,
    buckets: buckets.map((b, k) => ({ t: b.t, tEnd: b.tEnd, k })),
    metrics: ['occupancy'],
  });
  return buckets.map((b, k) => ({ ...b, row: rows.find((r) => r.k === k) }));
}

describe('rollups in the hub zone', () => {
  it('starts a Shanghai day at local midnight (16:00 UTC), not at UTC midnight', async () => {
    const tz = 'Asia/Shanghai';
    const midnight = DateTime.fromISO('2026-05-04T00:00', { zone: tz }).toMillis();
    expect(new Date(midnight).toISOString()).toBe('2026-05-03T16:00:00.000Z');
    await store.write({
      readings: [occ(midnight - 60_000, 3), occ(midnight, 5), occ(midnight + 8 * H, 7)],
      events: [],
    });
    await rollAll(tz);
    const days = await perBucket('day', midnight - 24 * H, midnight + 24 * H, tz);
    expect(days.map((d) => [d.label, d.t - d.tEnd, d.row?.n, d.row?.sum])).toEqual([
      ['2026-05-03', -24 * H, 1, 3],
      ['2026-05-04', -24 * H, 2, 12],
    ]);
    expect(days[1]!.t).toBe(midnight);
  });

  it('gives Berlin DST days 23 and 25 hours, with every reading in its local day and hour', async () => {
    const tz = 'Europe/Berlin';
    for (const [date, hours] of [
      ['2026-03-29', 23],
      ['2026-10-25', 25],
    ] as const) {
      const start = DateTime.fromISO(`${date}T00:00`, { zone: tz }).toMillis();
      const end = DateTime.fromISO(`${date}T00:00`, { zone: tz }).plus({ days: 1 }).toMillis();
      expect(end - start).toBe(hours * H);
      // One reading every 30 minutes from an hour before to an hour after the local day.
      const readings: ReadingRow[] = [];
      for (let t = start - H; t < end + H; t += H / 2) readings.push(occ(t, 1));
      await store.write({ readings, events: [] });
      await rollAll(tz);
      const days = await perBucket('day', start, end, tz);
      expect(days).toHaveLength(1);
      expect(days[0]!.label).toBe(date);
      expect(days[0]!.row?.n).toBe(hours * 2);
      const hoursOfDay = await perBucket('hour', start, end, tz);
      expect(hoursOfDay).toHaveLength(hours);
      expect(hoursOfDay.every((h) => h.row?.n === 2)).toBe(true);
      // The repeated (autumn) or skipped (spring) local hour shows in the labels.
      const labels = hoursOfDay.map((h) => h.label.slice(11));
      if (hours === 25) expect(labels.filter((l) => l === '02')).toHaveLength(2);
      else expect(labels).not.toContain('02');
    }
  });

  it('puts a late reading into the bucket of its timestamp, before and after the roll', async () => {
    const tz = 'Asia/Shanghai';
    const day = DateTime.fromISO('2026-06-01T00:00', { zone: tz }).toMillis();
    await store.write({ readings: [occ(day + 10 * H, 4), occ(day + 34 * H, 6)], events: [] });
    await rollAll(tz);
    expect(await store.rollups.pending()).toBe(0);
    // A device's buffer arrives a day late with readings of the first day.
    await store.write({ readings: [occ(day + 11 * H, 10), occ(day + 12 * H, 1)], events: [] });
    expect(await store.rollups.pending()).toBe(2);
    const realTime = await perBucket('day', day, day + 48 * H, tz);
    expect(realTime.map((d) => [d.row?.n, d.row?.sum, d.row?.max, d.row?.last])).toEqual([
      [3, 15, 10, 1],
      [1, 6, 6, 6],
    ]);
    await rollAll(tz);
    expect(await store.rollups.pending()).toBe(0);
    expect((await perBucket('day', day, day + 48 * H, tz)).map((d) => [d.row?.n, d.row?.sum])).toEqual([
      [3, 15],
      [1, 6],
    ]);
    const hours = await perBucket('hour', day + 10 * H, day + 13 * H, tz);
    expect(hours.map((h) => h.row?.sum)).toEqual([4, 10, 1]);
  });

  it('counts a resend once, and keeps unrolled marks across a restart', async () => {
    const tz = 'Asia/Shanghai';
    const t = DateTime.fromISO('2026-07-01T09:00', { zone: tz }).toMillis();
    const batch = { readings: [occ(t, 2), occ(t + 60_000, 3)], events: [] };
    await store.write(batch);
    await store.write(batch);
    await store.close();
    store = await openDuckDbStore(path.join(dir, 'telemetry.duckdb'));
    expect(await store.rollups.pending()).toBe(1);
    await rollAll(tz);
    await store.write(batch);
    await rollAll(tz);
    const [row] = await year2026(tz);
    expect([row?.n, row?.sum]).toEqual([2, 5]);
  });

  it('derives occupancy-hours, door openings, water dispensed and items lent from readings and events', async () => {
    const tz = 'Asia/Shanghai';
    const t = DateTime.fromISO('2026-07-02T10:00', { zone: tz }).toMillis();
    const readings: ReadingRow[] = [];
    // Two people for a whole hour, one reading a minute: two occupancy-hours.
    for (let i = 0; i < 60; i++) readings.push(occ(t + i * 60_000, 2));
    // Level 80 → 70 → 60, refilled to 100, then 95: 25 points dispensed, the refill not counted.
    const levels = [80, 70, 60, 100, 95];
    for (const [i, lvl] of levels.entries()) {
      readings.push({
        siteId: 's1',
        deviceId: 's1-water',
        kind: 'water_dispenser',
        seq: seq++,
        ts: t + i * 20 * 60_000,
        values: { on: 1, water_level_pct: lvl },
      });
    }
    const ev = (type: string, item: string | null, i: number) => ({
      siteId: 's1',
      deviceId: type.startsWith('door') ? 's1-door' : 's1-cab',
      kind: (type.startsWith('door') ? 'door_sensor' : 'lending_cabinet') as 'door_sensor',
      seq: seq++,
      ts: t + i * 60_000,
      type,
      code: null,
      item,
      ok: null,
      message: null,
    });
    const borrowed = ['ev:item_borrowed:umbrella', 'ev:item_returned:umbrella', 'ev:item_borrowed:raincoat'];
    const events = [
      ev('door_opened', null, 1),
      ev('door_closed', null, 2),
      ev('door_opened', null, 3),
      ev('item_borrowed', 'umbrella', 4),
      ev('item_borrowed', 'umbrella', 5),
      ev('item_returned', 'umbrella', 6),
      ev('item_borrowed', 'raincoat', 7),
    ];
    await store.write({ readings, events });
    const figures = async (oneByOne = false) => {
      const ask = (metrics?: string[]) =>
        store.rollups.aggregate({
          grain: 'day',
          buckets: [{ t: t - 10 * H, tEnd: t + 14 * H, k: 0 }],
          metrics,
        });
      const rows = oneByOne
        ? (
            await Promise.all(
              ['occupancy', 'ev:door_opened', 'water_level_pct', '_up', ...borrowed].map((m) => ask([m])),
            )
          ).flat()
        : await ask();
      // A KPI made of no rollup metric (open hours) asks for none, and gets none.
      if (oneByOne) expect(await ask([])).toEqual([]);
      const by = (m: string) => rows.find((r) => r.metric === m);
      return {
        occupancyHours: by('occupancy')?.area,
        door: by('ev:door_opened')?.n,
        fall: by('water_level_pct')?.fall,
        lent: by('ev:item_borrowed:umbrella')?.n,
        returned: by('ev:item_returned:umbrella')?.n,
        raincoats: by('ev:item_borrowed:raincoat')?.n,
      };
    };
    const expected = { occupancyHours: 2, door: 2, fall: 25, lent: 2, returned: 1, raincoats: 1 };
    // Not rolled up yet: made up from raw, all metrics at once or each on its own (events alone,
    // a reading metric alone), as the trends page asks them. The water readings are 20 minutes
    // apart, so every drop lies between two five-minute buckets: the real-time tail counts those too.
    expect(await figures()).toEqual(expected);
    expect(await figures(true)).toEqual(expected);
    await rollAll(tz);
    expect(await figures()).toEqual(expected);
    expect(await figures(true)).toEqual(expected);
  });

  it('counts the buckets asked for only: with gaps between them, with repeated keys, rolled or not', async () => {
    const tz = 'Europe/Berlin';
    // Three local days around the autumn DST change (25 October 2026 lasts 25 hours).
    const days = bucketsBetween(
      Date.parse('2026-10-24T00:00:00+02:00'),
      Date.parse('2026-10-27T00:00:00+01:00'),
      'day',
      tz,
    );
    expect(days.map((d) => (d.tEnd - d.t) / H)).toEqual([24, 25, 24]);
    const rows = days.flatMap((d, i) =>
      Array.from({ length: i + 1 }, (_, j) => occ(d.t + j * H + 60_000, 10 * (i + 1))),
    );
    await store.write({ readings: rows, events: [] });
    const ask = () =>
      Promise.all([
        // The first and last day only, one key: the middle day is not asked for.
        store.rollups.aggregate({
          grain: 'day',
          buckets: [days[0]!, days[2]!].map((d) => ({ ...d, k: 0 })),
          metrics: ['occupancy'],
        }),
        // Every day, the first and last towards the same key.
        store.rollups.aggregate({
          grain: 'day',
          buckets: days.map((d, i) => ({ ...d, k: i % 2 })),
          metrics: ['occupancy'],
        }),
      ]);
    const expected = () => [
      [{ k: 0, n: 4, sum: 10 + 90, min: 10, max: 30, last: 30 }],
      [
        { k: 0, n: 4, sum: 100, min: 10, max: 30, last: 30 },
        { k: 1, n: 2, sum: 40, min: 20, max: 20, last: 20 },
      ],
    ];
    const pick = (
      r: {
        k: number;
        n: number;
        sum: number | null;
        min: number | null;
        max: number | null;
        last: number | null;
      }[],
    ) => r.map(({ k, n, sum, min, max, last }) => ({ k, n, sum, min, max, last }));
    const before = await ask();
    expect(before.map(pick)).toEqual(expected());
    await rollAll(tz);
    expect((await ask()).map(pick)).toEqual(expected());
  });

  it('rolls a backlog in rolls of at most 20,000 marks within a day, and a late reading in a roll of its own', async () => {
    const tz = 'Asia/Shanghai';
    const t0 = Date.parse('2026-05-01T00:00:00+08:00');
    // 100 devices × a day of five-minute readings: 28,800 marks.
    const rows: ReadingRow[] = [];
    for (let d = 0; d < 100; d++)
      for (let b = 0; b < 288; b++) rows.push(occ(t0 + b * 300_000 + d, 1, `d${d}-occ`, `s${d % 4}`));
    const late = occ(t0 - 3 * 24 * H, 5, 'd0-occ', 's0');
    await store.write({ readings: [...rows, late], events: [] });
    // The late reading is three days older than the rest: rolled alone.
    expect(await store.rollups.rollOnce(tz)).toBe(1);
    const sizes: number[] = [];
    for (let n = await store.rollups.rollOnce(tz); n > 0; n = await store.rollups.rollOnce(tz)) sizes.push(n);
    // The first 200 buckets' marks of every device, then the rest.
    expect(sizes).toEqual([20_000, 8_800]);
    const days = bucketsBetween(t0 - 4 * 24 * H, t0 + 4 * 24 * H, 'day', tz);
    const got = await store.rollups.aggregate({
      grain: 'day',
      buckets: days.map((b) => ({ t: b.t, tEnd: b.tEnd, k: 0 })),
      metrics: ['occupancy'],
      by: 'k',
    });
    expect(got.map((r) => [r.n, r.sum])).toEqual([[rows.length + 1, rows.length + 5]]);
  });

  it('leaves a bucket still filling for a later roll, and answers queries over it from raw meanwhile', async () => {
    const tz = 'Asia/Shanghai';
    const t0 = Date.parse('2026-05-01T10:00:00+08:00');
    await store.write({ readings: [occ(t0 + 1000, 3), occ(t0 + 300_000 + 1000, 4)], events: [] });
    // At t0 + 6 min the first bucket has closed, the second (t0 + 5 min ..) has not.
    expect(await store.rollups.rollOnce(tz, t0 + 360_000)).toBe(1);
    expect(await store.rollups.rollOnce(tz, t0 + 360_000)).toBe(0);
    expect(await store.rollups.pending()).toBe(1);
    const hour = [{ t: t0, tEnd: t0 + H, k: 0 }];
    const ask = () => store.rollups.aggregate({ grain: 'hour', buckets: hour, metrics: ['occupancy'] });
    expect((await ask())[0]).toMatchObject({ n: 2, sum: 7 });
    expect(await store.rollups.rollOnce(tz, t0 + 600_000)).toBe(1);
    expect(await store.rollups.pending()).toBe(0);
    expect((await ask())[0]).toMatchObject({ n: 2, sum: 7 });
  });

  it('rolls a dense bucket a few devices at a time when asked for fewer marks, with the same totals', async () => {
    const tz = 'Asia/Shanghai';
    const t0 = Date.parse('2026-05-01T10:00:00+08:00');
    const rows = ['a', 'b', 'c'].flatMap((d, i) => [
      occ(t0 + i, 1 + i, `${d}-occ`),
      occ(t0 + 60_000 + i, 2, `${d}-occ`),
    ]);
    await store.write({ readings: rows, events: [] });
    const hour = [{ t: t0, tEnd: t0 + H, k: 0 }];
    // Sums may differ in the last bit with the order of addition (rolled in parts or from raw).
    const ask = async () =>
      Object.fromEntries(
        Object.entries(
          (await store.rollups.aggregate({ grain: 'hour', buckets: hour, metrics: ['occupancy'] }))[0]!,
        ).map(([k, v]) => [k, typeof v === 'number' ? Math.round(v * 1e9) / 1e9 : v]),
      );
    const raw = await ask();
    expect(await store.rollups.rollOnce(tz, Number.MAX_SAFE_INTEGER, 2)).toBe(2);
    expect(await store.rollups.pending()).toBe(1);
    expect(await ask()).toEqual(raw);
    expect(await store.rollups.rollOnce(tz, Number.MAX_SAFE_INTEGER, 2)).toBe(1);
    expect(await store.rollups.pending()).toBe(0);
    expect(await ask()).toEqual(raw);
    expect(raw).toMatchObject({ n: 6, sum: 12 });
  });
});
