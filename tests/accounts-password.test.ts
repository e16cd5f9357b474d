import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, User } from '../contract/index.js';
import { startHub } from '../services/hub.js';
import { runCli } from './helpers/cli.js';
import { ADMIN_PASSWORD, ApiClient, liveClient, testHub } from './helpers/hub.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

const adminCli = 'services/admin/cli.ts';

describe.each(STATE_BACKENDS)('accounts on $name', (backend) => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  beforeAll(async () => {
    hub = await testHub({ LOGIN_LOCK_AFTER: 3, LOGIN_LOCK_MIN: 10 }, { state: backend });
    admin = new ApiClient(hub.httpUrl);
    await admin.login();
    for (const username of ['alice', 'bob', 'carol']) {
      await admin.json('POST', '/api/users', {
        username,
        password: `${username}-password-1`,
        role: 'planner',
      });
    }
  });
  afterAll(async () => hub?.close());

  it('changes your own password with the current one, and ends your other sessions', async () => {
    const here = new ApiClient(hub.httpUrl);
    const elsewhere = new ApiClient(hub.httpUrl);
    await here.login('alice', 'alice-password-1');
    await elsewhere.login('alice', 'alice-password-1');

    const wrong = await here.json<ApiError>('POST', '/api/auth/password', {
      currentPassword: 'not-it',
      newPassword: 'alice-password-2',
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'BAD_CREDENTIALS', fields: [{ path: 'body.currentPassword' }] });
    const short = await here.json<ApiError>('POST', '/api/auth/password', {
      currentPassword: 'alice-password-1',
      newPassword: 'short',
    });
    expect(short.status).toBe(400);
    expect(short.body.code).toBe('VALIDATION');

    const ok = await here.json<{ user: User }>('POST', '/api/auth/password', {
      currentPassword: 'alice-password-1',
      newPassword: 'alice-password-2',
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user.username).toBe('alice');
    expect((await here.json('GET', '/api/auth/me')).status).toBe(200);
    expect((await elsewhere.json('GET', '/api/auth/me')).status).toBe(401);
    expect((await new ApiClient(hub.httpUrl).login('alice', 'alice-password-1')).status).toBe(401);
    expect((await new ApiClient(hub.httpUrl).login('alice', 'alice-password-2')).status).toBe(200);
    // Not logged in: no change.
    const anon = await new ApiClient(hub.httpUrl).json<ApiError>('POST', '/api/auth/password', {
      currentPassword: 'alice-password-2',
      newPassword: 'alice-password-3',
    });
    expect(anon.body.code).toBe('UNAUTHENTICATED');
  });

  it('locks an account after repeated wrong passwords from any address, until the time passes or an admin sets one', async () => {
    const guess = () =>
      new ApiClient(hub.httpUrl).json<ApiError>('POST', '/api/auth/login', {
        username: 'bob',
        password: 'guess',
      });
    expect((await guess()).body.code).toBe('BAD_CREDENTIALS');
    expect((await guess()).body.code).toBe('BAD_CREDENTIALS');
    const third = await guess();
    expect(third.status).toBe(423);
    expect(third.body.code).toBe('ACCOUNT_LOCKED');
    expect(third.body.message).toMatch(/locked for 10 more minutes/);
    // Locked: even the right password is refused, so guessing on gains nothing.
    const right = await new ApiClient(hub.httpUrl).json<ApiError>('POST', '/api/auth/login', {
      username: 'bob',
      password: 'bob-password-1',
    });
    expect(right.body.code).toBe('ACCOUNT_LOCKED');
    // Other accounts are not affected.
    expect((await new ApiClient(hub.httpUrl).login('carol', 'carol-password-1')).status).toBe(200);
    const users = (await admin.json<{ users: User[] }>('GET', '/api/users')).body.users;
    const bob = users.find((u) => u.username === 'bob')!;
    expect(
      (await admin.request('POST', `/api/users/${bob.id}/password`, { password: 'bob-password-2' })).status,
    ).toBe(204);
    expect((await new ApiClient(hub.httpUrl).login('bob', 'bob-password-2')).status).toBe(200);
  });

  it('prints a one-time password with npm run admin -- reset-password, which opens only the change form', async () => {
    const carol = new ApiClient(hub.httpUrl);
    await carol.login('carol', 'carol-password-1');
    const out = await runCli(adminCli, ['reset-password', 'carol'], {
      HUB_DATA_DIR: hub.dataDir,
      ...hub.stateEnv,
    });
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const password = /One-time password for carol: (\S+)/.exec(out.stdout)?.[1];
    expect(password).toBeDefined();
    // Through the running hub: her open session ended at once.
    expect((await carol.json('GET', '/api/auth/me')).status).toBe(401);
    expect((await new ApiClient(hub.httpUrl).login('carol', 'carol-password-1')).status).toBe(401);

    const fresh = new ApiClient(hub.httpUrl);
    const login = await fresh.json<{ user: User }>('POST', '/api/auth/login', {
      username: 'carol',
      password,
    });
    // login() keeps the cookie; json() does not, so log in again with the client helper.
    expect(login.body.user.mustChangePassword).toBe(true);
    await fresh.login('carol', password!);
    expect((await fresh.json<{ user: User }>('GET', '/api/auth/me')).body.user.mustChangePassword).toBe(true);
    const blocked = await fresh.json<ApiError>('GET', '/api/sites');
    expect(blocked.status).toBe(403);
    expect(blocked.body.code).toBe('PASSWORD_CHANGE_REQUIRED');
    const socket = liveClient(hub.httpUrl, fresh.cookie);
    const refused = await new Promise<string>((r) => socket.on('connect_error', (e) => r(e.message)));
    socket.close();
    expect(refused).toBe('PASSWORD_CHANGE_REQUIRED');

    const changed = await fresh.json<{ user: User }>('POST', '/api/auth/password', {
      currentPassword: password,
      newPassword: 'carol-password-2',
    });
    expect(changed.status).toBe(200);
    expect(changed.body.user.mustChangePassword).toBeUndefined();
    expect((await fresh.json('GET', '/api/sites')).status).toBe(200);

    const unknown = await runCli(adminCli, ['reset-password', 'nobody'], {
      HUB_DATA_DIR: hub.dataDir,
      ...hub.stateEnv,
    });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no user nobody/);
  }, 60_000);
});

describe('reset-password with no hub running', () => {
  it('resets the first admin on the state files directly', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-accounts-'));
    const env = {
      HUB_DATA_DIR: dataDir,
      HTTP_PORT: 0,
      MQTT_PORT: 0,
      HTTP_HOST: '127.0.0.1',
      MQTT_HOST: '127.0.0.1',
      LOG_LEVEL: 'silent' as const,
    };
    try {
      let hub = await startHub({ ...env, HUB_ADMIN_PASSWORD: ADMIN_PASSWORD });
      await hub.close();
      const out = await runCli(adminCli, ['reset-password', 'admin'], { HUB_DATA_DIR: dataDir });
      expect(out.code).toBe(0);
      const password = /One-time password for admin: (\S+)/.exec(out.stdout)![1]!;
      hub = await startHub(env);
      try {
        const api = new ApiClient(hub.httpUrl);
        expect((await api.login('admin', ADMIN_PASSWORD)).status).toBe(401);
        expect((await api.login('admin', password)).status).toBe(200);
        expect((await api.json<{ user: User }>('GET', '/api/auth/me')).body.user.mustChangePassword).toBe(
          true,
        );
      } finally {
        await hub.close();
      }
    } finally {
      await fs.rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
