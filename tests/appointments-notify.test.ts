import type http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, ResidentBooking } from '../contract/index.js';
import { verifySignature } from '../services/appointments/webhook.js';
import {
  type AppointmentsHub,
  appointmentsHub,
  at,
  createSession,
  mobile,
  publicJson,
  type Received,
  WEBHOOK_SECRET as SECRET,
  TestClock,
} from './helpers/appointments.js';
import { ApiClient, eventually, testHub } from './helpers/hub.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

describe.each(STATE_BACKENDS)('screening appointments on $name', (backend) => {
  let hub: AppointmentsHub['hub'];
  let api: ApiClient;
  const clock = new TestClock(at('2031-03-01', '08:00'));
  let received: Received[];
  let failFirst: Set<string>;
  let webhookServer: http.Server;
  let env: AppointmentsHub;

  beforeAll(async () => {
    env = await appointmentsHub(clock, backend);
    ({ hub, api, received, failFirst, webhookServer } = env);
  });
  afterAll(async () => env?.close());

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
