import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { User } from '../contract/index.js';
import { startHub } from '../services/hub.js';
import { migrations } from '../services/state/migrations.js';
import { APP_VERSION } from '../services/version.js';
import { ApiClient } from './helpers/hub.js';
import { freePorts, startHubProcess } from './helpers/hub-process.js';
import { storedSeqs } from './helpers/publisher.js';

const FIXTURES = path.join(import.meta.dirname, 'fixtures');
const hubEnv = (dataDir: string) => ({
  HUB_DATA_DIR: dataDir,
  HTTP_PORT: 0,
  HTTP_HOST: '127.0.0.1',
  MQTT_PORT: 0,
  MQTT_HOST: '127.0.0.1',
  LOG_LEVEL: 'silent' as const,
});

describe('upgrades', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });
  /** A data directory holding a copy of a release's fixture (tests/fixtures/make-release-fixture.ts). */
  const fromRelease = async (version: string) => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-upgrade-'));
    dirs.push(dir);
    await fs.cp(path.join(FIXTURES, `release-${version}`), dir, { recursive: true });
    return dir;
  };

  it('opens the data of release 0.1.0, migrates it forward and keeps everything in it', async () => {
    const dataDir = await fromRelease('0.1.0');
    const hub = await startHub(hubEnv(dataDir));
    try {
      const api = new ApiClient(hub.httpUrl);
      expect((await api.login('admin', 'fixture-admin-password')).status).toBe(200);
      const users = (await api.json<{ users: User[] }>('GET', '/api/users')).body.users;
      expect(users.map((u) => [u.username, u.role, u.siteIds])).toEqual([
        ['admin', 'admin', []],
        ['manager1', 'manager', ['fx-north']],
      ]);
      const sites = (await api.json<{ sites: { id: string }[] }>('GET', '/api/sites')).body.sites;
      expect(sites.map((s) => s.id).sort()).toEqual(['fx-north', 'fx-south']);
      const sessions = await api.json<{ sessions: { booked: number; doctorName: string }[] }>(
        'GET',
        '/api/sites/fx-north/appointment-sessions?from=2031-03-01&to=2031-03-10',
      );
      expect(sessions.body.sessions).toMatchObject([{ booked: 1, doctorName: '王医生' }]);
      // A manager of 0.1.0 logs in with the password they had.
      expect((await new ApiClient(hub.httpUrl).login('manager1', 'fixture-manager-password')).status).toBe(
        200,
      );
      // What migrations added works on the old data.
      expect(
        (
          await api.json('POST', '/api/auth/password', {
            currentPassword: 'fixture-admin-password',
            newPassword: 'a-new-admin-password',
          })
        ).status,
      ).toBe(200);
    } finally {
      await hub.close();
    }
    const db = new SQLite(path.join(dataDir, 'state.sqlite'), { readonly: true });
    const applied = db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all();
    const meta = db.prepare("SELECT value FROM hub_meta WHERE key = 'app_version'").pluck().get();
    db.close();
    expect(applied).toEqual(Object.keys(migrations));
    expect(meta).toBe(APP_VERSION);
    const readings = await storedSeqs(path.join(dataDir, 'telemetry.duckdb'));
    expect(readings.size).toBe(100);
    expect(JSON.parse(await fs.readFile(path.join(dataDir, 'hub-version.json'), 'utf8')).app).toBe(
      APP_VERSION,
    );
  }, 60_000);

  it('refuses, with a clear message, state written by a newer release', async () => {
    const dataDir = await fromRelease('0.1.0');
    const db = new SQLite(path.join(dataDir, 'state.sqlite'));
    db.prepare(
      "INSERT INTO kysely_migration (name, timestamp) VALUES ('999-from-the-future', '2030-01-01')",
    ).run();
    db.close();
    await expect(startHub(hubEnv(dataDir))).rejects.toMatchObject({
      code: 'HUB_DATA_TOO_NEW',
      message: expect.stringMatching(
        /written by Yizhan Hub a newer release \(migrations 999-from-the-future\)/,
      ),
    });
    // Nothing was changed: no migration of this release ran on it.
    const after = new SQLite(path.join(dataDir, 'state.sqlite'), { readonly: true });
    expect(after.prepare('SELECT count(*) FROM kysely_migration').pluck().get()).toBe(7);
    after.close();
  });

  it('npm start refuses a data directory written by a newer version, in one line', async () => {
    const dataDir = await fromRelease('0.1.0');
    await fs.writeFile(path.join(dataDir, 'hub-version.json'), JSON.stringify({ app: '99.0.0' }));
    const [http, mqtt] = await freePorts(2);
    const hub = startHubProcess({ HUB_DATA_DIR: dataDir, HTTP_PORT: String(http), MQTT_PORT: String(mqtt) });
    expect(await hub.exited).toBe(1);
    expect(hub.output.stderr.trim()).toBe(
      `Yizhan Hub cannot start: the data directory ${dataDir} was written by Yizhan Hub 99.0.0; this is ${APP_VERSION}, which cannot read it. ` +
        `Start 99.0.0 or newer, or restore a backup taken with ${APP_VERSION} into an empty data directory (npm run restore -- DIR)`,
    );
    // Untouched: the state is still 0.1.0's.
    const db = new SQLite(path.join(dataDir, 'state.sqlite'), { readonly: true });
    expect(db.prepare('SELECT count(*) FROM kysely_migration').pluck().get()).toBe(6);
    db.close();
  }, 60_000);
});
