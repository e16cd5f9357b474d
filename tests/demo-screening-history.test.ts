import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addDays, type KpisReply, localParts } from '../contract/index.js';
import { demoDevices, demoSites } from '../devices/demo-fleet.js';
import { seedScreeningHistory } from '../devices/demo-screening-history.js';
import { organiser } from '../devices/demo-sessions.js';
import { provisionFleet } from '../devices/provision.js';
import { ADMIN_PASSWORD, ApiClient, testHub } from './helpers/hub.js';

const DAY = 86_400_000;
// North Gate (health), South Gate (both), East Gate (caring): doctors screen at the first two only.
const sites = demoSites(3);

describe('demo screening history', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  const planner = () => new ApiClient(hub.httpUrl);
  const now = Date.now();
  const window = { from: now - 14 * DAY, to: now };

  beforeAll(async () => {
    hub = await testHub();
    await provisionFleet(hub.httpUrl, { username: 'admin', password: ADMIN_PASSWORD }, sites, demoDevices);
  });
  afterAll(async () => hub?.close());

  it('gives planners two weeks of past sessions and bookings, without a resident in them, once', async () => {
    const admin = await organiser(hub.httpUrl, { username: 'admin', password: ADMIN_PASSWORD });
    const seed = () =>
      seedScreeningHistory(hub.appointments.repo, {
        sites,
        organiser: admin,
        timeZone: hub.appointments.timeZone,
        ...window,
        now,
      });
    const first = await seed();
    // Health: three mornings a week; both: two evenings and a Saturday. Two weeks of each.
    expect(first.sessions).toBeGreaterThanOrEqual(2 * 3 + 2 * 2);
    expect(first.bookings).toBeGreaterThan(first.sessions);
    expect(await seed()).toEqual({ sessions: 0, bookings: 0 });

    const tz = hub.appointments.timeZone;
    const today = localParts(now, tz).date;
    const api = planner();
    await api.login();
    const r = await api.json<KpisReply>(
      'GET',
      `/api/analytics/kpis?range=custom&from=${addDays(today, -14)}&to=${addDays(today, -1)}`,
    );
    expect(r.status).toBe(200);
    const [health, both, caring] = sites.map((s) => r.body.sites.find((x) => x.siteId === s.id)!.kpis);
    for (const k of [health!, both!]) {
      expect(k.sessionsHeld).toBeGreaterThan(0);
      expect(k.booked).toBeGreaterThan(0);
      expect(k.attended! + k.noShows!).toBeLessThanOrEqual(k.booked!);
      expect(k.attended).toBeGreaterThan(k.noShows!);
      expect(k.fillRate).toBeGreaterThan(0.3);
      expect(k.fillRate).toBeLessThanOrEqual(1);
    }
    expect(caring!.sessionsHeld).toBeNull();

    const sessions = await hub.appointments.repo.sessionsBetween(
      sites.map((s) => s.id),
      addDays(today, -14),
      addDays(today, -1),
    );
    expect(sessions.every((s) => s.end_at <= now)).toBe(true);
    const bookings = await hub.appointments.repo.bookingsOfSessions(sessions.map((s) => s.id));
    expect(bookings).toHaveLength(first.bookings);
    expect(bookings.every((b) => b.name === null && b.mobile === null && b.purged_at !== null)).toBe(true);
    expect(new Set(bookings.map((b) => b.code)).size).toBe(bookings.length);
  }, 120_000);
});
