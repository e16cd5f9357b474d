import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, Site } from '../contract/index.js';
import { ApiClient, siteFixture, testHub } from './helpers/hub.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

describe.each(STATE_BACKENDS)('HTTP API (state on $name)', (backend) => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;

  beforeAll(async () => {
    hub = await testHub({}, { state: backend });
    api = new ApiClient(hub.httpUrl);
    await api.login();
  });
  afterAll(async () => hub?.close());

  it('requires a login, and refuses a wrong password with a coded error', async () => {
    const anon = new ApiClient(hub.httpUrl);
    const res = await anon.json<ApiError>('GET', '/api/sites');
    expect(res).toMatchObject({ status: 401, body: { code: 'UNAUTHENTICATED' } });
    const wrong = await anon.login('admin', 'wrong-password');
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as ApiError).code).toBe('BAD_CREDENTIALS');
    expect(wrong.headers.get('set-cookie')).toBeNull();
  });

  it('sets an httpOnly session cookie and forgets it on logout', async () => {
    const c = new ApiClient(hub.httpUrl);
    const res = await c.login();
    expect(res.headers.get('set-cookie')).toMatch(/yz_session=.+HttpOnly/i);
    expect((await c.json('GET', '/api/auth/me')).status).toBe(200);
    expect((await c.json('POST', '/api/auth/logout')).status).toBe(204);
    expect((await c.json('GET', '/api/auth/me')).status).toBe(401);
  });

  it('refuses an invalid site with field paths and stores nothing', async () => {
    const bad = { ...siteFixture('Bad Id!'), seats: -1, openingHours: { open: '25:00', close: '22:00' } };
    const res = await api.json<ApiError>('POST', '/api/sites', bad);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION');
    const paths = res.body.fields?.map((f) => f.path) ?? [];
    expect(paths).toEqual(expect.arrayContaining(['body.id', 'body.seats', 'body.openingHours.open']));
    expect((await api.json<{ sites: Site[] }>('GET', '/api/sites')).body.sites).toEqual([]);
  });

  it('creates a site once and answers 409 for the same id', async () => {
    const site = siteFixture('xiangshuwan-e1', {
      name: { zh: '橡树湾东门爱心驿站', en: 'Oak Bay East Gate Caring Station' },
      type: 'caring',
    });
    const created = await api.json<Site>('POST', '/api/sites', site);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'xiangshuwan-e1', name: site.name, type: 'caring' });
    expect((await api.json<ApiError>('POST', '/api/sites', site)).body.code).toBe('SITE_EXISTS');
    const detail = await api.json<{ site: Site }>('GET', '/api/sites/xiangshuwan-e1');
    expect(detail.body.site.name.zh).toBe('橡树湾东门爱心驿站');
  });

  it('refuses a device of an unknown kind and provisions a valid one with a secret shown once', async () => {
    const bad = await api.json<ApiError>('POST', '/api/sites/xiangshuwan-e1/devices', {
      id: 'x-1',
      kind: 'toaster',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.fields?.[0]?.path).toBe('body.kind');
    const ok = await api.json<{ secret: string; device: { id: string } }>(
      'POST',
      '/api/sites/xiangshuwan-e1/devices',
      {
        id: 'xiangshuwan-e1-door',
        kind: 'door_sensor',
      },
    );
    expect(ok.status).toBe(201);
    expect(ok.body.secret.length).toBeGreaterThanOrEqual(32);
    const listed = await api.request('GET', '/api/devices?siteId=xiangshuwan-e1');
    expect(await listed.text()).not.toContain(ok.body.secret);
    const again = await api.json<ApiError>('POST', '/api/sites/xiangshuwan-e1/devices', {
      id: 'xiangshuwan-e1-door',
      kind: 'door_sensor',
    });
    expect(again).toMatchObject({ status: 409, body: { code: 'DEVICE_EXISTS' } });
    const noSite = await api.json<ApiError>('POST', '/api/sites/nowhere/devices', {
      id: 'nowhere-door',
      kind: 'door_sensor',
    });
    expect(noSite).toMatchObject({ status: 404, body: { code: 'SITE_NOT_FOUND' } });
  });

  it('refuses a range of too many buckets', async () => {
    const q = new URLSearchParams({
      siteId: 'xiangshuwan-e1',
      metric: 'occupancy',
      from: '0',
      to: String(Date.now()),
      bucketMs: '1000',
    });
    const res = await api.json<ApiError>('GET', `/api/telemetry/range?${q}`);
    expect(res).toMatchObject({ status: 400, body: { code: 'RANGE_TOO_LARGE' } });
  });

  it('reports health, readiness and serves OpenAPI at /docs', async () => {
    expect((await api.json('GET', '/healthz')).status).toBe(200);
    const ready = await api.json<{ ok: boolean; parts: Record<string, boolean> }>('GET', '/readyz');
    expect(ready).toMatchObject({
      status: 200,
      body: { ok: true, parts: { state: true, telemetry: true, broker: true } },
    });
    const doc = await api.json<{ paths: Record<string, unknown> }>('GET', '/docs/json');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/sites', '/api/telemetry/range']),
    );
  });
});
