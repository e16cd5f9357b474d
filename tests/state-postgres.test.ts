import net from 'node:net';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../services/config.js';
import { openStateDb } from '../services/state/db.js';
import { testHub } from './helpers/hub.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

const postgres = STATE_BACKENDS.find((b) => b.name === 'postgres');

describe('state on PostgreSQL: start and stop', () => {
  const closers: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of closers) await c();
  });

  it('stops the start with STATE_DB_UNREACHABLE when the server does not answer', async () => {
    // A port nobody listens on: taken and released.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const err = await testHub({ DATABASE_URL: `postgres://hub:secret@127.0.0.1:${port}/state` }).catch(
      (e: Error & { code?: string }) => e,
    );
    expect((err as { code?: string }).code).toBe('STATE_DB_UNREACHABLE');
    expect((err as Error).message).toContain(`127.0.0.1:${port}/state`);
    expect((err as Error).message).not.toContain('secret');
  });

  it.runIf(postgres)('opens at most DATABASE_POOL_SIZE connections and closes them on stop', async () => {
    const store = await postgres!.create();
    closers.push(store.drop);
    const url = new URL(store.env.DATABASE_URL!);
    const app = `yz-pool-${process.pid}-${Date.now()}`;
    url.searchParams.set('application_name', app);
    const hub = await testHub({ DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: 3 });
    const open = async () => {
      const c = await postgres!.admin!(store.env);
      try {
        const { rows } = await c.query<{ n: string }>(
          'select count(*) as n from pg_stat_activity where application_name = $1',
          [app],
        );
        return Number(rows[0]!.n);
      } finally {
        await c.end();
      }
    };
    await Promise.all(Array.from({ length: 20 }, () => fetch(`${hub.httpUrl}/readyz`)));
    expect(await open()).toBeGreaterThan(0);
    expect(await open()).toBeLessThanOrEqual(3);
    await hub.close();
    expect(await open()).toBe(0);
  });

  it.runIf(postgres)(
    'gives bigints and counts as numbers, and migrates a second time as a no-op',
    async () => {
      const store = await postgres!.create();
      closers.push(store.drop);
      const open = () => openStateDb('/nonexistent', { databaseUrl: store.env.DATABASE_URL!, poolSize: 2 });
      let db = await open();
      await db.destroy();
      db = await open();
      try {
        const { rows } = await sql<{
          n: unknown;
          big: unknown;
        }>`select count(*) as n, 1796162017746::bigint as big`.execute(db);
        expect(rows[0]).toEqual({ n: 1, big: 1796162017746 });
      } finally {
        await db.destroy();
      }
    },
  );
});

describe('engine settings', () => {
  it('refuses a DATABASE_URL that is not postgres:// and INFLUX_* given in part, all at once', () => {
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: 'mysql://x', INFLUX_URL: 'http://127.0.0.1:8086', INFLUX_ORG: 'o' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const text = (err as Error).message;
    for (const k of ['DATABASE_URL', 'INFLUX_TOKEN', 'INFLUX_BUCKET']) expect(text).toContain(k);
    expect(text).not.toContain('INFLUX_ORG');
  });
});
