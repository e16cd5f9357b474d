import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../contract/index.js';
import { ApiClient, adminWithSite, testHub } from './helpers/hub.js';

const SITE = 'stats-1';
type Stats = { eventLoopDelayMs: { max: number } };

/** The hub runs in this process, so blocking here is a stall the hub's event-loop monitor sees. */
function stallEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy on purpose
  }
}

describe('/api/stats: admins only, and reset is a POST (issue 8 item 5)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  const as: Record<'manager' | 'planner', ApiClient> = {} as never;

  beforeAll(async () => {
    hub = await testHub();
    admin = await adminWithSite(hub, SITE);
    for (const role of ['manager', 'planner'] as const) {
      const siteIds = role === 'manager' ? [SITE] : [];
      await admin.json('POST', '/api/users', { username: role, password: `${role}-password`, role, siteIds });
      as[role] = new ApiClient(hub.httpUrl);
      await as[role].login(role, `${role}-password`);
    }
  });
  afterAll(async () => hub?.close());

  it('refuses managers and planners with 403: the counters describe every site and the machine', async () => {
    for (const role of ['manager', 'planner'] as const) {
      expect((await as[role].json<ApiError>('GET', '/api/stats')).body.code, role).toBe('FORBIDDEN');
      expect((await as[role].json<ApiError>('POST', '/api/stats/reset')).body.code, role).toBe('FORBIDDEN');
    }
    expect((await admin.json('GET', '/api/stats')).status).toBe(200);
  });

  it('a GET no longer resets anything; POST /api/stats/reset returns the window it closes, then resets', async () => {
    stallEventLoop(500);
    const old = await admin.json<ApiError>('GET', '/api/stats?reset=true');
    expect(old).toMatchObject({ status: 400, body: { code: 'VALIDATION' } });
    expect((await admin.json<Stats>('GET', '/api/stats')).body.eventLoopDelayMs.max).toBeGreaterThanOrEqual(
      200,
    );

    const reset = await admin.json<Stats>('POST', '/api/stats/reset');
    expect(reset.status).toBe(200);
    expect(reset.body.eventLoopDelayMs.max).toBeGreaterThanOrEqual(450);
    expect((await admin.json<Stats>('GET', '/api/stats')).body.eventLoopDelayMs.max).toBeLessThan(450);
  });
});
