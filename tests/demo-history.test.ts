import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { demoDevices, demoSites, WEARING_FOR_MS, wearingDispenserSite } from '../devices/demo-fleet.js';
import { demoHistory } from '../devices/demo-history.js';
import { backfillDemoHistory, historyWindow } from '../devices/demo-history-backfill.js';
import { provisionFleet } from '../devices/provision.js';
import { localHour } from '../devices/simulator/patterns.js';
import { ADMIN_PASSWORD, testHub } from './helpers/hub.js';

const DAY = 86_400_000;
// Ten huts: the eight communities once, and the wearing dispenser's hut (the tenth).
const sites = demoSites(10);
const wearing = wearingDispenserSite(sites)!;
const devicesOf = (to: number, of = sites) =>
  of.flatMap((s) =>
    demoDevices(s).map((d) => ({
      siteId: s.id,
      deviceId: d.id,
      kind: d.kind,
      seats: s.seats,
      openingHours: s.openingHours,
      wearingSince: d.kind === 'water_dispenser' && s.id === wearing ? to - WEARING_FOR_MS : undefined,
    })),
  );
// The hub tests write one hut's eight weeks (seven devices): every code path, and the store's write
// plus rollup marks run at ~5k rows/s on a loaded machine.
const hubSites = sites.slice(0, 1);
const deviceIds = devicesOf(0, hubSites).map((d) => d.deviceId);

