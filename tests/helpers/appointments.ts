import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { SessionInput, SessionSummary } from '../../contract/index.js';
import { zonedToEpoch } from '../../contract/index.js';
import { verifySignature, type WebhookBody } from '../../services/appointments/webhook.js';
import { ApiClient, siteFixture, testHub } from './hub.js';
import type { StateBackend } from './state-backends.js';

export const TZ = 'Asia/Shanghai';

/** A clock the test moves by hand; the hub's appointment rules read it (startHub's `now`). */
export class TestClock {
  constructor(public t: number) {}
  readonly now = () => this.t;
  set(date: string, time: string): void {
    this.t = zonedToEpoch(date, time, TZ);
  }
}

export const at = (date: string, time: string) => zonedToEpoch(date, time, TZ);

/** 11-digit mainland numbers, distinct per i. */
export const mobile = (i: number) => `139${String(i).padStart(8, '0')}`;

export function sessionBody(overrides: Partial<SessionInput> = {}): SessionInput {
  return {
    date: '2031-03-03',
    start: '09:00',
    end: '11:00',
    slotMinutes: 30,
    capacityPerSlot: 4,
    screenings: ['blood_pressure', 'blood_glucose'],
    doctorName: '王医生',
    repeatWeeks: 1,
    ...overrides,
  };
}

export async function createSession(
  api: ApiClient,
  siteId: string,
  overrides: Partial<SessionInput> = {},
): Promise<SessionSummary> {
  const res = await api.json<{ sessions: SessionSummary[] }>(
    'POST',
    `/api/sites/${siteId}/appointment-sessions`,
    sessionBody(overrides),
  );
  if (res.status !== 201) throw new Error(`create session: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.sessions[0]!;
}

/** A public (no login) JSON request. */
export async function publicJson<T = unknown>(
  baseUrl: string,
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: T; text: string; headers: Headers }> {
  const res = await fetch(baseUrl + url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, text, headers: res.headers };
}

export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

/** A notification as the test webhook receiver got it. */
export interface Received {
  body: WebhookBody;
  raw: string;
  headers: http.IncomingHttpHeaders;
  valid: boolean;
}

export interface AppointmentsHub {
  hub: Awaited<ReturnType<typeof testHub>>;
  /** Logged in as the admin. */
  api: ApiClient;
  webhookServer: http.Server;
  /** Every notification the receiver accepted or refused, in order. */
  received: Received[];
  /** Deliveries to answer 500 first, to exercise the retry. */
  failFirst: Set<string>;
  close(): Promise<void>;
}

/**
 * The hub the appointment tests run against: a webhook receiver that checks signatures, a hub on `clock`
 * notifying it, and three sites (fhl-n1 08:00-20:00, night-1 18:00-02:00, allday-1 open all day).
 */
export async function appointmentsHub(clock: TestClock, state?: StateBackend): Promise<AppointmentsHub> {
  const received: Received[] = [];
  const failFirst = new Set<string>();
  const webhookServer = http.createServer((req, res) => {
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
        WEBHOOK_SECRET,
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
  const closeServer = () => new Promise((r) => webhookServer.close(r));
  const port = (webhookServer.address() as AddressInfo).port;
  const hub = await testHub(
    {
      // High enough for the booking burst; the limit itself is tested with its own hub.
      PUBLIC_RATE_LIMIT_MAX: 100_000,
      BOOKING_CUTOFF_MIN: 30,
      WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      WEBHOOK_SECRET,
      WEBHOOK_RETRY_BASE_MS: 50,
    },
    { now: clock.now, state },
  ).catch(async (e) => {
    await closeServer();
    throw e;
  });
  const close = async () => {
    await hub.close();
    await closeServer();
  };
  const api = new ApiClient(hub.httpUrl);
  try {
    await api.login();
    for (const s of [
      siteFixture('fhl-n1', { openingHours: { open: '08:00', close: '20:00' } }),
      siteFixture('night-1', { openingHours: { open: '18:00', close: '02:00' } }),
      siteFixture('allday-1', { openingHours: { open: '00:00', close: '00:00' } }),
    ]) {
      expect((await api.json('POST', '/api/sites', s)).status).toBe(201);
    }
  } catch (e) {
    await close();
    throw e;
  }
  return { hub, api, webhookServer, received, failFirst, close };
}
