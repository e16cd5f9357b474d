import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeviceKind, EventRow, ReadingRow } from '../contract/index.js';
import type { TelemetryStore } from '../services/telemetry/store.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** One device reading the way ingest makes it, booleans as 0/1. */
function reading(
  siteId: string,
  deviceId: string,
  kind: DeviceKind,
  seq: number,
  ts: number,
  values: Record<string, number | boolean>,
): ReadingRow {
  const stored = Object.fromEntries(
    Object.entries(values).map(([m, v]) => [m, typeof v === 'boolean' ? Number(v) : v]),
  );
  return { siteId, deviceId, kind, seq, ts, values: stored };
}

function event(
  siteId: string,
  deviceId: string,
  kind: DeviceKind,
  seq: number,
  ts: number,
  type: string,
  extra: Partial<Pick<EventRow, 'code' | 'item' | 'ok' | 'message'>> = {},
): EventRow {
  return { siteId, deviceId, kind, seq, ts, type, code: null, item: null, ok: null, message: null, ...extra };
}

/**
 * The behaviour every TelemetryStore must have. `open` must give an empty store the first time and,
 * when called again after close(), a store over the same data: the suite closes and reopens it to
 * check that writes survive. Each test uses its own sites, devices and time window, so the tests
 * share one store without seeing each other's rows. `cleanup` runs once at the end.
 */