describe('demo history', () => {
  const dataDir = fs.mkdtemp(path.join(os.tmpdir(), 'yz-demo-history-'));
  afterAll(async () => fs.rm(await dataDir, { recursive: true, force: true }));
  const now = Date.now();

  async function demoHub() {
    const hub = await testHub({ HUB_DATA_DIR: await dataDir });
    await provisionFleet(hub.httpUrl, { username: 'admin', password: ADMIN_PASSWORD }, hubSites, demoDevices);
    const backfill = () =>
      backfillDemoHistory(hub.telemetry, {
        dataDir: hub.config.dataDir,
        deviceIds,
        devices: ({ to }) => devicesOf(to, hubSites),
        now,
      });
    const perDay = (deviceId: string, metric: string) =>
      hub.telemetry.range({ deviceId, metric, from: now - 57 * DAY, to: now, bucketMs: DAY, agg: 'count' });
    return { hub, backfill, perDay };
  }

  it('gives a fresh demo hub eight weeks of history, once across restarts', async () => {
    const first = await demoHub();
    let written: Awaited<ReturnType<typeof first.backfill>>;
    let readingsPerDay: number[];
    try {
      written = await first.backfill();
      expect(written.outcome).toBe('written');
      expect(written.to - written.from).toBe(56 * DAY);
      // Every day of the eight weeks has readings, at the 5-minute pace, and nothing before them.
      readingsPerDay = (await first.perDay(`${sites[0]!.id}-occ`, 'occupancy')).map((p) => p.count);
      const days = readingsPerDay.filter((c) => c > 0);
      expect(days.length).toBeGreaterThanOrEqual(56);
      expect(days.length).toBeLessThanOrEqual(57);
      expect(readingsPerDay.reduce((a, b) => a + b, 0)).toBe(56 * 288);
      expect(written.readings).toBeGreaterThan(56 * 288 * deviceIds.length * 0.95);
      const opened = await first.hub.telemetry.eventCounts({
        deviceId: `${sites[0]!.id}-door`,
        type: 'door_opened',
        from: written.from,
        to: written.to,
        bucketMs: 7 * DAY,
      });
      expect(opened.reduce((a, p) => a + p.count, 0)).toBeGreaterThan(56 * 20);
      // Run again in the same process: the marker says it is done.
      expect((await first.backfill()).outcome).toBe('already-there');
    } finally {
      await first.hub.close();
    }

    const second = await demoHub();
    try {
      const again = await second.backfill();
      expect(again).toMatchObject({
        outcome: 'already-there',
        from: written.from,
        to: written.to,
        readings: 0,
      });
      expect((await second.perDay(`${sites[0]!.id}-occ`, 'occupancy')).map((p) => p.count)).toEqual(
        readingsPerDay,
      );

      // A start cut short resumes the same window, and the store keeps one copy of what it had.
      const marker = path.join(second.hub.config.dataDir, 'demo-history.json');
      const m = JSON.parse(await fs.readFile(marker, 'utf8'));
      await fs.writeFile(marker, JSON.stringify({ ...m, done: false }));
      const resumed = await second.backfill();
      expect(resumed).toMatchObject({ outcome: 'written', readings: 0, events: 0 });
      expect((await second.perDay(`${sites[0]!.id}-occ`, 'occupancy')).map((p) => p.count)).toEqual(
        readingsPerDay,
      );
    } finally {
      await second.hub.close();
    }
  }, 300_000);

  it('invents no past for a hub whose devices already report', async () => {
    const hub = await testHub();
    try {
      const [device] = devicesOf(now);
      await hub.telemetry.write({
        readings: [{ ...device!, seq: 1, ts: now - 60_000, values: { occupancy: 3 } }],
        events: [],
      });
      const result = await backfillDemoHistory(hub.telemetry, {
        dataDir: hub.config.dataDir,
        deviceIds,
        devices: ({ to }) => devicesOf(to, hubSites),
        now,
      });
      expect(result.outcome).toBe('hub-has-data');
      const counts = await hub.telemetry.range({
        deviceId: device!.deviceId,
        metric: 'occupancy',
        from: now - 57 * DAY,
        to: now,
        bucketMs: 57 * DAY,
        agg: 'count',
      });
      expect(counts.reduce((a, p) => a + p.count, 0)).toBe(1);
    } finally {
      await hub.close();
    }
  });

  it('shows what planners look for: meal peaks, closed nights, rain lending, a failing dispenser', () => {
    const { from, to } = historyWindow(Date.UTC(2026, 9, 1), 28);
    const occAt = new Map<number, number>();
    const closed: number[] = [];
    const borrowedByDay = new Map<number, number>();
    let heaterFaults = 0;
    const wornGaps = { before: 0, after: 0 };
    for (const batch of demoHistory({ devices: devicesOf(to), from, to })) {
      for (const r of batch.readings) {
        const h = Math.floor(localHour(r.ts));
        if (r.kind === 'occupancy_counter') occAt.set(h, (occAt.get(h) ?? 0) + r.values.occupancy!);
        // The health-only huts (08:00–20:00) are empty at night.
        const site = sites.find((s) => s.id === r.siteId)!;
        if (r.kind === 'occupancy_counter' && site.openingHours.open === '08:00' && h < 7)
          closed.push(r.values.occupancy!);
      }
      for (const e of batch.events) {
        if (e.type === 'item_borrowed') {
          const day = Math.floor((e.ts + 8 * 3_600_000) / DAY);
          borrowedByDay.set(day, (borrowedByDay.get(day) ?? 0) + 1);
        }
        if (e.type === 'fault' && e.code === 'E_HEATER' && e.siteId === wearing) heaterFaults++;
      }
      const wornReadings = batch.readings.filter((r) => r.siteId === wearing && r.kind === 'water_dispenser');
      const late = batch.readings[0]!.ts >= to - WEARING_FOR_MS;
      wornGaps[late ? 'after' : 'before'] += 288 - wornReadings.length;
    }
    expect(occAt.get(12)!).toBeGreaterThan(3 * occAt.get(3)!);
    expect(occAt.get(18)!).toBeGreaterThan(3 * occAt.get(3)!);
    expect(closed.length).toBeGreaterThan(0);
    expect(closed.every((v) => v === 0)).toBe(true);
    // Rain days: lending is lumpy, the busiest day far above the dry ones (the quietest quarter).
    const perDay = [...borrowedByDay.values()].sort((a, b) => a - b);
    expect(perDay.at(-1)!).toBeGreaterThan(5 * perDay[Math.floor(perDay.length / 4)]!);
    expect(heaterFaults).toBeGreaterThan(10);
    // The failing dispenser goes silent only once it has started to fail.
    expect(wornGaps.before).toBe(0);
    expect(wornGaps.after).toBeGreaterThan(0);
  });
});
