import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiError,
  AppointmentsDay,
  MaskedBooking,
  PublicSession,
  ResidentBooking,
  SessionSummary,
  StatsReply,
  TodayReply,
} from '../contract/index.js';
import {
  type AppointmentsHub,
  appointmentsHub,
  at,
  createSession,
  mobile,
  publicJson,
  type Received,
  TestClock,
} from './helpers/appointments.js';
import { type ApiClient, eventually, liveClient } from './helpers/hub.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

const DAY = '2031-03-03'; // a Monday

// The planner figures below count what the booking and check-in tests left behind (a cancelled
// session, at least 14 bookings, the 03-09 session), so all three run here on one hub.
describe.each(STATE_BACKENDS)('screening appointments on $name', (backend) => {
  let hub: AppointmentsHub['hub'];
  let api: ApiClient;
  const clock = new TestClock(at('2031-03-01', '08:00'));
  let received: Received[];
  let env: AppointmentsHub;

  beforeAll(async () => {
    env = await appointmentsHub(clock, backend);
    ({ hub, api, received } = env);
  });
  afterAll(async () => env?.close());

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
});
