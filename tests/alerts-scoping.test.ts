import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert, ApiError, ClientToServerEvents, ServerToClientEvents } from '../contract/index.js';
import type { Hub } from '../services/hub.js';
import { alertHub, alertsOf, settledAlerts, TestDevice } from './helpers/alerts.js';
import type { FakeClock } from './helpers/fake-clock.js';
import { ApiClient, eventually, liveClient, siteFixture } from './helpers/hub.js';

const A = 'fanghuali-n1';
const B = 'xiangshuwan-e1';
const PASSWORD = 'manager-pass-1';

describe('alerts are scoped by role like everything else (API and socket.io)', () => {
  let hub: Hub & { dataDir: string };
  let clock: FakeClock;
  let admin: ApiClient;
  let manager: ApiClient;
  let planner: ApiClient;
  const devices: TestDevice[] = [];
  const sockets: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];
  const managerGot: Alert[] = [];
  const adminGot: Alert[] = [];
  let alertA: Alert;
  let alertB: Alert;

  beforeAll(async () => {
    ({ hub, clock } = await alertHub());
    admin = new ApiClient(hub.httpUrl);
    await admin.login();
    await admin.json('POST', '/api/sites', siteFixture(A));
    await admin.json('POST', '/api/sites', siteFixture(B));
    await admin.json('POST', '/api/users', {
      username: 'li',
      password: PASSWORD,
      role: 'manager',
      siteIds: [A],
    });
    await admin.json('POST', '/api/users', { username: 'wang', password: PASSWORD, role: 'planner' });
    manager = new ApiClient(hub.httpUrl);
    await manager.login('li', PASSWORD);
    planner = new ApiClient(hub.httpUrl);
    await planner.login('wang', PASSWORD);
    for (const [api, got] of [
      [manager, managerGot],
      [admin, adminGot],
    ] as const) {
      const s = liveClient(hub.httpUrl, api.cookie);
      s.on('alert', (a) => got.push(a));
      await new Promise((r) => s.once('snapshot', r));
      sockets.push(s);
    }
    for (const [site, id] of [
      [A, 'mw-a'],
      [B, 'mw-b'],
    ] as const) {
      const d = await TestDevice.connect(hub, admin, site, id, 'microwave');
      devices.push(d);
      await d.event('fault', { code: 'E7' });
    }
    await clock.advance(1000);
    const all = await settledAlerts(hub, admin, 'device_fault');
    alertA = all.find((a) => a.siteId === A)!;
    alertB = all.find((a) => a.siteId === B)!;
  });

  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    for (const d of devices) await d.end(true).catch(() => {});
    await hub?.close();
  });

  it("a manager of A never sees B's alerts", async () => {
    expect((await alertsOf(manager)).map((a) => a.siteId)).toEqual([A]);
    expect(await alertsOf(manager, `siteId=${B}`)).toEqual([]);
    expect(await alertsOf(manager, 'community=芳华里')).toHaveLength(1);
    const one = await manager.json<ApiError>('GET', `/api/alerts/${alertB.id}`);
    expect([one.status, one.body.code]).toEqual([404, 'ALERT_NOT_FOUND']);
    expect((await manager.json<ApiError>('GET', `/api/alerts/rules?siteId=${B}`)).status).toBe(404);
    expect((await manager.json('GET', `/api/alerts/silences?siteId=${B}`)).status).toBe(404);
  });

  it("a manager of A cannot acknowledge, resolve, silence or re-threshold B's alerts; A's they can", async () => {
    const ack = await manager.json<ApiError>('POST', `/api/alerts/${alertB.id}/ack`, {});
    expect([ack.status, ack.body.code]).toEqual([404, 'ALERT_NOT_FOUND']);
    const resolve = await manager.json<ApiError>('POST', `/api/alerts/${alertB.id}/resolve`, { note: 'x' });
    expect(resolve.status).toBe(404);
    const silence = await manager.json<ApiError>('POST', '/api/alerts/silences', {
      siteId: B,
      startsAt: clock.now(),
      endsAt: clock.now() + 60_000,
      reason: '维修',
    });
    expect([silence.status, silence.body.code]).toEqual([404, 'SITE_NOT_FOUND']);
    const rules = await admin.json<{ rules: Array<{ id: string; body: Record<string, unknown> }> }>(
      'GET',
      `/api/alerts/rules?siteId=${B}`,
    );
    const water = rules.body.rules.find((r) => r.id === 'water_low')!;
    expect(
      (await manager.json('PUT', '/api/alerts/rules/water_low', { siteId: B, body: water.body })).status,
    ).toBe(404);
    expect(
      (await manager.json('PUT', '/api/alerts/rules/water_low', { siteId: A, body: water.body })).status,
    ).toBe(200);
    expect((await manager.json('POST', `/api/alerts/${alertA.id}/ack`, { note: '收到' })).status).toBe(200);
    expect((await manager.json('GET', '/api/alerts/contacts')).status).toBe(403);
  });

  it('a planner reads every site and changes nothing (403)', async () => {
    expect((await alertsOf(planner)).map((a) => a.siteId).sort()).toEqual([A, B]);
    expect((await planner.json<ApiError>('POST', `/api/alerts/${alertB.id}/ack`, {})).body.code).toBe(
      'FORBIDDEN',
    );
    expect((await planner.json('POST', `/api/alerts/${alertB.id}/resolve`, { note: 'x' })).status).toBe(403);
    expect(
      (
        await planner.json('POST', '/api/alerts/silences', {
          siteId: B,
          startsAt: 0,
          endsAt: 1,
          reason: 'x',
        })
      ).status,
    ).toBe(403);
  });

  it("socket.io: the manager gets A's alert events only; the admin gets both", async () => {
    await eventually(() =>
      adminGot.some((a) => a.siteId === B) && managerGot.length > 0 ? true : undefined,
    );
    // The acknowledgement above was pushed too.
    await eventually(() => (managerGot.some((a) => a.state === 'acknowledged') ? true : undefined));
    expect(new Set(managerGot.map((a) => a.siteId))).toEqual(new Set([A]));
    expect(new Set(adminGot.map((a) => a.siteId))).toEqual(new Set([A, B]));
  });
});
