import fs from 'node:fs/promises';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { screeningHappensAt } from '../contract/index.js';
import { demoSites } from '../devices/demo-fleet.js';
import { movedPortsNote, portOr0 } from '../devices/demo-ports.js';
import { demoSessionPlan, organiser, seedDemoSessions } from '../devices/demo-sessions.js';
import { provisionFleet } from '../devices/provision.js';
import { publicJson, TestClock } from './helpers/appointments.js';
import { ADMIN_PASSWORD, testHub } from './helpers/hub.js';

const sites = demoSites(24);
const screeningSites = sites.filter(screeningHappensAt).map((s) => s.id);

describe('demo', () => {
  const dataDir = fs.mkdtemp(path.join(os.tmpdir(), 'yz-demo-'));
  afterAll(async () => fs.rm(await dataDir, { recursive: true, force: true }));

  it('has caring stations as well as health stations, so the screening rule is exercised', () => {
    expect(screeningSites.length).toBeGreaterThan(0);
    expect(screeningSites.length).toBeLessThan(sites.length);
  });

  it('plans sessions at health stations only, within their opening hours, none on Sunday', () => {
    // 2031-03-03 is a Monday.
    const plan = demoSessionPlan(sites, '2031-03-03');
    const byId = new Map(sites.map((s) => [s.id, s]));
    expect(new Set(plan.map((p) => p.siteId))).toEqual(new Set(screeningSites));
    for (const { siteId, input } of plan) {
      const { open, close } = byId.get(siteId)!.openingHours;
      expect(input.start >= open && input.end <= close, `${siteId} ${input.start}-${input.end}`).toBe(true);
      expect(input.date).not.toBe('2031-03-09');
    }
    expect(demoSessionPlan(sites, '2031-03-03')).toEqual(plan);
  });

  /** Starts a hub on the demo's data directory at `clock`, as `npm run demo` does. */
  async function demoHub(clock: TestClock) {
    const hub = await testHub({ HUB_DATA_DIR: await dataDir }, { now: clock.now });
    await provisionFleet(hub.httpUrl, { username: 'admin', password: ADMIN_PASSWORD }, sites, () => []);
    const admin = await organiser(hub.httpUrl, { username: 'admin', password: ADMIN_PASSWORD });
    const seed = () => seedDemoSessions(hub.appointments, sites, admin);
    const all = () => hub.appointments.repo.sessionsBetween(undefined, '2031-01-01', '2031-12-31');
    return { hub, seed, all };
  }

  it('seeds a week that residents can book at every health station, once across restarts', async () => {
    const clock = new TestClock(0);
    clock.set('2031-03-03', '10:00');
    const first = await demoHub(clock);
    try {
      const seeded = await first.seed();
      // Monday's morning sessions (08:30) have started: they are not created in the past.
      const sessions = await first.all();
      expect(seeded.created).toBe(sessions.length);
      expect(sessions.every((s) => s.start_at > clock.t)).toBe(true);
      expect(new Set(sessions.map((s) => s.site_id))).toEqual(new Set(screeningSites));

      const listed = await publicJson<{ sites: { id: string; upcomingDays: string[] }[] }>(
        first.hub.httpUrl,
        'GET',
        '/api/public/sites',
      );
      expect(listed.body.sites.map((s) => s.id).sort()).toEqual([...screeningSites].sort());
      for (const s of listed.body.sites) expect(s.upcomingDays.length, s.id).toBeGreaterThan(0);

      expect((await first.seed()).created).toBe(0);
      expect(await first.all()).toHaveLength(sessions.length);
    } finally {
      await first.hub.close();
    }

    // The next day on the same data: only the day that came into the week is added.
    clock.set('2031-03-04', '07:00');
    const second = await demoHub(clock);
    try {
      const before = (await second.all()).length;
      const seeded = await second.seed();
      const after = await second.all();
      expect(after).toHaveLength(before + seeded.created);
      expect(new Set(after.slice(before).map((s) => s.local_date))).toEqual(new Set(['2031-03-10']));
      const keys = after.map((s) => `${s.site_id} ${s.local_date}`);
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      await second.hub.close();
    }
  });

  it('says which of its usual ports were busy', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const taken = (busy.address() as AddressInfo).port;
    try {
      expect(await portOr0(taken, '127.0.0.1')).toBe(0);
    } finally {
      await new Promise((r) => busy.close(r));
    }
    expect(await portOr0(taken, '127.0.0.1')).toBe(taken);

    expect(
      movedPortsNote([
        { name: 'HTTP', wanted: 8080, got: 8080 },
        { name: 'MQTT', wanted: 1883, got: 40123 },
      ]),
    ).toBe('Port 1883 (MQTT) was busy, so 40123 was picked.');
    expect(
      movedPortsNote([
        { name: 'HTTP', wanted: 8080, got: 40001 },
        { name: 'MQTT', wanted: 1883, got: 40002 },
      ]),
    ).toBe('Ports 8080 (HTTP) and 1883 (MQTT) were busy, so 40001 and 40002 were picked.');
    expect(movedPortsNote([{ name: 'HTTP', wanted: 8080, got: 8080 }])).toBe('');
  });
});