export function telemetryStoreContract(
  name: string,
  open: () => Promise<TelemetryStore>,
  cleanup?: () => Promise<void>,
  opts: { skip?: string } = {},
) {
  describe.skipIf(opts.skip !== undefined)(`TelemetryStore contract: ${name}`, () => {
    let store: TelemetryStore;
    /** First-copy-wins across batches, and exact counts of new rows: optional (store.ts). */
    const countsNew = () => store.capabilities?.countsNew !== false;
    /** Asserts the counts only where the store reports them; writes either way. */
    const writeExpecting = async (batch: Parameters<TelemetryStore['write']>[0], counts: object) => {
      const result = await store.write(batch);
      if (countsNew()) expect(result).toMatchObject(counts);
      return result;
    };

    beforeAll(async () => {
      store = await open();
    });
    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    it('is healthy and takes an empty batch', async () => {
      await expect(store.check()).resolves.toBeUndefined();
      await expect(store.write({ readings: [], events: [] })).resolves.toMatchObject({
        readings: 0,
        events: 0,
      });
    });

    describe('range', () => {
      const site = 'fanghuali-n1';
      const dev = 'fanghuali-n1-env';
      const t0 = Date.UTC(2025, 6, 1, 8, 0, 0);
      const q = 15 * MIN;
      const base = { siteId: site, metric: 'temperature_c', from: t0, to: t0 + 3 * q, bucketMs: q } as const;

      beforeAll(async () => {
        // Written out of time order so 'last' cannot be mistaken for "inserted last" or "highest".
        const rows = [
          reading(site, dev, 'environment_sensor', 103, t0 + q - 1, {
            temperature_c: 22.0,
            humidity_pct: 60,
          }),
          reading(site, dev, 'environment_sensor', 101, t0 + 1 * MIN, {
            temperature_c: 21.5,
            humidity_pct: 61,
          }),
          reading(site, dev, 'environment_sensor', 102, t0 + 7 * MIN, {
            temperature_c: 23.0,
            humidity_pct: 62,
          }),
          // Second bucket left empty on purpose.
          reading(site, dev, 'environment_sensor', 105, t0 + 2 * q + 10 * MIN, { temperature_c: 24.5 }),
          reading(site, dev, 'environment_sensor', 104, t0 + 2 * q, { temperature_c: 25.5 }),
          // Outside [from, to): one millisecond early and exactly at `to`.
          reading(site, dev, 'environment_sensor', 100, t0 - 1, { temperature_c: -10 }),
          reading(site, dev, 'environment_sensor', 106, t0 + 3 * q, { temperature_c: 60 }),
        ];
        await expect(store.write({ readings: rows, events: [] })).resolves.toMatchObject({
          readings: 7,
          events: 0,
        });
      });

      it.each([
        ['avg', [(21.5 + 23 + 22) / 3, null, 25]],
        ['min', [21.5, null, 24.5]],
        ['max', [23, null, 25.5]],
        ['sum', [66.5, null, 50]],
        ['count', [3, null, 2]],
        ['last', [22, null, 24.5]],
      ] as const)('aggregates %s per bucket with empty buckets as null/0', async (agg, values) => {
        const points = await store.range({ ...base, agg });
        expect(points.map((p) => p.t)).toEqual([t0, t0 + q, t0 + 2 * q]);
        expect(points.map((p) => p.count)).toEqual([3, 0, 2]);
        points.forEach((p, i) => {
          const want = values[i];
          if (want === null || want === undefined) expect(p.value).toBeNull();
          else expect(p.value).toBeCloseTo(want, 9);
        });
      });

      it('aligns buckets to the epoch, not to `from`, and counts only [from, to)', async () => {
        const points = await store.range({
          ...base,
          from: t0 + 5 * MIN,
          to: t0 + 2 * q + 10 * MIN,
          agg: 'avg',
        });
        expect(points).toEqual([
          { t: t0, value: 22.5, count: 2 },
          { t: t0 + q, value: null, count: 0 },
          { t: t0 + 2 * q, value: 25.5, count: 1 },
        ]);

        // 7 minutes does not divide an hour, so epoch alignment and `from` alignment differ here.
        const seven = 7 * MIN;
        const first = Math.floor(t0 / seven) * seven;
        expect(first).not.toBe(t0);
        const odd = await store.range({ ...base, bucketMs: seven, agg: 'count' });
        expect(odd.map((p) => p.t)).toEqual(
          Array.from({ length: Math.ceil((t0 + 3 * q - first) / seven) }, (_, i) => first + i * seven),
        );
        expect(odd.reduce((n, p) => n + p.count, 0)).toBe(5);
        expect(odd[0]).toEqual({ t: first, value: 1, count: 1 });
      });

      it('keeps metrics apart', async () => {
        const points = await store.range({ ...base, metric: 'humidity_pct', agg: 'avg' });
        expect(points).toEqual([
          { t: t0, value: 61, count: 3 },
          { t: t0 + q, value: null, count: 0 },
          { t: t0 + 2 * q, value: null, count: 0 },
        ]);
      });

      it('returns nothing for an empty interval and refuses more than 10,000 buckets', async () => {
        await expect(store.range({ ...base, to: t0, agg: 'avg' })).resolves.toEqual([]);
        const max = await store.range({ ...base, to: t0 + 10_000 * 1000, bucketMs: 1000, agg: 'count' });
        expect(max).toHaveLength(10_000);
        await expect(
          store.range({ ...base, to: t0 + 10_001 * 1000, bucketMs: 1000, agg: 'count' }),
        ).rejects.toMatchObject({ code: 'RANGE_TOO_LARGE' });
      });
    });

    it('filters range by siteId and deviceId', async () => {
      const t = Date.UTC(2025, 6, 2, 9, 0, 0);
      const rows = [
        reading('xiangmi-e3', 'xiangmi-e3-occ-front', 'occupancy_counter', 1, t + MIN, { occupancy: 4 }),
        reading('xiangmi-e3', 'xiangmi-e3-occ-back', 'occupancy_counter', 1, t + 2 * MIN, { occupancy: 6 }),
        reading('lianhua-w4', 'lianhua-w4-occ', 'occupancy_counter', 1, t + 3 * MIN, { occupancy: 7 }),
        reading('lianhua-w4', 'lianhua-w4-env', 'environment_sensor', 1, t + 3 * MIN, { temperature_c: 30 }),
      ];
      await store.write({ readings: rows, events: [] });
      const spec = { metric: 'occupancy', from: t, to: t + HOUR, bucketMs: HOUR, agg: 'sum' } as const;
      const one = async (filter: { siteId?: string; deviceId?: string }) => {
        const [p, ...rest] = await store.range({ ...spec, ...filter });
        expect(rest).toEqual([]);
        return p;
      };
      expect(await one({})).toEqual({ t, value: 17, count: 3 });
      expect(await one({ siteId: 'xiangmi-e3' })).toEqual({ t, value: 10, count: 2 });
      expect(await one({ siteId: 'lianhua-w4' })).toEqual({ t, value: 7, count: 1 });
      expect(await one({ deviceId: 'xiangmi-e3-occ-back' })).toEqual({ t, value: 6, count: 1 });
      expect(await one({ siteId: 'xiangmi-e3', deviceId: 'xiangmi-e3-occ-front' })).toEqual({
        t,
        value: 4,
        count: 1,
      });
      expect(await one({ siteId: 'lianhua-w4', deviceId: 'xiangmi-e3-occ-front' })).toEqual({
        t,
        value: null,
        count: 0,
      });
    });

    it('stores a resent (device, seq) once, within a batch and across batches', async () => {
      const site = 'jinqiao-s2';
      const dev = 'jinqiao-s2-occ';
      const t = Date.UTC(2025, 6, 3, 10, 0, 0);
      const readings = [1, 2, 3, 4, 5].map((seq) =>
        reading(site, dev, 'occupancy_counter', seq, t + seq * MIN, { occupancy: seq * 2 }),
      );
      const events = [event(site, dev, 'occupancy_counter', 6, t + 6 * MIN, 'reboot')];
      // A flaky link repeats messages inside one batch too.
      const first = { readings: [...readings, readings[2]!, readings[2]!], events: [...events, events[0]!] };
      await expect(store.write(first)).resolves.toMatchObject({ readings: 5, events: 1 });
      await writeExpecting({ readings, events }, { readings: 0, events: 0 });
      // Part old, part new: only the new one counts.
      const next = reading(site, dev, 'occupancy_counter', 7, t + 7 * MIN, { occupancy: 1 });
      await writeExpecting({ readings: [readings[0]!, next], events: [] }, { readings: 1, events: 0 });
      const [p] = await store.range({
        deviceId: dev,
        metric: 'occupancy',
        from: t,
        to: t + HOUR,
        bucketMs: HOUR,
        agg: 'sum',
      });
      expect(p).toEqual({ t, value: 2 + 4 + 6 + 8 + 10 + 1, count: 6 });
      const evs = await store.events({ deviceId: dev, from: t, to: t + HOUR, limit: 10 });
      expect(evs).toEqual(events);
      // What was new is handed back whole, so the rest of the hub hears of stored readings only.
      const again = await store.write({
        readings: [readings[1]!, { ...next, seq: 8, ts: t + 2 * HOUR, values: { occupancy: 3 } }],
        events: [events[0]!, event(site, dev, 'occupancy_counter', 9, t + 2 * HOUR, 'fault', { code: 'E1' })],
      });
      if (countsNew()) {
        expect(again.fresh.readings.map((r) => [r.seq, r.values])).toEqual([[8, { occupancy: 3 }]]);
        expect(again.fresh.events.map((e) => [e.seq, e.type])).toEqual([[9, 'fault']]);
      }
    });

    it('latest() gives the newest value per metric even when older data arrives later', async () => {
      const site = 'fanghuali-n1';
      const ac = 'fanghuali-n1-ac';
      const water = 'fanghuali-n1-water';
      const t = Date.UTC(2025, 6, 4, 14, 0, 0);
      await store.write({
        readings: [
          reading(site, ac, 'air_conditioner', 20, t + 10 * MIN, { on: false, setpoint_c: 24 }),
          reading(site, water, 'water_dispenser', 5, t, { on: true, water_level_pct: 250 / 3 }),
        ],
        events: [],
      });
      // Delivered late from the device's buffer: older timestamp, and it is the only one with power_w.
      // Its values are the larger ones, so picking by value instead of by time would show.
      await store.write({
        readings: [
          reading(site, ac, 'air_conditioner', 19, t + 9 * MIN, {
            on: true,
            power_w: 900,
            setpoint_c: 26,
          }),
        ],
        events: [],
      });

      const byKey = (rows: Awaited<ReturnType<TelemetryStore['latest']>>) =>
        [...rows].sort((a, b) => `${a.deviceId}/${a.metric}`.localeCompare(`${b.deviceId}/${b.metric}`));
      expect(byKey(await store.latest([ac]))).toEqual([
        { deviceId: ac, metric: 'on', ts: t + 10 * MIN, value: 0 },
        { deviceId: ac, metric: 'power_w', ts: t + 9 * MIN, value: 900 },
        { deviceId: ac, metric: 'setpoint_c', ts: t + 10 * MIN, value: 24 },
      ]);
      expect(byKey(await store.latest([ac, water])).map((x) => `${x.deviceId}/${x.metric}`)).toEqual([
        `${ac}/on`,
        `${ac}/power_w`,
        `${ac}/setpoint_c`,
        `${water}/on`,
        `${water}/water_level_pct`,
      ]);
      const all = await store.latest();
      // Values come back bit for bit, not rounded on the way in or out.
      expect(all).toContainEqual({ deviceId: water, metric: 'water_level_pct', ts: t, value: 250 / 3 });
      expect(all).toContainEqual({ deviceId: ac, metric: 'setpoint_c', ts: t + 10 * MIN, value: 24 });
      expect(all.filter((x) => x.deviceId === ac)).toHaveLength(3);
      await expect(store.latest([])).resolves.toEqual([]);
      await expect(store.latest(['nobody-here-occ'])).resolves.toEqual([]);
    });

    it('events(): newest first, filtered by site, device, type and [from, to), deduplicated', async () => {
      const t = Date.UTC(2025, 6, 5, 18, 0, 0);
      const n1 = 'fanghuali-n1';
      const cab = 'fanghuali-n1-cab';
      const door = 'fanghuali-n1-door';
      const ac = 'fanghuali-n1-ac';
      const e = {
        borrowed: event(n1, cab, 'lending_cabinet', 1, t, 'item_borrowed', { item: 'umbrella' }),
        opened: event(n1, door, 'door_sensor', 1, t + 2 * MIN, 'door_opened'),
        reboot: event('jinqiao-s2', 'jinqiao-s2-occ', 'occupancy_counter', 40, t + 2.5 * MIN, 'reboot'),
        returned: event(n1, cab, 'lending_cabinet', 2, t + 3 * MIN, 'item_returned', { item: 'raincoat' }),
        closed: event(n1, door, 'door_sensor', 2, t + 4 * MIN, 'door_closed'),
        fault: event(n1, cab, 'lending_cabinet', 3, t + 5 * MIN, 'fault', {
          code: 'E42',
          message: '锁舌卡住 "lock jammed" \\ bay 3',
        }),
        // The largest seq the device contract allows.
        cmd: event(n1, ac, 'air_conditioner', Number.MAX_SAFE_INTEGER, t + 6 * MIN, 'cmd_result', {
          code: 'cmd-7',
          ok: false,
        }),
        atTo: event(n1, door, 'door_sensor', 3, t + 10 * MIN, 'door_opened'),
      };
      const batch = [e.opened, e.fault, e.borrowed, e.cmd, e.closed, e.opened, e.reboot, e.returned, e.atTo];
      await expect(store.write({ readings: [], events: batch })).resolves.toMatchObject({
        readings: 0,
        events: 8,
      });
      await writeExpecting({ readings: [], events: [e.fault, e.borrowed] }, { readings: 0, events: 0 });

      const window = { from: t, to: t + 10 * MIN, limit: 100 };
      expect(await store.events(window)).toEqual([
        e.cmd,
        e.fault,
        e.closed,
        e.returned,
        e.reboot,
        e.opened,
        e.borrowed,
      ]);
      expect(await store.events({ ...window, siteId: n1 })).toEqual([
        e.cmd,
        e.fault,
        e.closed,
        e.returned,
        e.opened,
        e.borrowed,
      ]);
      expect(await store.events({ ...window, deviceId: door })).toEqual([e.closed, e.opened]);
      expect(await store.events({ ...window, type: 'fault' })).toEqual([e.fault]);
      expect(await store.events({ ...window, siteId: 'jinqiao-s2', type: 'fault' })).toEqual([]);
      expect(await store.events({ ...window, limit: 2 })).toEqual([e.cmd, e.fault]);
      expect(await store.events({ ...window, from: t + 2 * MIN, to: t + 4 * MIN })).toEqual([
        e.returned,
        e.reboot,
        e.opened,
      ]);
      expect(await store.events({ ...window, deviceId: door, to: t + 11 * MIN })).toEqual([
        e.atTo,
        e.closed,
        e.opened,
      ]);
    });

    it('eventCounts(): one type per aligned bucket, zero-filled, filtered by site and device', async () => {
      const t = Date.UTC(2025, 6, 8, 6, 0, 0);
      const a = 'xiangshuwan-e1';
      const doorA = 'xiangshuwan-e1-door';
      const doorA2 = 'xiangshuwan-e1-door2';
      const doorB = 'dianliu-w1-door';
      const opened = (site: string, dev: string, seq: number, ts: number) =>
        event(site, dev, 'door_sensor', seq, ts, 'door_opened');
      await store.write({
        readings: [],
        events: [
          opened(a, doorA, 1, t + 5 * MIN),
          event(a, doorA, 'door_sensor', 2, t + 6 * MIN, 'door_closed'),
          opened(a, doorA, 3, t + 59 * MIN),
          // Hour 2 left empty; hour 3 has one from each door of site A.
          opened(a, doorA, 4, t + 2 * HOUR),
          opened(a, doorA2, 1, t + 2 * HOUR + 30 * MIN),
          opened('dianliu-w1', doorB, 1, t + 10 * MIN),
          // Outside [from, to): one millisecond early and exactly at `to`.
          opened(a, doorA, 5, t - 1),
          opened(a, doorA, 6, t + 3 * HOUR),
          // Resent: kept once.
          opened(a, doorA, 1, t + 5 * MIN),
        ],
      });
      const spec = { type: 'door_opened', from: t, to: t + 3 * HOUR, bucketMs: HOUR };
      const counts = (points: { t: number; value: number | null; count: number }[]) =>
        points.map((p) => [p.t - t, p.value, p.count]);
      expect(counts(await store.eventCounts({ ...spec, siteId: a }))).toEqual([
        [0, 2, 2],
        [HOUR, 0, 0],
        [2 * HOUR, 2, 2],
      ]);
      expect(counts(await store.eventCounts({ ...spec, deviceId: doorA2 }))).toEqual([
        [0, 0, 0],
        [HOUR, 0, 0],
        [2 * HOUR, 1, 1],
      ]);
      expect((await store.eventCounts(spec)).map((p) => p.count)).toEqual([3, 0, 2]);
      expect((await store.eventCounts({ ...spec, type: 'door_closed' })).map((p) => p.count)).toEqual([
        1, 0, 0,
      ]);
      // Buckets are aligned to multiples of bucketMs, not to `from`.
      const shifted = await store.eventCounts({ ...spec, siteId: a, from: t + 30 * MIN, to: t + HOUR });
      expect(counts(shifted)).toEqual([[0, 1, 1]]);
      await expect(store.eventCounts({ ...spec, to: t })).resolves.toEqual([]);
    });

    it('writes a 20,000-reading batch', { timeout: 60_000 }, async () => {
      const site = 'shennan-c5';
      const t = Date.UTC(2025, 6, 6, 0, 0, 0);
      const devices = Array.from(
        { length: 50 },
        (_, i) => `shennan-c5-env-${String(i + 1).padStart(2, '0')}`,
      );
      // 50 devices x 400 minutes: huts that were offline catching up in one go.
      const rows = devices.flatMap((dev, d) =>
        Array.from({ length: 400 }, (_, m) =>
          reading(site, dev, 'environment_sensor', m + 1, t + m * MIN, {
            temperature_c: 20 + (d % 10),
            humidity_pct: 50 + (m % 7),
          }),
        ),
      );
      expect(rows).toHaveLength(20_000);
      await expect(store.write({ readings: rows, events: [] })).resolves.toMatchObject({
        readings: 20_000,
        events: 0,
      });
      await writeExpecting({ readings: rows, events: [] }, { readings: 0, events: 0 });

      const points = await store.range({
        siteId: site,
        metric: 'temperature_c',
        from: t,
        to: t + 7 * HOUR,
        bucketMs: HOUR,
        agg: 'avg',
      });
      expect(points.map((p) => p.count)).toEqual([...Array(6).fill(50 * 60), 50 * 40]);
      for (const p of points) expect(p.value).toBeCloseTo(24.5, 9);
      const latest = await store.latest([devices[49]!]);
      expect(latest).toContainEqual({
        deviceId: devices[49],
        metric: 'humidity_pct',
        ts: t + 399 * MIN,
        value: 50 + (399 % 7),
      });
    });

    it('tells which rows are stored: seq runs per device, and unstored() for a batch', async () => {
      // Optional: a store without countsNew keeps no (device, seq) index (store.ts).
      if (!countsNew()) return;
      const site = 'shekou-e1';
      const dev = 'shekou-e1-occ';
      const t = Date.UTC(2025, 6, 8, 9, 0, 0);
      const rs = [1, 2, 3, 7, 8].map((seq) =>
        reading(site, dev, 'occupancy_counter', seq, t + seq * MIN, { occupancy: seq }),
      );
      await store.write({ readings: rs, events: [event(site, dev, 'occupancy_counter', 5, t, 'reboot')] });
      const runs = await store.seqRuns();
      expect(runs.readings.filter(([d]) => d === dev).sort((a, b) => a[1] - b[1])).toEqual([
        [dev, 1, 3],
        [dev, 7, 8],
      ]);
      expect(runs.events.filter(([d]) => d === dev)).toEqual([[dev, 5, 5]]);
      const ask = {
        readings: [rs[1]!, reading(site, dev, 'occupancy_counter', 4, t, { occupancy: 4 })],
        events: [
          event(site, dev, 'occupancy_counter', 5, t, 'reboot'),
          event(site, dev, 'occupancy_counter', 6, t, 'reboot'),
        ],
      };
      const left = await store.unstored(ask);
      expect(left.readings.map((r) => r.seq)).toEqual([4]);
      expect(left.events.map((e) => e.seq)).toEqual([6]);
    });

    it('keeps data across close() and reopen', async () => {
      const site = 'baoan-n6';
      const dev = 'baoan-n6-mw';
      const t = Date.UTC(2025, 6, 7, 12, 0, 0);
      const readings = [
        reading(site, dev, 'microwave', 1, t, { on: true, power_w: 1150 }),
        reading(site, dev, 'microwave', 2, t + MIN, { on: false, power_w: 0 }),
      ];
      const events = [event(site, dev, 'microwave', 3, t + 2 * MIN, 'fault', { code: 'MAG-OVERHEAT' })];
      await store.write({ readings, events });
      await store.close();
      await store.close();

      store = await open();
      await expect(store.check()).resolves.toBeUndefined();
      expect(await store.latest([dev])).toEqual(
        expect.arrayContaining([
          { deviceId: dev, metric: 'on', ts: t + MIN, value: 0 },
          { deviceId: dev, metric: 'power_w', ts: t + MIN, value: 0 },
        ]),
      );
      const [p] = await store.range({
        deviceId: dev,
        metric: 'power_w',
        from: t,
        to: t + HOUR,
        bucketMs: HOUR,
        agg: 'max',
      });
      expect(p).toEqual({ t, value: 1150, count: 2 });
      expect(await store.events({ siteId: site, from: t, to: t + HOUR, limit: 10 })).toEqual(events);
      // What was stored before the reopen still counts as already stored.
      await writeExpecting({ readings, events }, { readings: 0, events: 0 });
    });
  });
}
