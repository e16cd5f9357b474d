import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MaskedBooking, OpenedBooking, ResidentBooking } from '../contract/index.js';
import { loggedUrl } from '../services/log.js';
import { at, createSession, publicJson, TestClock } from './helpers/appointments.js';
import { ApiClient, eventually, siteFixture, testHub } from './helpers/hub.js';

const DAY = '2031-03-03';
const SITE = 'log-site';
/** Distinctive, so any trace of them in the log is found. */
const residents = [
  { name: '慕容秋水', mobile: '13698765432' },
  { name: '上官飞燕', mobile: '15823456789' },
];
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('logs: JSON with request ids, and no personal data at any level', () => {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const clock = new TestClock(at(DAY, '08:00'));
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  const codes: string[] = [];
  // A notification receiver that always fails, so the delivery failure is logged too.
  const receiver = http.createServer((_req, res) => res.writeHead(500).end());

  beforeAll(async () => {
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    hub = await testHub(
      {
        LOG_LEVEL: 'trace',
        PUBLIC_RATE_LIMIT_MAX: 10_000,
        WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        WEBHOOK_SECRET: 'test-webhook-secret-0123456789',
        WEBHOOK_MAX_ATTEMPTS: 1,
        METRICS_TOKEN,
      },
      { now: clock.now, logDestination: destination },
    );
    api = new ApiClient(hub.httpUrl);
    await api.login();
    expect((await api.json('POST', '/api/sites', siteFixture(SITE))).status).toBe(201);

    // A full run: book, look up, reschedule, search by code and by the last four digits, open
    // with a reason, check in, cancel; mistakes on the way (a wrong number, a malformed code).
    const session = await createSession(api, SITE, { date: DAY, start: '09:00', end: '11:00' });
    for (const [i, r] of residents.entries()) {
      const booked = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: session.id,
        slotStartAt: session.slots[i]!.startAt,
        name: r.name,
        mobile: r.mobile,
        screening: 'blood_pressure',
      });
      expect(booked.status).toBe(201);
      codes.push(booked.body.code);
    }
    const [first, second] = residents as [(typeof residents)[0], (typeof residents)[0]];
    const lookup = { code: codes[0], mobile: first.mobile };
    expect((await publicJson(hub.httpUrl, 'POST', '/api/public/bookings/lookup', lookup)).status).toBe(200);
    const wrong = { code: codes[0], mobile: second.mobile };
    expect((await publicJson(hub.httpUrl, 'POST', '/api/public/bookings/lookup', wrong)).status).toBe(404);
    const malformed = { code: `${codes[0]}!`, mobile: `${first.mobile}9` };
    expect((await publicJson(hub.httpUrl, 'POST', '/api/public/bookings/lookup', malformed)).status).toBe(
      400,
    );
    const moved = await publicJson(hub.httpUrl, 'POST', '/api/public/bookings/reschedule', {
      ...lookup,
      sessionId: session.id,
      slotStartAt: session.slots[2]!.startAt,
    });
    expect(moved.status).toBe(200);

    clock.set(DAY, '09:00');
    const search = (q: string) =>
      api.json<{ bookings: MaskedBooking[] }>(
        'GET',
        `/api/sites/${SITE}/appointments/search?q=${q}&date=${DAY}`,
      );
    expect((await search(codes[0]!)).body.bookings).toHaveLength(1);
    const byLast4 = await search(first.mobile.slice(-4));
    const id = byLast4.body.bookings[0]!.id;
    const opened = await api.json<OpenedBooking>(
      'GET',
      `/api/bookings/${id}?reason=${encodeURIComponent(`${first.name} 来电核对`)}`,
    );
    expect(opened.body.mobile).toBe(first.mobile);
    expect((await api.json('POST', `/api/bookings/${id}/check-in`)).status).toBe(200);
    const cancel = { code: codes[1], mobile: second.mobile };
    expect((await publicJson(hub.httpUrl, 'POST', '/api/public/bookings/cancel', cancel)).status).toBe(200);
    // The notifications fail and are logged as failures.
    await eventually(() => (lines.some((l) => l.includes('delivery failed')) ? true : undefined));
  });

  afterAll(async () => {
    await hub?.close();
    await new Promise((r) => receiver.close(r));
  });

  it('writes JSON lines, request lines carrying the request id the reply names', async () => {
    const res = await fetch(`${hub.httpUrl}/healthz`, { headers: { 'x-request-id': 'proxy-id-42' } });
    expect(res.headers.get('x-request-id')).toBe('proxy-id-42');
    const parsed = lines.map((l) => JSON.parse(l) as { reqId?: string; msg: string; level: number });
    expect(parsed.some((l) => l.reqId === 'proxy-id-42' && l.msg === 'incoming request')).toBe(true);
    const own = await fetch(`${hub.httpUrl}/healthz`);
    expect(own.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    // Trace level: the debug and trace lines are in the capture too.
    expect(parsed.some((l) => l.level < 30)).toBe(true);
  });

  it('has no name, number, last four digits or booking code in any line', () => {
    const log = lines.join('');
    expect(lines.length).toBeGreaterThan(20);
    for (const r of residents) {
      expect(log).not.toContain(r.name);
      expect(log).not.toContain(r.mobile);
      expect(log).not.toContain(r.mobile.slice(3, 9));
      expect(log).not.toContain(`q=${r.mobile.slice(-4)}`);
    }
    for (const code of codes) expect(log).not.toContain(code);
    // The staff search was logged, without what was searched for.
    expect(log).toContain(`/api/sites/${SITE}/appointments/search?q=[redacted]&date=${DAY}`);
  });

  it('counts the run in the metrics: bookings by status', async () => {
    const res = await fetch(`${hub.httpUrl}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    const text = await res.text();
    expect(text).toMatch(/^yizhan_bookings\{status="checked_in"\} 1$/m);
    expect(text).toMatch(/^yizhan_bookings\{status="cancelled"\} 1$/m);
  });

  it('shows listed query values, and hides every other one', () => {
    expect(loggedUrl('/api/telemetry?siteId=a&from=1&to=2')).toBe('/api/telemetry?siteId=a&from=1&to=2');
    expect(loggedUrl('/x?q=1234&reason=abc&date=2031-03-03')).toBe(
      '/x?q=[redacted]&reason=[redacted]&date=2031-03-03',
    );
    expect(loggedUrl('/plain')).toBe('/plain');
  });
});
