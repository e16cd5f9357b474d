import type { MqttClient } from 'mqtt';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiError,
  ClientToServerEvents,
  Device,
  IngestErrorCount,
  LiveEvent,
  ProvisionedDevice,
  ServerToClientEvents,
  Site,
  SiteLive,
  User,
} from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import {
  ApiClient,
  connectDevice,
  eventually,
  liveClient,
  provision,
  siteFixture,
  testHub,
} from './helpers/hub.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

const HOUR = 3_600_000;
const A = 'fanghuali-n1';
const B = 'xiangshuwan-e1';
const PASSWORD = 'manager-pass-1';

type LiveSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A socket.io client that records everything it is sent. */
async function recorder(baseUrl: string, cookie: string) {
  const socket: LiveSocket = liveClient(baseUrl, cookie);
  const got = {
    snapshots: [] as { live: SiteLive[] }[],
    sites: [] as SiteLive[],
    events: [] as LiveEvent[],
    users: [] as User[],
    disconnected: false,
  };
  socket.on('sites', (ls) => got.sites.push(...ls));
  socket.on('deviceEvent', (e) => got.events.push(e));
  socket.on('user', (u) => got.users.push(u));
  socket.on('disconnect', () => {
    got.disconnected = true;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('snapshot', (s) => {
      got.snapshots.push(s);
      socket.on('snapshot', (next) => got.snapshots.push(next));
      resolve();
    });
    socket.once('connect_error', reject);
  });
  return { socket, got };
}

