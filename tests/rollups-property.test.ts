import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ReadingRow } from '../contract/index.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import { bucketsBetween } from '../services/telemetry/rollup-calendar.js';

const H = 3_600_000;
const T0 = Date.parse('2026-03-27T00:00:00Z');
const SPAN = 4 * 24 * H;

const reading = fc.record({
  device: fc.constantFrom('a-occ', 'b-occ', 'c-occ'),
  offset: fc.integer({ min: 0, max: SPAN - 1 }),
  value: fc.integer({ min: 0, max: 500 }),
});

/** Readings written in batches, with rolls between some of them. */
const scenario = fc.record({
  tz: fc.constantFrom('Asia/Shanghai', 'Europe/Berlin', 'Asia/Kolkata'),
  batches: fc.array(
    fc.record({ readings: fc.array(reading, { minLength: 1, maxLength: 40 }), roll: fc.boolean() }),
    {
      minLength: 1,
      maxLength: 6,
    },
  ),
  grain: fc.constantFrom('hour' as const, 'day' as const),
});

describe('real-time rollups agree with the raw readings', () => {
  it('count, sum, min, max, mean, last and fall per local bucket and site, rolled or not', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-rollprop-'));
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ tz, batches, grain }) => {
          const store = await openDuckDbStore(path.join(dir, `t${run++}.duckdb`));
          try {
            const all: ReadingRow[] = [];
            let seq = 0;
            for (const b of batches) {
              const rows = b.readings.map(
                (r): ReadingRow => ({
                  siteId: r.device.slice(0, 1),
                  deviceId: r.device,
                  kind: 'occupancy_counter',
                  seq: seq++,
                  ts: T0 + r.offset,
                  values: { occupancy: r.value },
                }),
              );
              all.push(...rows);
              await store.write({ readings: rows, events: [] });
              if (b.roll) await store.rollups.rollOnce(tz);
            }
            const buckets = bucketsBetween(T0, T0 + SPAN, grain, tz);
            const both = await store.rollups.aggregate({
              grain,
              buckets: buckets.map((b, k) => ({ t: b.t, tEnd: b.tEnd, k })),
              metrics: ['occupancy', '_up'],
            });
            const got = both.filter((g) => g.metric === 'occupancy');
            // `_up` counts every reading of the site's devices, made up from raw or rolled.
            const up = new Map(
              both.filter((g) => g.metric === '_up').map((g) => [`${g.k}|${g.siteId}`, g.n]),
            );
            const expected = new Map<
              string,
              { n: number; sum: number; min: number; max: number; last: ReadingRow }
            >();
            for (const r of all) {
              const k = buckets.findIndex((b) => r.ts >= b.t && r.ts < b.tEnd);
              const key = `${k}|${r.siteId}`;
              const v = r.values.occupancy!;
              const e = expected.get(key);
              if (!e) expected.set(key, { n: 1, sum: v, min: v, max: v, last: r });
              else {
                e.n += 1;
                e.sum += v;
                e.min = Math.min(e.min, v);
                e.max = Math.max(e.max, v);
                if (r.ts > e.last.ts || (r.ts === e.last.ts && r.seq > e.last.seq)) e.last = r;
              }
            }
            // Fall: drops between a device's consecutive readings inside the bucket, rises not counted.
            const fall = new Map<string, number>();
            const byDevice = new Map<string, ReadingRow[]>();
            for (const r of all) {
              const k = buckets.findIndex((b) => r.ts >= b.t && r.ts < b.tEnd);
              const list = byDevice.get(`${k}|${r.siteId}|${r.deviceId}`) ?? [];
              list.push(r);
              byDevice.set(`${k}|${r.siteId}|${r.deviceId}`, list);
            }
            for (const [key, list] of byDevice) {
              list.sort((a, b) => a.ts - b.ts || a.seq - b.seq);
              let f = 0;
              for (let i = 1; i < list.length; i++) {
                f += Math.max(0, list[i - 1]!.values.occupancy! - list[i]!.values.occupancy!);
              }
              const site = key.split('|').slice(0, 2).join('|');
              fall.set(site, (fall.get(site) ?? 0) + f);
            }
            const actual = new Map(got.map((g) => [`${g.k}|${g.siteId}`, g]));
            expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
            for (const [key, e] of expected) {
              const g = actual.get(key)!;
              expect({ key, n: g.n, sum: g.sum, min: g.min, max: g.max, last: g.last }).toEqual({
                key,
                n: e.n,
                sum: e.sum,
                min: e.min,
                max: e.max,
                last: e.last.values.occupancy,
              });
              expect(g.sum! / g.n).toBeCloseTo(e.sum / e.n, 9);
              expect({ key, up: up.get(key) }).toEqual({ key, up: e.n });
              expect({ key, fall: g.fall }).toEqual({ key, fall: fall.get(key) });
            }
          } finally {
            await store.close();
          }
        }),
        { numRuns: 20 },
      );
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 240_000);
});

describe('retention', () => {
  it('purges raw readings past the cutoff, keeps their rollups, and never purges what is not rolled up', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-retention-'));
    const store = await openDuckDbStore(path.join(dir, 'telemetry.duckdb'));
    try {
      const tz = 'Asia/Shanghai';
      const old = Array.from({ length: 48 }, (_, i) => ({
        siteId: 's',
        deviceId: 's-occ',
        kind: 'occupancy_counter' as const,
        seq: i,
        ts: T0 + i * H,
        values: { occupancy: i },
      }));
      await store.write({ readings: old, events: [] });
      const day = bucketsBetween(T0, T0 + 48 * H, 'day', tz).map((b, k) => ({ t: b.t, tEnd: b.tEnd, k }));
      const before = await store.rollups.aggregate({ grain: 'day', buckets: day, metrics: ['occupancy'] });
      // Nothing rolled up yet: the purge leaves the raw rows alone.
      expect(await store.rollups.purgeBefore(T0 + 100 * H)).toBe(0);
      while ((await store.rollups.rollOnce(tz)) > 0);
      const deleted = await store.rollups.purgeBefore(T0 + 24 * H, H / 2);
      expect(deleted).toBe(24);
      const raw = await store.range({
        metric: 'occupancy',
        from: T0,
        to: T0 + 48 * H,
        bucketMs: 48 * H,
        agg: 'count',
      });
      expect(raw.reduce((n, p) => n + p.count, 0)).toBe(24);
      // The same figures from the rollups alone (area summed in another order: equal to rounding).
      const norm = (rows: typeof before) =>
        rows.map((r) => ({ ...r, area: Math.round(r.area! * 1e9) / 1e9 }));
      const after = await store.rollups.aggregate({ grain: 'day', buckets: day, metrics: ['occupancy'] });
      expect(norm(after)).toEqual(norm(before));
    } finally {
      await store.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
