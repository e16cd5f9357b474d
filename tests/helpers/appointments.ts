import type { SessionInput, SessionSummary } from '../../services/appointments/schemas.js';
import { zonedToEpoch } from '../../services/appointments/zoned-time.js';
import type { ApiClient } from './hub.js';

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