describe.each(STATE_BACKENDS)(
  'per-site scoping: API routes and socket.io rooms (state on $name)',
  (backend) => {
    let hub: Awaited<ReturnType<typeof testHub>>;
    let admin: ApiClient;
    let manager: ApiClient;
    let planner: ApiClient;
    const dev: Record<string, ProvisionedDevice> = {};
    const mqtt: Record<string, MqttClient> = {};
    let seq = 0;

    const login = async (username: string, password = PASSWORD) => {
      const c = new ApiClient(hub.httpUrl);
      expect((await c.login(username, password)).status).toBe(200);
      return c;
    };
    const createUser = async (body: Record<string, unknown>) => {
      const res = await admin.json<User>('POST', '/api/users', body);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body;
    };
    const publishReading = (id: string, values: Record<string, number | boolean>) => {
      const d = dev[id]!;
      return mqtt[id]!.publishAsync(
        topicFor(d.device.siteId, id, 'telemetry'),
        JSON.stringify({ readings: [{ seq: ++seq, ts: Date.now(), values }] }),
        { qos: 1 },
      );
    };
    const publishEvent = (id: string, type: string) => {
      const d = dev[id]!;
      return mqtt[id]!.publishAsync(
        topicFor(d.device.siteId, id, 'event'),
        JSON.stringify({ events: [{ seq: ++seq, ts: Date.now(), type }] }),
        { qos: 1 },
      );
    };

    beforeAll(async () => {
      hub = await testHub({}, { state: backend });
      admin = new ApiClient(hub.httpUrl);
      await admin.login();
      for (const id of [A, B])
        expect((await admin.json('POST', '/api/sites', siteFixture(id))).status).toBe(201);
      for (const site of [A, B]) {
        dev[`${site}-occ`] = await provision(admin, site, `${site}-occ`, 'occupancy_counter');
        dev[`${site}-door`] = await provision(admin, site, `${site}-door`, 'door_sensor');
      }
      for (const [id, d] of Object.entries(dev)) mqtt[id] = await connectDevice(hub.mqttUrl, id, d.secret);
      await createUser({ username: 'mgr-a', password: PASSWORD, role: 'manager', siteIds: [A] });
      await createUser({ username: 'planner', password: PASSWORD, role: 'planner' });
      manager = await login('mgr-a');
      planner = await login('planner');
      // Some history and a refused message on both sites, so every read route has something to leak.
      for (const site of [A, B]) {
        await publishReading(`${site}-occ`, { occupancy: 3 });
        await publishEvent(`${site}-door`, 'door_opened');
        await mqtt[`${site}-occ`]!.publishAsync(
          topicFor(site, `${site}-occ`, 'telemetry'),
          '{"readings":[]}',
          {
            qos: 1,
          },
        );
      }
    });

    afterAll(async () => {
      for (const c of Object.values(mqtt)) await c.endAsync().catch(() => {});
      await hub?.close();
    });

    it('serves the dashboard configuration without a login', async () => {
      const res = await new ApiClient(hub.httpUrl).json('GET', '/api/config');
      expect(res).toEqual({ status: 200, body: { timeZone: 'Asia/Shanghai', staleAfterMs: 300_000 } });
    });

    it("answers 404 to a manager of site A for site B on every site-scoped route, and 2xx for A's", async () => {
      const now = Date.now();
      const window = `from=${now - HOUR}&to=${now + HOUR}`;
      const routes = (site: string): [string, string, unknown?][] => [
        ['GET', `/api/sites/${site}`],
        ['GET', `/api/sites/${site}/live`],
        ['GET', `/api/devices?siteId=${site}`],
        ['GET', `/api/telemetry/range?siteId=${site}&metric=occupancy&${window}`],
        ['GET', `/api/telemetry/range?deviceId=${site}-occ&metric=occupancy&${window}`],
        ['GET', `/api/telemetry/events?siteId=${site}&${window}`],
        ['GET', `/api/telemetry/events?deviceId=${site}-door&${window}`],
        ['GET', `/api/telemetry/event-counts?siteId=${site}&type=door_opened&${window}`],
        ['GET', `/api/telemetry/event-counts?deviceId=${site}-door&type=door_opened&${window}`],
        ['GET', `/api/ingest/errors?siteId=${site}`],
        ['GET', `/api/ingest/errors?deviceId=${site}-occ`],
        ['POST', `/api/sites/${site}/devices`, { id: `${site}-env`, kind: 'environment_sensor' }],
        ['POST', `/api/devices/${site}-door/commands`, { id: 'c1', action: 'reboot' }],
        ['POST', `/api/devices/${site}-door/disable`],
        ['POST', `/api/devices/${site}-door/enable`],
        ['POST', `/api/devices/${site}-door/rotate-secret`],
      ];
      for (const [method, url, body] of routes(B)) {
        const res = await manager.json<ApiError>(method, url, body);
        expect(res.status, `${method} ${url}`).toBe(404);
        expect(res.body.code, `${method} ${url}`).toMatch(/^(SITE|DEVICE)_NOT_FOUND$/);
      }
      // The same routes work for the manager's own site, so the 404s above are scoping, not breakage.
      for (const [method, url, body] of routes(A)) {
        const res = await manager.json<ProvisionedDevice>(method, url, body);
        expect(res.status, `${method} ${url}`).toBeLessThan(300);
        if (url.endsWith('/rotate-secret')) dev[`${A}-door`]!.secret = res.body.secret;
      }
      // Disabling and rotating dropped A's door sensor; it comes back with its new secret.
      await mqtt[`${A}-door`]!.endAsync(true);
      mqtt[`${A}-door`] = await connectDevice(hub.mqttUrl, `${A}-door`, dev[`${A}-door`]!.secret);
      // Nothing of B was touched: its door sensor is still enabled and its old secret still works.
      const doorB = (await admin.json<{ devices: Device[] }>('GET', `/api/devices?siteId=${B}`)).body.devices;
      expect(doorB.find((d) => d.id === `${B}-door`)?.enabled).toBe(true);
      expect(doorB.map((d) => d.id)).not.toContain(`${B}-env`);
      await mqtt[`${B}-door`]!.endAsync(true);
      mqtt[`${B}-door`] = await connectDevice(hub.mqttUrl, `${B}-door`, dev[`${B}-door`]!.secret);
      // A device id that does not exist answers the same as another site's device.
      const missing = await manager.json<ApiError>(
        'GET',
        `/api/telemetry/range?deviceId=nope&metric=occupancy&${window}`,
      );
      expect(missing.body.code).toBe('DEVICE_NOT_FOUND');
    });

    it("lists only the manager's sites, devices and ingest errors; cross-site aggregates need a site", async () => {
      expect(
        (await manager.json<{ sites: Site[] }>('GET', '/api/sites')).body.sites.map((s) => s.id),
      ).toEqual([A]);
      const live = await manager.json<{ live: SiteLive[] }>('GET', '/api/live');
      expect(live.body.live.map((l) => l.siteId)).toEqual([A]);
      const devices = await manager.json<{ devices: Device[] }>('GET', '/api/devices');
      // A's environment sensor was provisioned by the manager in the test above.
      expect(devices.body.devices.map((d) => d.id)).toEqual([`${A}-door`, `${A}-env`, `${A}-occ`]);
      const errors = await eventually(async () => {
        const all = (await admin.json<{ errors: IngestErrorCount[] }>('GET', '/api/ingest/errors')).body
          .errors;
        return all.some((e) => e.deviceId === `${B}-occ`) ? all : undefined;
      });
      expect(errors.map((e) => e.deviceId)).toEqual(expect.arrayContaining([`${A}-occ`, `${B}-occ`]));
      const mine = await manager.json<{ errors: IngestErrorCount[] }>('GET', '/api/ingest/errors');
      expect(new Set(mine.body.errors.map((e) => e.deviceId))).toEqual(new Set([`${A}-occ`]));
      const now = Date.now();
      const all = await manager.json<ApiError>(
        'GET',
        `/api/telemetry/range?metric=occupancy&from=${now - HOUR}&to=${now}`,
      );
      expect(all).toMatchObject({ status: 400, body: { code: 'VALIDATION' } });
    });

    it("sends a manager none of site B's socket.io events while B's devices publish", async () => {
      const mgr = await recorder(hub.httpUrl, manager.cookie);
      const adm = await recorder(hub.httpUrl, admin.cookie);
      expect(mgr.got.snapshots[0]!.live.map((l) => l.siteId)).toEqual([A]);
      expect(adm.got.snapshots[0]!.live.map((l) => l.siteId).sort()).toEqual([A, B]);

      // B first, then A: once the manager has A's updates, B's were sent to everyone entitled to them.
      await publishReading(`${B}-occ`, { occupancy: 11 });
      await publishEvent(`${B}-door`, 'door_closed');
      await publishReading(`${A}-occ`, { occupancy: 5 });
      await publishEvent(`${A}-door`, 'door_closed');
      await eventually(() =>
        adm.got.sites.some((l) => l.siteId === B && l.occupancy === 11) ? true : undefined,
      );
      await eventually(() => (adm.got.events.some((e) => e.siteId === B) ? true : undefined));
      await eventually(() =>
        mgr.got.sites.some((l) => l.siteId === A && l.occupancy === 5) ? true : undefined,
      );
      await eventually(() => (mgr.got.events.some((e) => e.siteId === A) ? true : undefined));
      await new Promise((r) => setTimeout(r, 300));
      expect(mgr.got.sites.filter((l) => l.siteId !== A)).toEqual([]);
      expect(mgr.got.events.filter((e) => e.siteId !== A)).toEqual([]);
      mgr.socket.close();
      adm.socket.close();
    });

    it('lets a planner read every site but not operate devices or manage users', async () => {
      expect(
        (await planner.json<{ sites: Site[] }>('GET', '/api/sites')).body.sites.map((s) => s.id),
      ).toEqual([A, B]);
      expect((await planner.json('GET', `/api/sites/${B}/live`)).status).toBe(200);
      const now = Date.now();
      const q = `metric=occupancy&from=${now - HOUR}&to=${now + HOUR}&agg=max`;
      expect((await planner.json('GET', `/api/telemetry/range?${q}`)).status).toBe(200);
      const pl = await recorder(hub.httpUrl, planner.cookie);
      expect(pl.got.snapshots[0]!.live.map((l) => l.siteId).sort()).toEqual([A, B]);
      pl.socket.close();

      const forbidden: [string, string, unknown?][] = [
        ['POST', `/api/sites/${A}/devices`, { id: `${A}-env2`, kind: 'environment_sensor' }],
        ['POST', `/api/devices/${A}-door/disable`],
        ['POST', `/api/devices/${A}-door/enable`],
        ['POST', `/api/devices/${A}-door/rotate-secret`],
        ['POST', `/api/devices/${A}-door/commands`, { id: 'c1', action: 'reboot' }],
        ['POST', '/api/sites', siteFixture('dianliu-w1')],
        ['GET', '/api/users'],
        ['POST', '/api/users', { username: 'x-user', password: PASSWORD, role: 'planner' }],
        ['PATCH', '/api/users/1', { role: 'planner' }],
        ['POST', '/api/users/1/password', { password: 'another-pass' }],
        ['DELETE', '/api/users/1'],
      ];
      for (const [method, url, body] of [
        ...forbidden,
        // A manager may operate devices, but not manage users.
        ...forbidden.slice(6).map(([m, u, b]) => [`mgr:${m}`, u, b] as [string, string, unknown]),
      ]) {
        const client = method.startsWith('mgr:') ? manager : planner;
        const res = await client.json<ApiError>(method.replace('mgr:', ''), url, body);
        expect(res, `${method} ${url}`).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
      }
      const after = (await admin.json<{ devices: Device[] }>('GET', `/api/devices?siteId=${A}`)).body.devices;
      expect(after.map((d) => d.id)).not.toContain(`${A}-env2`);
      expect(after.find((d) => d.id === `${A}-door`)?.enabled).toBe(true);
    });

    describe('user administration', () => {
      const users = async () => (await admin.json<{ users: User[] }>('GET', '/api/users')).body.users;

      it('refuses invalid bodies with 400 and field paths, and changes nothing', async () => {
        const before = await users();
        const target = before.find((u) => u.username === 'mgr-a')!;
        const bad: [string, string, unknown, string[]][] = [
          [
            'POST',
            '/api/users',
            { username: 'a b', password: 'short', role: 'boss' },
            ['body.username', 'body.password', 'body.role'],
          ],
          [
            'POST',
            '/api/users',
            { username: 'mgr-x', password: PASSWORD, role: 'manager' },
            ['body.siteIds'],
          ],
          [
            'POST',
            '/api/users',
            { username: 'mgr-x', password: PASSWORD, role: 'manager', siteIds: [A, 'nowhere'] },
            ['body.siteIds.1'],
          ],
          [
            'POST',
            '/api/users',
            { username: 'mgr-x', password: PASSWORD, role: 'planner', siteIds: [A] },
            ['body.siteIds'],
          ],
          [
            'POST',
            '/api/users',
            { username: 'mgr-x', password: PASSWORD, role: 'manager', siteIds: ['Not An Id'] },
            ['body.siteIds.0'],
          ],
          ['PATCH', `/api/users/${target.id}`, { siteIds: [] }, ['body.siteIds']],
          ['PATCH', `/api/users/${target.id}`, { role: 'root' }, ['body.role']],
          ['PATCH', `/api/users/${target.id}`, { siteIds: ['nowhere'] }, ['body.siteIds.0']],
          ['PATCH', `/api/users/${target.id}`, {}, ['body']],
          ['POST', `/api/users/${target.id}/password`, { password: '1234567' }, ['body.password']],
        ];
        for (const [method, url, body, paths] of bad) {
          const res = await admin.json<ApiError>(method, url, body);
          const what = `${method} ${url} ${JSON.stringify(body)}`;
          expect(res.status, what).toBe(400);
          expect(res.body.code, what).toBe('VALIDATION');
          expect(
            res.body.fields?.map((f) => f.path),
            what,
          ).toEqual(expect.arrayContaining(paths));
        }
        expect(await users()).toEqual(before);
        // The manager's password was not changed by the refused reset.
        expect((await new ApiClient(hub.httpUrl).login('mgr-a', PASSWORD)).status).toBe(200);
        const dup = await admin.json<ApiError>('POST', '/api/users', {
          username: 'mgr-a',
          password: PASSWORD,
          role: 'planner',
        });
        expect(dup).toMatchObject({ status: 409, body: { code: 'USER_EXISTS' } });
        const none = await admin.json<ApiError>('PATCH', '/api/users/9999', { role: 'planner' });
        expect(none).toMatchObject({ status: 404, body: { code: 'USER_NOT_FOUND' } });
      });

      it('will not let an admin delete or demote themself', async () => {
        const me = (await admin.json<{ user: User }>('GET', '/api/auth/me')).body.user;
        for (const [method, url, body] of [
          ['DELETE', `/api/users/${me.id}`],
          ['PATCH', `/api/users/${me.id}`, { role: 'planner' }],
        ] as [string, string, unknown?][]) {
          expect(await admin.json(method, url, body)).toMatchObject({
            status: 409,
            body: { code: 'CANNOT_CHANGE_SELF' },
          });
        }
        expect((await admin.json('GET', '/api/auth/me')).status).toBe(200);
      });

      it("moves an open manager's live feed to new sites at once, without a reconnect", async () => {
        const mover = await createUser({
          username: 'mover',
          password: PASSWORD,
          role: 'manager',
          siteIds: [A],
        });
        const c = await login('mover');
        const rec = await recorder(hub.httpUrl, c.cookie);
        const patched = await admin.json<User>('PATCH', `/api/users/${mover.id}`, { siteIds: [B] });
        expect(patched).toMatchObject({ status: 200, body: { role: 'manager', siteIds: [B] } });
        await eventually(() => (rec.got.snapshots.length === 2 ? true : undefined));
        expect(rec.got.users.at(-1)?.siteIds).toEqual([B]);
        expect(rec.got.snapshots[1]!.live.map((l) => l.siteId)).toEqual([B]);
        rec.got.sites.length = 0;
        await publishReading(`${A}-occ`, { occupancy: 6 });
        await publishReading(`${B}-occ`, { occupancy: 12 });
        await eventually(() =>
          rec.got.sites.some((l) => l.siteId === B && l.occupancy === 12) ? true : undefined,
        );
        await new Promise((r) => setTimeout(r, 300));
        expect(rec.got.sites.filter((l) => l.siteId !== B)).toEqual([]);
        expect(rec.got.disconnected).toBe(false);
        // The HTTP API follows too: A is gone, B is there.
        expect((await c.json('GET', `/api/sites/${A}`)).status).toBe(404);
        expect((await c.json('GET', `/api/sites/${B}`)).status).toBe(200);
        // Becoming a planner drops the assignments and widens the feed to every site.
        await admin.json('PATCH', `/api/users/${mover.id}`, { role: 'planner' });
        await eventually(() => (rec.got.snapshots.length === 3 ? true : undefined));
        expect(rec.got.snapshots[2]!.live.map((l) => l.siteId).sort()).toEqual([A, B]);
        expect((await users()).find((u) => u.id === mover.id)).toMatchObject({
          role: 'planner',
          siteIds: [],
        });
        rec.socket.close();
      });

      it('ends sessions and live sockets on password reset, delete and logout', async () => {
        const u = await createUser({
          username: 'temp',
          password: PASSWORD,
          role: 'manager',
          siteIds: [A, B],
        });
        expect(u.siteIds).toEqual([A, B]);
        const first = await login('temp');
        const firstLive = await recorder(hub.httpUrl, first.cookie);
        expect(
          (await admin.json('POST', `/api/users/${u.id}/password`, { password: 'new-password-2' })).status,
        ).toBe(204);
        await eventually(() => (firstLive.got.disconnected ? true : undefined));
        expect((await first.json('GET', '/api/auth/me')).status).toBe(401);
        expect((await new ApiClient(hub.httpUrl).login('temp', PASSWORD)).status).toBe(401);

        const second = await login('temp', 'new-password-2');
        const secondLive = await recorder(hub.httpUrl, second.cookie);
        expect((await admin.json('DELETE', `/api/users/${u.id}`)).status).toBe(204);
        await eventually(() => (secondLive.got.disconnected ? true : undefined));
        expect((await second.json('GET', '/api/auth/me')).status).toBe(401);
        expect((await new ApiClient(hub.httpUrl).login('temp', 'new-password-2')).status).toBe(401);
        expect((await users()).map((x) => x.username)).not.toContain('temp');
        expect((await admin.json('DELETE', `/api/users/${u.id}`)).body).toMatchObject({
          code: 'USER_NOT_FOUND',
        });

        // Logging out closes that session's sockets, and only that session's.
        const one = await login('mgr-a');
        const other = await login('mgr-a');
        const oneLive = await recorder(hub.httpUrl, one.cookie);
        const otherLive = await recorder(hub.httpUrl, other.cookie);
        expect((await one.json('POST', '/api/auth/logout')).status).toBe(204);
        await eventually(() => (oneLive.got.disconnected ? true : undefined));
        await new Promise((r) => setTimeout(r, 100));
        expect(otherLive.got.disconnected).toBe(false);
        otherLive.socket.close();
      });
    });
  },
);
