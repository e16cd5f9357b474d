import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, Device } from '../contract/index.js';
import { type ApiClient, adminWithSite, connectDevice, provision, testHub } from './helpers/hub.js';

const SITE = 'csrf-1';

/** What an HTML form, or a page of another origin, can send: no JSON, no custom header. */
async function raw(
  api: ApiClient,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
) {
  const res = await fetch(api.baseUrl + url, { method, headers: { cookie: api.cookie, ...headers }, body });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as ApiError };
}

describe('state-changing requests a form or another origin could forge are refused (issue 8 item 1)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  let secret: string;
  const device = `${SITE}-door`;
  const own = () => new URL(hub.httpUrl).origin;
  const enabled = async () =>
    (await admin.json<{ devices: Device[] }>('GET', `/api/devices?siteId=${SITE}`)).body.devices.find(
      (d) => d.id === device,
    )?.enabled;

  beforeAll(async () => {
    hub = await testHub();
    admin = await adminWithSite(hub, SITE);
    secret = (await provision(admin, SITE, device, 'door_sensor')).secret;
  });
  afterAll(async () => hub?.close());

  it('refuses a text/plain or urlencoded POST with the session cookie: the device stays enabled, its secret unchanged', async () => {
    const plain = await raw(
      admin,
      'POST',
      `/api/devices/${device}/disable`,
      { 'content-type': 'text/plain' },
      '',
    );
    expect(plain).toMatchObject({ status: 403, body: { code: 'CSRF_REFUSED' } });
    const form = await raw(
      admin,
      'POST',
      `/api/devices/${device}/rotate-secret`,
      { 'content-type': 'application/x-www-form-urlencoded' },
      'a=b',
    );
    expect(form).toMatchObject({ status: 403, body: { code: 'CSRF_REFUSED' } });
    const none = await raw(admin, 'POST', '/api/bookings/1/check-in', {});
    expect(none).toMatchObject({ status: 403, body: { code: 'CSRF_REFUSED' } });
    expect(await enabled()).toBe(true);
    const client = await connectDevice(hub.mqttUrl, device, secret);
    await client.endAsync();
  });

  it('refuses every state-changing operation in the OpenAPI list when the body is text/plain', async () => {
    const doc = (await (await fetch(`${hub.httpUrl}/docs/json`)).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const unsafe = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => m !== 'get')
        .map((m) => ({ method: m.toUpperCase(), path: path.replace(/\{[^}]+\}/g, '1') })),
    );
    expect(unsafe.length).toBeGreaterThan(15);
    const wrong: string[] = [];
    for (const { method, path } of unsafe) {
      const res = await raw(admin, method, path, { 'content-type': 'text/plain' }, '{}');
      if (res.status !== 403 || res.body.code !== 'CSRF_REFUSED')
        wrong.push(`${method} ${path} → ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(await enabled()).toBe(true);
  });

  it('refuses JSON from a foreign Origin (another port, a sibling subdomain, a sandboxed frame), also for login and booking', async () => {
    const port = Number(new URL(hub.httpUrl).port);
    for (const origin of [`http://127.0.0.1:${port + 1}`, 'http://evil.127.0.0.1.nip.io', 'null']) {
      const json = { 'content-type': 'application/json', origin };
      expect((await raw(admin, 'POST', `/api/devices/${device}/disable`, json, '{}')).body.code).toBe(
        'CSRF_REFUSED',
      );
    }
    const foreign = { 'content-type': 'application/json', origin: `http://127.0.0.1:${port + 1}` };
    const login = await raw(admin, 'POST', '/api/auth/login', foreign, '{"username":"admin","password":"x"}');
    expect(login).toMatchObject({ status: 403, body: { code: 'CSRF_REFUSED' } });
    const book = await raw(admin, 'POST', '/api/public/bookings', foreign, '{}');
    expect(book).toMatchObject({ status: 403, body: { code: 'CSRF_REFUSED' } });
    // Without Origin, Fetch Metadata still tells a same-site page from the hub's own.
    const sameSite = { 'content-type': 'application/json', 'sec-fetch-site': 'same-site' };
    expect((await raw(admin, 'POST', `/api/devices/${device}/disable`, sameSite, '{}')).status).toBe(403);
    expect(await enabled()).toBe(true);
  });

  it("accepts the hub's own page: JSON, or a bodiless POST with X-Requested-With, from its own Origin", async () => {
    const bodiless = { 'x-requested-with': 'fetch', origin: own(), 'sec-fetch-site': 'same-origin' };
    expect((await raw(admin, 'POST', `/api/devices/${device}/disable`, bodiless)).status).toBe(200);
    expect(await enabled()).toBe(false);
    const json = { 'content-type': 'application/json', origin: own() };
    expect((await raw(admin, 'POST', `/api/devices/${device}/enable`, json, '{}')).status).toBe(200);
    expect(await enabled()).toBe(true);
  });
});
