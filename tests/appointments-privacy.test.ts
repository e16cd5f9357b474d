import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiError,
  AppointmentsDay,
  AuditEntry,
  MaskedBooking,
  OpenedBooking,
  ResidentBooking,
  SessionSummary,
  StatsReply,
  TodayReply,
} from '../contract/index.js';
import { at, createSession, publicJson, TestClock } from './helpers/appointments.js';
import { ApiClient, eventually, liveClient, siteFixture, testHub } from './helpers/hub.js';
import { postgresHeapFiles } from './helpers/state-backends.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

const DAY = '2031-03-03';
/** Distinctive names and numbers, so a leak shows in any response text. */
const residents = [
  { name: '欧阳娜娜', mobile: '13712345671' },
  { name: '司马光明', mobile: '15887654322' },
  { name: '诸葛青青', mobile: '18629471113' },
];

function leaks(text: string): string[] {
  const found: string[] = [];
  for (const r of residents) {
    if (text.includes(r.name)) found.push(r.name);
    if (text.includes(r.mobile)) found.push(r.mobile);
    // The middle digits appear only in a full number, never in a masked one.
    if (text.includes(r.mobile.slice(2, 9))) found.push(`${r.mobile} (middle digits)`);
  }
  return found;
}

describe.each(STATE_BACKENDS)('appointment privacy on $name', (backend) => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  const clock = new TestClock(at(DAY, '08:00'));
  const admin = () => new ApiClient(hub.httpUrl);
  let adminApi: ApiClient;
  let planner: ApiClient;
  let managerA: ApiClient;
  let managerB: ApiClient;
  let session: SessionSummary;
  let bookingIds: number[] = [];
  const codes: string[] = [];

  beforeAll(async () => {
    hub = await testHub(
      { PUBLIC_RATE_LIMIT_MAX: 10_000, PERSONAL_DATA_RETENTION_DAYS: 2 },
      { now: clock.now, state: backend },
    );
    adminApi = admin();
    await adminApi.login();
    for (const id of ['site-a', 'site-b']) {
      expect((await adminApi.json('POST', '/api/sites', siteFixture(id))).status).toBe(201);
    }
    const users: Array<[string, string, string[]]> = [
      ['planner1', 'planner', []],
      ['manager-a', 'manager', ['site-a']],
      ['manager-b', 'manager', ['site-b']],
    ];
    for (const [username, role, siteIds] of users) {
      const res = await adminApi.json('POST', '/api/users', {
        username,
        password: 'password-123',
        role,
        siteIds,
      });
      expect(res.status).toBe(201);
    }
    const logins = await Promise.all(
      users.map(async ([username]) => {
        const c = admin();
        expect((await c.login(username, 'password-123')).status).toBe(200);
        return c;
      }),
    );
    planner = logins[0]!;
    managerA = logins[1]!;
    managerB = logins[2]!;
    session = await createSession(managerA, 'site-a', { date: DAY, start: '10:00', end: '11:00' });
    for (const r of residents) {
      const b = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: session.id,
        slotStartAt: session.slots[0]!.startAt,
        screening: 'blood_pressure',
        ...r,
      });
      expect(b.status).toBe(201);
      codes.push(b.body.code);
    }
    const today = await managerA.json<TodayReply>('GET', '/api/sites/site-a/appointments/today');
    bookingIds = today.body.bookings.map((b) => b.id);
  });
  afterAll(async () => hub?.close());

  it('gives a planner counts only, and refuses the routes that carry personal data', async () => {
    const readable = [
      '/api/sites/site-a/appointments/summary',
      `/api/appointments/summary?date=${DAY}`,
      `/api/appointments/stats?from=${DAY}&to=${DAY}`,
      `/api/sites/site-a/appointment-sessions?from=${DAY}&to=${DAY}`,
    ];
    for (const url of readable) {
      const res = await planner.request('GET', url);
      const text = await res.text();
      expect(res.status, url).toBe(200);
      expect(leaks(text), url).toEqual([]);
    }
    const summary = await planner.json<AppointmentsDay>('GET', '/api/sites/site-a/appointments/summary');
    expect(summary.body.totals).toMatchObject({ booked: 3, capacity: 8 });

    const refused: Array<[string, string]> = [
      ['GET', '/api/sites/site-a/appointments/today'],
      ['GET', `/api/sites/site-a/appointments/search?q=${codes[0]}`],
      ['GET', '/api/sites/site-a/appointments/search?q=5671'],
      ['GET', `/api/bookings/${bookingIds[0]}`],
      ['POST', `/api/bookings/${bookingIds[0]}/check-in`],
      ['GET', '/api/appointments/audit'],
      ['POST', '/api/sites/site-a/appointment-sessions'],
    ];
    for (const [method, url] of refused) {
      const res = await planner.request(method, url, method === 'POST' ? {} : undefined);
      const text = await res.text();
      expect(res.status, url).toBe(403);
      expect(JSON.parse(text).code).toBe('FORBIDDEN');
      expect(leaks(text)).toEqual([]);
    }
  });

  it("answers another site's manager as if the bookings did not exist", async () => {
    const attempts: Array<[string, string, string]> = [
      ['GET', '/api/sites/site-a/appointments/today', 'SITE_NOT_FOUND'],
      ['GET', `/api/sites/site-a/appointments/search?q=${codes[0]}`, 'SITE_NOT_FOUND'],
      ['GET', `/api/bookings/${bookingIds[0]}`, 'BOOKING_NOT_FOUND'],
      ['POST', `/api/bookings/${bookingIds[0]}/check-in`, 'BOOKING_NOT_FOUND'],
      ['GET', '/api/sites/site-a/appointments/summary', 'SITE_NOT_FOUND'],
      ['GET', `/api/appointments/stats?from=${DAY}&to=${DAY}&siteId=site-a`, 'SITE_NOT_FOUND'],
      ['POST', `/api/appointment-sessions/${session.id}/cancel`, 'SESSION_NOT_FOUND'],
    ];
    for (const [method, url, code] of attempts) {
      const res = await managerB.request(method, url, method === 'POST' ? {} : undefined);
      const text = await res.text();
      expect(res.status, url).toBe(404);
      expect(JSON.parse(text).code, url).toBe(code);
      expect(leaks(text)).toEqual([]);
    }
    const all = await managerB.request('GET', `/api/appointments/summary?date=${DAY}`);
    const text = await all.text();
    expect(JSON.parse(text).days).toEqual([]);
    const stats = await managerB.json<StatsReply>('GET', `/api/appointments/stats?from=${DAY}&to=${DAY}`);
    expect(stats.body.rows).toEqual([]);
  });

  it('sends the live feed with counts only, and only to those who may see the site', async () => {
    const plannerSocket = liveClient(hub.httpUrl, planner.cookie);
    const otherSocket = liveClient(hub.httpUrl, managerB.cookie);
    const raw: string[] = [];
    const other: AppointmentsDay[] = [];
    plannerSocket.on('appointments', (d) => raw.push(JSON.stringify(d)));
    otherSocket.on('appointments', (d) => other.push(d));
    await Promise.all(
      [plannerSocket, otherSocket].map((s) => new Promise<void>((r) => s.on('snapshot', () => r()))),
    );
    const res = await managerA.json('POST', `/api/bookings/${bookingIds[2]}/check-in`);
    expect(res.status).toBe(200);
    await eventually(() => raw.find((t) => t.includes('"checkedIn":1')));
    expect(leaks(raw.join('\n'))).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(other).toEqual([]);
    plannerSocket.close();
    otherSocket.close();
  });

  it('masks numbers in lists, shows one on purpose, and audits every read', async () => {
    const before = (await adminApi.json<{ entries: AuditEntry[] }>('GET', '/api/appointments/audit')).body
      .entries.length;
    const res = await managerA.request('GET', '/api/sites/site-a/appointments/today');
    const text = await res.text();
    const today = JSON.parse(text) as TodayReply;
    expect(today.bookings.map((b) => b.mobileMasked).sort()).toEqual([
      '*******1113',
      '*******4322',
      '*******5671',
    ]);
    for (const r of residents) expect(text).not.toContain(r.mobile);
    expect(today.bookings.map((b) => b.name).sort()).toEqual(residents.map((r) => r.name).sort());

    const search = await managerA.json<{ bookings: MaskedBooking[] }>(
      'GET',
      '/api/sites/site-a/appointments/search?q=4322',
    );
    expect(search.body.bookings.map((b) => b.mobileMasked)).toEqual(['*******4322']);

    const id = search.body.bookings[0]!.id;
    const opened = await managerA.json<OpenedBooking>(
      'GET',
      `/api/bookings/${id}?reason=${encodeURIComponent('电话改约')}`,
    );
    expect(opened.body).toMatchObject({ mobile: '15887654322', name: '司马光明' });

    expect((await managerA.json<ApiError>('GET', '/api/appointments/audit')).body.code).toBe('FORBIDDEN');
    const audit = await adminApi.json<{ entries: AuditEntry[] }>('GET', '/api/appointments/audit');
    const entries = audit.body.entries;
    expect(entries.length - before).toBe(3);
    expect(entries[0]).toMatchObject({
      username: 'manager-a',
      role: 'manager',
      action: 'open',
      siteId: 'site-a',
      bookingIds: [id],
      route: 'GET /api/bookings/:bookingId',
      reason: '电话改约',
    });
    expect(entries[0]!.at).toBe(clock.t);
    expect(entries[1]).toMatchObject({ action: 'search', bookingIds: [id] });
    expect(entries[2]).toMatchObject({ action: 'list' });
    expect(entries[2]!.bookingIds.sort()).toEqual([...bookingIds].sort());
    // The audit log itself holds no personal data.
    expect(leaks(JSON.stringify(entries))).toEqual([]);
    const forBooking = await adminApi.json<{ entries: AuditEntry[] }>(
      'GET',
      `/api/appointments/audit?bookingId=${id}`,
    );
    expect(forBooking.body.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['open', 'search', 'list']),
    );
    expect(forBooking.body.entries.every((e) => e.bookingIds.includes(id))).toBe(true);
  });

  it('erases names and numbers after the retention period, keeping the counts', async () => {
    const ended = at(DAY, '11:00');
    expect((await hub.appointments.scheduler.sweep(ended + 2 * 86_400_000 - 1)).purged).toBe(0);
    const statsBefore = await planner.json<StatsReply>(
      'GET',
      `/api/appointments/stats?from=${DAY}&to=${DAY}`,
    );
    expect((await hub.appointments.scheduler.sweep(ended + 2 * 86_400_000)).purged).toBe(3);

    clock.t = at(DAY, '10:45'); // "today" is still the session's day for the manager's list
    const today = await managerA.request('GET', '/api/sites/site-a/appointments/today');
    const text = await today.text();
    expect(leaks(text)).toEqual([]);
    const body = JSON.parse(text) as TodayReply;
    expect(body.bookings.every((b) => b.name === null && b.mobileMasked === null)).toBe(true);
    const opened = await managerA.json<OpenedBooking>('GET', `/api/bookings/${bookingIds[0]}`);
    expect(opened.body).toMatchObject({ name: null, mobile: null });
    const lookup = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings/lookup', {
      code: codes[0],
      mobile: residents[0]!.mobile,
    });
    expect(lookup.body.code).toBe('BOOKING_NOT_FOUND');
    const statsAfter = await planner.json<StatsReply>('GET', `/api/appointments/stats?from=${DAY}&to=${DAY}`);
    expect(statsAfter.body).toEqual(statsBefore.body);

    // Not only unreachable: gone from the database files. SQLite: secure_delete, WAL checkpointed.
    // PostgreSQL: the table's and its indexes' files after VACUUM FULL, which keeps an old version
    // while any older transaction in the database is open (other suites' here), hence `eventually`.
    // Its WAL keeps them until recycled (README).
    const leftIn = async () => {
      const files =
        backend.name === 'sqlite'
          ? ['state.sqlite', 'state.sqlite-wal'].map((f) => path.join(hub.dataDir, f))
          : await postgresHeapFiles(backend, hub.stateEnv, 'appointment_bookings');
      const bytes = Buffer.concat(files.filter((f) => fs.existsSync(f)).map((f) => fs.readFileSync(f)));
      return residents.flatMap((r) => [r.mobile, r.name]).filter((v) => bytes.includes(Buffer.from(v)));
    };
    if (backend.name === 'sqlite') expect(await leftIn()).toEqual([]);
    else {
      await eventually(async () => {
        if ((await leftIn()).length === 0) return true;
        await hub.appointments.repo.checkpointErased();
      }, 15_000);
    }
  });
});
