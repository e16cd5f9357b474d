import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, SessionSummary } from '../contract/index.js';
import {
  type AppointmentsHub,
  appointmentsHub,
  at,
  createSession,
  mobile,
  publicJson,
  sessionBody,
  TestClock,
} from './helpers/appointments.js';
import { type ApiClient, siteFixture } from './helpers/hub.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

describe.each(STATE_BACKENDS)('screening appointments on $name', (backend) => {
  let hub: AppointmentsHub['hub'];
  let api: ApiClient;
  const clock = new TestClock(at('2031-03-01', '08:00'));
  let env: AppointmentsHub;

  beforeAll(async () => {
    env = await appointmentsHub(clock, backend);
    ({ hub, api } = env);
  });
  afterAll(async () => env?.close());

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

    it('lets one of many overlapping sessions created at once in, on every engine', async () => {
      // On PostgreSQL the check and the insert of concurrent requests interleave; the exclusion
      // constraint (migration 004) refuses all but one (issue 13). SQLite serialises them.
      const starts = ['08:00', '08:30', '09:00', '09:30', '10:00', '10:30', '11:00', '11:30'];
      const replies = await Promise.all(
        [...starts, ...starts].map((start) =>
          api.json<ApiError>(
            'POST',
            '/api/sites/allday-1/appointment-sessions',
            sessionBody({ date: '2031-05-05', start, end: '13:00' }),
          ),
        ),
      );
      expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
      const refused = replies.filter((r) => r.status !== 201);
      expect(refused.every((r) => r.status === 400 && r.body.code === 'SESSION_OVERLAP')).toBe(true);
      expect((await sessionsAt('allday-1')).filter((s) => s.date === '2031-05-05')).toHaveLength(1);
    });

    it.runIf(backend.name === 'postgres')(
      'refuses the second of two overlapping inserts whose checks both passed (PostgreSQL)',
      async () => {
        // The interleaving the HTTP storm above may or may not hit, forced: both transactions check,
        // find nothing, then both insert. Without migration 004 both commit.
        const repo = hub.appointments.repo;
        const [startAt, endAt] = [at('2031-05-12', '09:00'), at('2031-05-12', '11:00')];
        let arrived = 0;
        let release = () => {};
        const bothChecked = new Promise<void>((r) => {
          release = r;
        });
        const attempt = (start: string) =>
          repo.transaction(async (tx) => {
            expect(await tx.overlappingSession('allday-1', startAt, endAt)).toBeUndefined();
            if (++arrived === 2) release();
            await bothChecked;
            return tx.insertSession({
              site_id: 'allday-1',
              series_id: null,
              local_date: '2031-05-12',
              start_time: start,
              end_time: '11:00',
              start_at: at('2031-05-12', start),
              end_at: endAt,
              slot_minutes: 30,
              capacity_per_slot: 4,
              screenings: '["blood_pressure"]',
              doctor_name: '王医生',
              status: 'scheduled',
              cancel_reason: null,
              created_by: 1,
              created_at: clock.t,
              updated_at: clock.t,
            });
          });
        const results = await Promise.allSettled([attempt('09:00'), attempt('09:30')]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        expect(failed.reason.code).toBe('SESSION_OVERLAP');
      },
    );

    it('plans sessions only where doctors screen, and offers only those sites for booking', async () => {
      for (const s of [
        siteFixture('rest-1', { type: 'caring' }),
        siteFixture('both-1', { type: 'both', openingHours: { open: '07:00', close: '22:00' } }),
      ]) {
        expect((await api.json('POST', '/api/sites', s)).status).toBe(201);
      }
      const refused = await api.json<ApiError>(
        'POST',
        '/api/sites/rest-1/appointment-sessions',
        sessionBody({ date: '2031-03-12' }),
      );
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('SCREENING_NOT_AT_SITE');
      expect(await sessionsAt('rest-1')).toEqual([]);
      await createSession(api, 'both-1', { date: '2031-03-12' });

      const listed = await publicJson<{ sites: { id: string; upcomingDays: string[] }[] }>(
        hub.httpUrl,
        'GET',
        '/api/public/sites',
      );
      const ids = listed.body.sites.map((s) => s.id);
      expect(ids).toEqual(expect.arrayContaining(['fhl-n1', 'night-1', 'allday-1', 'both-1']));
      expect(ids).not.toContain('rest-1');
      expect(listed.body.sites.find((s) => s.id === 'both-1')?.upcomingDays).toEqual(['2031-03-12']);
      const sessions = await publicJson<ApiError>(
        hub.httpUrl,
        'GET',
        '/api/public/sites/rest-1/sessions?date=2031-03-12',
      );
      expect(sessions.status).toBe(404);
      expect(sessions.body.code).toBe('SITE_NOT_FOUND');
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
});
