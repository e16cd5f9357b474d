import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError } from '../contract/index.js';
import { ADMIN_PASSWORD, testHub } from './helpers/hub.js';

/** A login as a TLS proxy would forward it: the client's address, scheme and host in X-Forwarded-*. */
function forwardedLogin(
  hubUrl: string,
  client: string,
  extra: Record<string, string> = {},
  password = ADMIN_PASSWORD,
) {
  return fetch(`${hubUrl}/api/auth/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-forwarded-for': client,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'hub.example.org',
      ...extra,
    },
    body: JSON.stringify({ username: 'admin', password }),
  });
}

describe('behind a TLS proxy, with TRUST_PROXY (issue 8 item 3)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;

  beforeAll(async () => {
    hub = await testHub({ TRUST_PROXY: '127.0.0.1', LOGIN_RATE_LIMIT_MAX: 2 });
  });
  afterAll(async () => hub?.close());

  it('marks the session cookie Secure when the proxy says the request came over HTTPS', async () => {
    const res = await forwardedLogin(hub.httpUrl, '203.0.113.1');
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).toMatch(/;\s*Secure/i);
  });

  it('limits login attempts per resident address, not per proxy', async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await forwardedLogin(hub.httpUrl, '203.0.113.7', {}, 'wrong-pass')).status);
    expect(statuses).toEqual([401, 401, 429]);
    // Another resident behind the same proxy still has their own attempts.
    const other = await forwardedLogin(hub.httpUrl, '203.0.113.8', {}, 'wrong-pass');
    expect(((await other.json()) as ApiError).code).toBe('BAD_CREDENTIALS');
  });

  it("accepts the public host's Origin as the hub's own, and still refuses another", async () => {
    const own = await forwardedLogin(hub.httpUrl, '203.0.113.9', { origin: 'https://hub.example.org' });
    expect(own.status).toBe(200);
    const other = await forwardedLogin(hub.httpUrl, '203.0.113.9', { origin: 'https://evil.example.org' });
    expect(((await other.json()) as ApiError).code).toBe('CSRF_REFUSED');
  });
});

describe('without TRUST_PROXY, forwarded headers are not believed', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;

  beforeAll(async () => {
    hub = await testHub({ LOGIN_RATE_LIMIT_MAX: 2 });
  });
  afterAll(async () => hub?.close());

  it('sets no Secure cookie over plain HTTP whatever X-Forwarded-Proto claims, and limits by the real address', async () => {
    const res = await forwardedLogin(hub.httpUrl, '203.0.113.1');
    expect(res.status).toBe(200);
    expect(res.headers.get('set-cookie')).not.toMatch(/;\s*Secure/i);
    await forwardedLogin(hub.httpUrl, '203.0.113.2', {}, 'wrong-pass');
    // A third address, but one real client: its attempts are spent.
    expect((await forwardedLogin(hub.httpUrl, '203.0.113.3', {}, 'wrong-pass')).status).toBe(429);
  });
});
