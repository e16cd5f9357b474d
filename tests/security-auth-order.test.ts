import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../contract/index.js';
import { ApiClient, testHub } from './helpers/hub.js';

/** Operations anyone may call: health, the dashboard's settings, logging in and out, residents' booking. */
const PUBLIC = [
  /^GET \/healthz$/,
  /^GET \/readyz$/,
  /^GET \/api\/config$/,
  /^POST \/api\/auth\/(login|logout)$/,
  /^(GET|POST) \/api\/public\//,
];

interface OpenApi {
  paths: Record<string, Record<string, unknown>>;
}

describe('staff routes check the session first (issue 8 item 6, issue 9)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let operations: { method: string; path: string }[];

  beforeAll(async () => {
    hub = await testHub();
    const doc = (await (await fetch(`${hub.httpUrl}/docs/json`)).json()) as OpenApi;
    operations = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => ({ method: method.toUpperCase(), path })),
    );
  });
  afterAll(async () => hub?.close());

  it('finds the staff routes in the OpenAPI document', () => {
    const staff = operations.filter((o) => !PUBLIC.some((p) => p.test(`${o.method} ${o.path}`)));
    // Sites, devices, telemetry, users, appointments, stats: far more than a handful.
    expect(staff.length).toBeGreaterThan(30);
  });

  it('answers 401 UNAUTHENTICATED to an anonymous caller whose params, query and body are all invalid', async () => {
    const anon = new ApiClient(hub.httpUrl);
    const wrong: string[] = [];
    for (const { method, path } of operations) {
      if (PUBLIC.some((p) => p.test(`${method} ${path}`))) continue;
      // Every kind of id refuses a blank, a capital and a '!'; bookingId and sessionId refuse a non-number.
      const url = `${path.replace(/\{[^}]+\}/g, 'NOT%20AN%20ID!')}?from=never&limit=-1&bogus=1`;
      const hasBody = method !== 'GET' && method !== 'DELETE';
      const res = await anon.json<ApiError>(method, url, hasBody ? { bogus: true, siteIds: 'x' } : undefined);
      if (res.status !== 401 || res.body?.code !== 'UNAUTHENTICATED') {
        wrong.push(`${method} ${path} → ${res.status} ${res.body?.code}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('still validates once the caller is logged in, so the walk above is not vacuous', async () => {
    const admin = new ApiClient(hub.httpUrl);
    await admin.login();
    const res = await admin.json<ApiError>('POST', '/api/sites/NOT%20AN%20ID!/appointment-sessions', {
      bogus: true,
    });
    expect(res).toMatchObject({ status: 400, body: { code: 'VALIDATION' } });
  });
});
