import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../services/api/schemas.js';
import type {
  AppointmentsDay,
  MaskedBooking,
  PublicSession,
  ResidentBooking,
  SessionSummary,
  StatsReply,
  TodayReply,
} from '../services/appointments/schemas.js';
import { verifySignature, type WebhookBody } from '../services/appointments/webhook.js';
import { at, createSession, mobile, publicJson, sessionBody, TestClock } from './helpers/appointments.js';
import { ApiClient, eventually, liveClient, siteFixture, testHub } from './helpers/hub.js';

const SECRET = 'test-webhook-secret-0123456789';
const DAY = '2031-03-03'; // a Monday

interface Received {
  body: WebhookBody;
  raw: string;
  headers: http.IncomingHttpHeaders;
  valid: boolean;
}

describe('screening appointments', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  const clock = new TestClock(at('2031-03-01', '08:00'));
  const received: Received[] = [];
  /** Deliveries to answer 500 first, to exercise the retry. */
  const failFirst = new Set<string>();
  let webhookServer: http.Server;

  beforeAll(async () => {
    webhookServer = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => {
        const id = String(req.headers['x-yizhan-delivery']);
        if (failFirst.has(id)) {
          failFirst.delete(id);
          res.writeHead(500).end();
          return;
        }
        const valid = verifySignature(
          SECRET,
          {
            timestamp: req.headers['x-yizhan-timestamp'] as string,
            signature: req.headers['x-yizhan-signature'] as string,
          },
          raw,
        );
        received.push({ body: JSON.parse(raw) as WebhookBody, raw, headers: req.headers, valid });
        res.writeHead(valid ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => webhookServer.listen(0, '127.0.0.1', r));
    const port = (webhookServer.address() as AddressInfo).port;
    hub = await testHub(
      {
        // High enough for the burst below; the limit itself is tested with its own hub.
        PUBLIC_RATE_LIMIT_MAX: 100_000,
        BOOKING_CUTOFF_MIN: 30,
        WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_RETRY_BASE_MS: 50,
      },
      { now: clock.now },
    );
    api = new ApiClient(hub.httpUrl);
    await api.login();
    for (const s of [
      siteFixture('fhl-n1', { openingHours: { open: '08:00', close: '20:00' } }),
      siteFixture('night-1', { openingHours: { open: '18:00', close: '02:00' } }),
      siteFixture('allday-1', { openingHours: { open: '00:00', close: '00:00' } }),
    ]) {
      expect((await api.json('POST', '/api/sites', s)).status).toBe(201);
    }
  });
  afterAll(async () => {
    await hub?.close();
    await new Promise((r) => webhookServer?.close(r));
  });

  const sessionsAt = async (siteId: string) =>
    (
      await api.json<{ sessions: SessionSummary[] }>(
        'GET',
        `/api/sites/${siteId}/appointment-sessions?from=2031-03-01&to=2031-05-31`,
      )
    ).body.sessions;

  describe('sessions', () => {
    it('stores local times as instants in the hub zone (Asia/Shanghai is UTC+8)', async () => {
      const s = await createSession(api, 'allday-1', { date: '2031-03-10', start: '09:00', end: '10:00' });
      expect(s.startAt).toBe(Date.UTC(2031, 2, 10, 1, 0));
      expect(s.endAt).toBe(Date.UTC(2031, 2, 10, 2, 0));
      expect(s.slots.map((sl) => sl.start)).toEqual(['09:00', '09:30']);
      expect(s.capacity).toBe(8);
    });

    it('refuses a session outside opening hours with 400 and field paths, storing nothing', async () => {
      for (const [start, end, path] of [
        ['07:00', '09:00', 'body.start'],
        ['19:00', '21:00', 'body.end'],
      ] as const) {
        const res = await api.json<ApiError>(
          'POST',
          '/api/sites/fhl-n1/appointment-sessions',
          sessionBody({ start, end }),
        );
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('SESSION_OUTSIDE_HOURS');
        expect(res.body.fields?.map((f) => f.path)).toContain(path);
      }
      expect(await sessionsAt('fhl-n1')).toEqual([]);
    });

    it('knows huts open past midnight', async () => {
      const ok = [
        ['22:00', '01:00'],
        ['00:30', '01:30'],
        ['18:00', '02:00'],
      ];
      for (const [i, [start, end]] of ok.entries()) {
        const s = await createSession(api, 'night-1', {
          date: `2031-03-1${2 * i}`,
          start,
          end,
          slotMinutes: 30,
        });
        expect(s.endAt).toBeGreaterThan(s.startAt);
      }
      const late = await api.json<ApiError>(
        'POST',
        '/api/sites/night-1/appointment-sessions',
        sessionBody({ date: '2031-03-16', start: '01:00', end: '03:00' }),
      );
      expect(late.body.code).toBe('SESSION_OUTSIDE_HOURS');
      const crossing = (await sessionsAt('night-1')).find((s) => s.start === '22:00')!;
      expect(crossing.endAt - crossing.startAt).toBe(3 * 3_600_000);
    });

    it('validates the body with field paths', async () => {
      const res = await api.json<ApiError>('POST', '/api/sites/fhl-n1/appointment-sessions', {
        ...sessionBody(),
        capacityPerSlot: 0,
        screenings: ['blood_pressure', 'x-ray'],
      });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION');
      expect(res.body.fields?.map((f) => f.path)).toEqual(
        expect.arrayContaining(['body.screenings.1', 'body.capacityPerSlot']),
      );
      const ragged = await api.json<ApiError>(
        'POST',
        '/api/sites/fhl-n1/appointment-sessions',
        sessionBody({ start: '09:00', end: '10:10', slotMinutes: 30 }),
      );
      expect(ragged.body.fields?.map((f) => f.path)).toEqual(['body.slotMinutes']);
      const past = await api.json<ApiError>(
        'POST',
        '/api/sites/fhl-n1/appointment-sessions',
        sessionBody({ date: '2031-02-28' }),
      );
      expect(past.body.code).toBe('SESSION_IN_PAST');
    });

    it('refuses an overlapping session, and a weekly series with one clash stores no week', async () => {
      await createSession(api, 'fhl-n1', { date: '2031-03-17', start: '09:00', end: '11:00' });
      const clash = await api.json<ApiError>(
        'POST',
        '/api/sites/fhl-n1/appointment-sessions',
        sessionBody({ date: '2031-03-17', start: '10:30', end: '12:00' }),
      );
      expect(clash.status).toBe(400);
      expect(clash.body.code).toBe('SESSION_OVERLAP');
      expect(clash.body.fields?.[0]?.path).toBe('body.start');
      // Weeks 03-03, 03-10, 03-17 (clash), 03-24: nothing stored.
      const series = await api.json<ApiError>(
        'POST',
        '/api/sites/fhl-n1/appointment-sessions',
        sessionBody({ date: '2031-03-03', start: '10:00', end: '12:00', repeatWeeks: 4 }),
      );
      expect(series.body.code).toBe('SESSION_OVERLAP');
      expect((await sessionsAt('fhl-n1')).map((s) => s.date)).toEqual(['2031-03-17']);
      // Back to back is not an overlap.
      await createSession(api, 'fhl-n1', { date: '2031-03-17', start: '11:00', end: '12:00' });
    });

    it('creates a weekly series', async () => {
      const res = await api.json<{ sessions: SessionSummary[] }>(
        'POST',
        '/api/sites/fhl-n1/appointment-sessions',
        sessionBody({ date: '2031-04-07', start: '14:00', end: '16:00', repeatWeeks: 3 }),
      );
      expect(res.status).toBe(201);
      expect(res.body.sessions.map((s) => s.date)).toEqual(['2031-04-07', '2031-04-14', '2031-04-21']);
      expect(new Set(res.body.sessions.map((s) => s.seriesId)).size).toBe(1);
      expect(res.body.sessions[1]!.startAt - res.body.sessions[0]!.startAt).toBe(7 * 86_400_000);
    });
  });

  describe('booking', () => {
    let burst: SessionSummary;

    beforeAll(async () => {
      burst = await createSession(api, 'fhl-n1', {
        date: DAY,
        start: '09:00',
        end: '12:00',
        slotMinutes: 30,
        capacityPerSlot: 10,
      });
    });

    it('never overbooks: 220 simultaneous requests for 10 places, exactly 10 succeed', async () => {
      const slot = burst.slots[0]!;
      const started = performance.now();
      const results = await Promise.all(
        Array.from({ length: 220 }, (_, i) =>
          publicJson<ResidentBooking & ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', {
            sessionId: burst.id,
            slotStartAt: slot.startAt,
            name: `居民${i}`,
            mobile: mobile(i),
            screening: 'blood_pressure',
          }),
        ),
      );
      const ms = performance.now() - started;
      console.log(`220 concurrent bookings for 10 places: ${ms.toFixed(0)} ms`);
      const ok = results.filter((r) => r.status === 201);
      expect(ok).toHaveLength(10);
      expect(new Set(ok.map((r) => r.body.code)).size).toBe(10);
      const refused = results.filter((r) => r.status !== 201);
      expect(refused.every((r) => r.status === 409 && r.body.code === 'SLOT_FULL')).toBe(true);
      const day = await api.json<AppointmentsDay>(
        'GET',
        `/api/sites/fhl-n1/appointments/summary?date=${DAY}`,
      );
      const s = day.body.sessions.find((x) => x.id === burst.id)!;
      expect(s.slots[0]!.booked).toBe(10);
      const open = await publicJson<{ sessions: PublicSession[] }>(
        hub.httpUrl,
        'GET',
        `/api/public/sites/fhl-n1/sessions?date=${DAY}`,
      );
      expect(open.body.sessions[0]!.slots[0]).toMatchObject({ available: 0, bookable: false });
    });

    it('allows one booking per number per session, even when the requests race', async () => {
      const results = await Promise.all(
        burst.slots.slice(1).map((slot) =>
          publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', {
            sessionId: burst.id,
            slotStartAt: slot.startAt,
            name: '张三',
            mobile: '138 0013 8000',
            screening: 'blood_glucose',
          }),
        ),
      );
      expect(results.filter((r) => r.status === 201)).toHaveLength(1);
      expect(results.filter((r) => r.body.code === 'ALREADY_BOOKED')).toHaveLength(results.length - 1);
      // +86 and spaces are the same number.
      const again = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: burst.id,
        slotStartAt: burst.slots[5]!.startAt,
        name: '张三',
        mobile: '+86 13800138000',
        screening: 'blood_glucose',
      });
      expect(again).toMatchObject({ status: 409, body: { code: 'ALREADY_BOOKED' } });
    });

    it('refuses bad input, unknown slots and screenings not offered', async () => {
      const base = {
        sessionId: burst.id,
        slotStartAt: burst.slots[2]!.startAt,
        name: '李四',
        screening: 'ecg',
      };
      const bad = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', {
        ...base,
        mobile: '12345678901',
        name: '',
      });
      expect(bad.status).toBe(400);
      expect(bad.body.fields?.map((f) => f.path)).toEqual(
        expect.arrayContaining(['body.mobile', 'body.name']),
      );
      const notOffered = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', {
        ...base,
        mobile: mobile(900),
      });
      expect(notOffered.body.code).toBe('SCREENING_NOT_OFFERED');
      const noSlot = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', {
        ...base,
        slotStartAt: base.slotStartAt + 60_000,
        screening: 'blood_pressure',
        mobile: mobile(900),
      });
      expect(noSlot.body.code).toBe('SLOT_NOT_FOUND');
    });

    it('closes a slot at the cut-off and in the past', async () => {
      const s = await createSession(api, 'allday-1', { date: '2031-03-05', start: '10:00', end: '12:00' });
      const body = (i: number, slot: number) => ({
        sessionId: s.id,
        slotStartAt: s.slots[slot]!.startAt,
        name: '王五',
        mobile: mobile(1000 + i),
        screening: 'blood_pressure',
      });
      clock.set('2031-03-05', '09:40'); // 20 min before the first slot; cut-off is 30
      const early = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', body(1, 0));
      expect(early).toMatchObject({ status: 409, body: { code: 'SLOT_CLOSED' } });
      const later = await publicJson(hub.httpUrl, 'POST', '/api/public/bookings', body(2, 1)); // 10:30
      expect(later.status).toBe(201);
      clock.set('2031-03-05', '11:45');
      const past = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', body(3, 0));
      expect(past).toMatchObject({ status: 409, body: { code: 'SLOT_CLOSED' } });
      clock.set('2031-03-01', '08:00');
    });

    it('cancels and reschedules with code and number, and the number can book again after cancelling', async () => {
      const s = await createSession(api, 'fhl-n1', {
        date: '2031-03-04',
        start: '09:00',
        end: '10:00',
        capacityPerSlot: 1,
      });
      const a = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: s.id,
        slotStartAt: s.slots[0]!.startAt,
        name: '赵六',
        mobile: mobile(2001),
        screening: 'blood_pressure',
      });
      expect(a.status).toBe(201);
      expect(a.body).toMatchObject({
        siteId: 'fhl-n1',
        start: '09:00',
        mobileMasked: '*******2001',
        name: '赵六',
      });
      const wrong = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings/lookup', {
        code: a.body.code,
        mobile: mobile(2002),
      });
      expect(wrong).toMatchObject({ status: 404, body: { code: 'BOOKING_NOT_FOUND' } });
      const b = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: s.id,
        slotStartAt: s.slots[1]!.startAt,
        name: '钱七',
        mobile: mobile(2002),
        screening: 'blood_pressure',
      });
      const full = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings/reschedule', {
        code: a.body.code,
        mobile: mobile(2001),
        sessionId: s.id,
        slotStartAt: s.slots[1]!.startAt,
      });
      expect(full.body.code).toBe('SLOT_FULL');
      const cancelled = await publicJson<ResidentBooking>(
        hub.httpUrl,
        'POST',
        '/api/public/bookings/cancel',
        {
          code: b.body.code.toLowerCase(),
          mobile: mobile(2002),
        },
      );
      expect(cancelled.body.status).toBe('cancelled');
      const twice = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings/cancel', {
        code: b.body.code,
        mobile: mobile(2002),
      });
      expect(twice.body.code).toBe('BOOKING_NOT_ACTIVE');
      const moved = await publicJson<ResidentBooking>(
        hub.httpUrl,
        'POST',
        '/api/public/bookings/reschedule',
        {
          code: a.body.code,
          mobile: mobile(2001),
          sessionId: s.id,
          slotStartAt: s.slots[1]!.startAt,
        },
      );
      expect(moved.body).toMatchObject({ code: a.body.code, start: '09:30', status: 'booked' });
      const rebook = await publicJson(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: s.id,
        slotStartAt: s.slots[0]!.startAt,
        name: '钱七',
        mobile: mobile(2002),
        screening: 'blood_glucose',
      });
      expect(rebook.status).toBe(201);
      await hub.appointments.webhook.idle();
      const moves = received.filter((r) => r.body.type === 'booking.rescheduled');
      expect(moves.at(-1)?.body.booking).toMatchObject({
        code: a.body.code,
        slotStart: '2031-03-04T09:30:00+08:00',
        previousSlotStart: '2031-03-04T09:00:00+08:00',
      });
    });

    it('cancels a session with its bookings, refuses new ones and notifies the residents', async () => {
      const s = await createSession(api, 'fhl-n1', { date: '2031-03-06', start: '09:00', end: '10:00' });
      const booked = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: s.id,
        slotStartAt: s.slots[0]!.startAt,
        name: '孙八',
        mobile: mobile(3001),
        screening: 'blood_pressure',
      });
      const res = await api.json<SessionSummary>('POST', `/api/appointment-sessions/${s.id}/cancel`, {
        reason: '医生临时有事',
      });
      expect(res.body).toMatchObject({ status: 'cancelled', booked: 0, cancelled: 1 });
      const after = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: s.id,
        slotStartAt: s.slots[1]!.startAt,
        name: '孙八',
        mobile: mobile(3002),
        screening: 'blood_pressure',
      });
      expect(after).toMatchObject({ status: 409, body: { code: 'SESSION_CANCELLED' } });
      await eventually(() =>
        received.find((r) => r.body.type === 'session.cancelled' && r.body.booking.code === booked.body.code),
      );
      const edit = await api.json<ApiError>('PATCH', `/api/appointment-sessions/${s.id}`, {
        doctorName: '李医生',
      });
      expect(edit.body.code).toBe('SESSION_CANCELLED');
    });

    it('edits a session: capacity not below bookings, times only while nobody is booked', async () => {
      const s = await createSession(api, 'fhl-n1', { date: '2031-03-07', start: '09:00', end: '10:00' });
      const empty = await api.json<SessionSummary>('PATCH', `/api/appointment-sessions/${s.id}`, {
        start: '13:00',
        end: '14:00',
      });
      expect(empty.body).toMatchObject({ start: '13:00', end: '14:00' });
      for (const i of [0, 1]) {
        await publicJson(hub.httpUrl, 'POST', '/api/public/bookings', {
          sessionId: s.id,
          slotStartAt: empty.body.slots[0]!.startAt,
          name: '周九',
          mobile: mobile(4000 + i),
          screening: 'blood_pressure',
        });
      }
      const retime = await api.json<ApiError>('PATCH', `/api/appointment-sessions/${s.id}`, {
        start: '13:30',
      });
      expect(retime.body.code).toBe('SESSION_HAS_BOOKINGS');
      const shrink = await api.json<ApiError>('PATCH', `/api/appointment-sessions/${s.id}`, {
        capacityPerSlot: 1,
      });
      expect(shrink.body).toMatchObject({
        code: 'CAPACITY_BELOW_BOOKED',
        fields: [{ path: 'body.capacityPerSlot' }],
      });
      const drop = await api.json<ApiError>('PATCH', `/api/appointment-sessions/${s.id}`, {
        screenings: ['blood_glucose'],
      });
      expect(drop.body.code).toBe('SESSION_HAS_BOOKINGS');
      const ok = await api.json<SessionSummary>('PATCH', `/api/appointment-sessions/${s.id}`, {
        capacityPerSlot: 6,
        doctorName: '李医生',
      });
      expect(ok.body).toMatchObject({ capacityPerSlot: 6, doctorName: '李医生', booked: 2 });
    });
  });

  describe('webhook', () => {
    it('signs each notification, retries a failed delivery and sends no more than a reminder needs', async () => {
      const s = await createSession(api, 'allday-1', { date: '2031-03-08', start: '15:00', end: '16:00' });
      // The next delivery id is not known in advance: fail whichever arrives first.
      const original = webhookServer.listeners('request')[0] as http.RequestListener;
      let failed = 0;
      webhookServer.removeAllListeners('request');
      webhookServer.on('request', (req, res) => {
        if (failed === 0) {
          failed++;
          failFirst.add(String(req.headers['x-yizhan-delivery']));
        }
        original(req, res);
      });
      const b = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: s.id,
        slotStartAt: s.slots[1]!.startAt,
        name: '吴十',
        mobile: mobile(5001),
        screening: 'blood_glucose',
      });
      expect(b.status).toBe(201);
      const got = await eventually(() => received.find((r) => r.body.booking.code === b.body.code));
      webhookServer.removeAllListeners('request');
      webhookServer.on('request', original);
      expect(failed).toBe(1);
      expect(hub.appointments.webhook.stats.retried).toBeGreaterThanOrEqual(1);
      expect(got.valid).toBe(true);
      expect(got.headers['x-yizhan-event']).toBe('booking.created');
      expect(got.headers['x-yizhan-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
      expect(got.body).toMatchObject({
        type: 'booking.created',
        booking: {
          code: b.body.code,
          name: '吴十',
          mobile: mobile(5001),
          slotStart: '2031-03-08T15:30:00+08:00',
          slotEnd: '2031-03-08T16:00:00+08:00',
        },
        site: { id: 'allday-1', name: { zh: '芳华里北门健康驿站' } },
      });
      // The screening says something about the resident's health; a reminder does not need it.
      expect(got.raw).not.toContain('blood_glucose');
      expect(Object.keys(got.body.booking).sort()).toEqual([
        'code',
        'mobile',
        'name',
        'slotEnd',
        'slotStart',
      ]);
      // A tampered body or an old timestamp fails verification.
      const ts = got.headers['x-yizhan-timestamp'] as string;
      const sig = got.headers['x-yizhan-signature'] as string;
      expect(
        verifySignature(SECRET, { timestamp: ts, signature: sig }, got.raw.replace('吴十', '吴一')),
      ).toBe(false);
      expect(verifySignature(SECRET, { timestamp: ts, signature: sig }, got.raw, Number(ts) + 600)).toBe(
        false,
      );
    });
  });

  describe('check-in, no-shows and the live feed', () => {
    it('checks residents in, marks the rest no-show after their slot, and shows it live', async () => {
      clock.set('2031-03-09', '08:00');
      await hub.appointments.scheduler.sweep(); // the earlier tests' bookings, now in the past
      const s = await createSession(api, 'allday-1', { date: '2031-03-09', start: '10:00', end: '11:00' });
      const socket = liveClient(hub.httpUrl, api.cookie);
      const days: AppointmentsDay[] = [];
      socket.on('appointments', (d) => days.push(d));
      await new Promise<void>((r) => socket.on('snapshot', () => r()));
      const codes: string[] = [];
      for (const i of [0, 1]) {
        const b = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
          sessionId: s.id,
          slotStartAt: s.slots[0]!.startAt,
          name: `郑${i}`,
          mobile: mobile(6000 + i),
          screening: 'blood_pressure',
        });
        codes.push(b.body.code);
      }
      const seen = await eventually(() =>
        days.find((d) => d.siteId === 'allday-1' && d.sessions.some((x) => x.id === s.id && x.booked === 2)),
      );
      expect(JSON.stringify(seen)).not.toContain('郑');

      const found = await api.json<{ bookings: MaskedBooking[] }>(
        'GET',
        `/api/sites/allday-1/appointments/search?q=${codes[0]}`,
      );
      expect(found.body.bookings).toHaveLength(1);
      const byLast4 = await api.json<{ bookings: MaskedBooking[] }>(
        'GET',
        '/api/sites/allday-1/appointments/search?q=6001',
      );
      expect(byLast4.body.bookings.map((b) => b.code)).toEqual([codes[1]]);
      const id = found.body.bookings[0]!.id;
      const checked = await api.json<MaskedBooking>('POST', `/api/bookings/${id}/check-in`);
      expect(checked.body).toMatchObject({ status: 'checked_in', mobileMasked: '*******6000' });
      const again = await api.json<ApiError>('POST', `/api/bookings/${id}/check-in`);
      expect(again.body.code).toBe('ALREADY_CHECKED_IN');
      await eventually(() => days.find((d) => d.sessions.some((x) => x.id === s.id && x.checkedIn === 1)));

      // Not yet over: nothing changes. After the slot: the other one is a no-show.
      expect((await hub.appointments.scheduler.sweep(at('2031-03-09', '10:29'))).noShows).toBe(0);
      clock.set('2031-03-09', '10:31');
      expect((await hub.appointments.scheduler.sweep()).noShows).toBe(1);
      const today = await api.json<TodayReply>('GET', '/api/sites/allday-1/appointments/today');
      const mine = today.body.day.sessions.find((x) => x.id === s.id)!;
      expect(mine).toMatchObject({ booked: 2, checkedIn: 1, noShow: 1 });
      expect(today.body.bookings.map((b) => b.status).sort()).toEqual(['checked_in', 'no_show']);
      await eventually(() => days.find((d) => d.sessions.some((x) => x.id === s.id && x.noShow === 1)));
      socket.close();

      // A no-show who turns up late the same day can still be checked in; another day cannot.
      const late = today.body.bookings.find((b) => b.status === 'no_show')!;
      expect((await api.json<MaskedBooking>('POST', `/api/bookings/${late.id}/check-in`)).body.status).toBe(
        'checked_in',
      );
      const future = await createSession(api, 'allday-1', {
        date: '2031-03-10',
        start: '12:00',
        end: '13:00',
      });
      const tomorrow = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: future.id,
        slotStartAt: future.slots[0]!.startAt,
        name: '冯',
        mobile: mobile(6100),
        screening: 'blood_pressure',
      });
      const search = await api.json<{ bookings: MaskedBooking[] }>(
        'GET',
        `/api/sites/allday-1/appointments/search?q=${tomorrow.body.code}`,
      );
      const early = await api.json<ApiError>('POST', `/api/bookings/${search.body.bookings[0]!.id}/check-in`);
      expect(early.body.code).toBe('CHECK_IN_NOT_TODAY');
    });
  });

  it('reports planner figures per site and period', async () => {
    clock.set('2031-03-10', '08:00');
    const res = await api.json<StatsReply>(
      'GET',
      '/api/appointments/stats?from=2031-03-09&to=2031-03-09&siteId=allday-1&groupBy=day',
    );
    expect(res.status).toBe(200);
    expect(res.body.rows).toEqual([
      expect.objectContaining({
        siteId: 'allday-1',
        period: '2031-03-09',
        sessions: 1,
        sessionsHeld: 1,
        slotsOffered: 8,
        booked: 2,
        attended: 2,
        noShows: 0,
        fillRate: 0.25,
        noShowRate: 0,
      }),
    ]);
    const all = await api.json<StatsReply>('GET', '/api/appointments/stats?from=2031-03-01&to=2031-03-31');
    expect(all.body.totals.sessionsCancelled).toBe(1);
    expect(all.body.totals.booked).toBeGreaterThanOrEqual(14);
    const bad = await api.json<ApiError>('GET', '/api/appointments/stats?from=2031-03-09&to=2031-03-01');
    expect(bad.body.fields?.[0]?.path).toBe('querystring.to');
  });

  it('publishes the appointment routes in the OpenAPI document', async () => {
    const res = await api.json<{ paths: Record<string, unknown> }>('GET', '/docs/json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/api/public/bookings', '/api/sites/{siteId}/appointments/today']),
    );
  });
});

describe('public rate limit', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  beforeAll(async () => {
    hub = await testHub({ PUBLIC_RATE_LIMIT_MAX: 5, PUBLIC_RATE_LIMIT_WINDOW_S: 60 });
  });
  afterAll(async () => hub?.close());

  it('answers 429 RATE_LIMITED past the limit, for the public routes only', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await publicJson(hub.httpUrl, 'GET', '/api/public/sites')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    const limited = await publicJson<ApiError>(hub.httpUrl, 'POST', '/api/public/bookings/lookup', {
      code: 'ABCDEFGH',
      mobile: '13800138000',
    });
    expect(limited).toMatchObject({ status: 429, body: { code: 'RATE_LIMITED' } });
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const staff = new ApiClient(hub.httpUrl);
    for (let i = 0; i < 8; i++) expect((await staff.json('GET', '/api/auth/me')).status).toBe(401);
  });
});
