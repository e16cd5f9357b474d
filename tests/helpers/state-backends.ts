import { randomBytes } from 'node:crypto';
import os from 'node:os';
import pg from 'pg';

/**
 * Where the state and appointments suites run: SQLite always, and the machine's PostgreSQL
 * (127.0.0.1:5432, database `test`; .ci/run starts it) when it answers. Each hub gets a schema of its
 * own, named on its connections' search_path, and dropped after, so parallel runs never collide.
 */
export interface StateBackend {
  name: 'sqlite' | 'postgres';
  /** Hub settings for one fresh, empty state store, and how to drop it afterwards. */
  create(): Promise<{ env: Record<string, string>; drop(): Promise<void> }>;
  /** Runs SQL as the test (not the hub) in that store; PostgreSQL only. */
  admin?: (env: Record<string, string>) => Promise<pg.Client>;
}

export const PG_TEST_URL =
  process.env.PG_TEST_URL ?? `postgres://${os.userInfo().username}@127.0.0.1:5432/test`;

export const STATE_SQLITE: StateBackend = {
  name: 'sqlite',
  create: async () => ({ env: {}, drop: async () => {} }),
};

function postgres(): StateBackend {
  const client = async (url = PG_TEST_URL) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    return c;
  };
  return {
    name: 'postgres',
    async create() {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const c = await client();
      try {
        await c.query(`create schema ${schema}`);
      } finally {
        await c.end();
      }
      const url = new URL(PG_TEST_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      return {
        env: { DATABASE_URL: url.toString(), DATABASE_POOL_SIZE: '10' },
        async drop() {
          const d = await client();
          try {
            await d.query(`drop schema ${schema} cascade`);
          } finally {
            await d.end();
          }
        },
      };
    },
    admin: (env) => client(env.DATABASE_URL),
  };
}

/** One backend by name, unprobed (HUB_TEST_STATE). */
export function stateBackend(name: StateBackend['name']): StateBackend {
  return name === 'postgres' ? postgres() : STATE_SQLITE;
}

/** SQLite, plus PostgreSQL if it answers; says why when it does not. */
export async function stateBackends(): Promise<StateBackend[]> {
  const c = new pg.Client({ connectionString: PG_TEST_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    // Once per database, before the hubs' migrations race to create it (extensions are per database).
    await c.query('create extension if not exists btree_gist').catch(() => {});
    return [STATE_SQLITE, postgres()];
  } catch (err) {
    console.log(`state suites skip PostgreSQL: ${PG_TEST_URL} does not answer (${(err as Error).message})`);
    return [STATE_SQLITE];
  } finally {
    await c.end().catch(() => {});
  }
}

/**
 * The files holding a table's rows and its indexes on this machine's PostgreSQL, after a CHECKPOINT wrote its dirty
 * pages out: what someone reading the disk would find. Needs a superuser and a local server.
 */
export async function postgresHeapFiles(
  backend: StateBackend,
  env: Record<string, string>,
  table: string,
): Promise<string[]> {
  const c = await backend.admin!(env);
  try {
    await c.query('checkpoint');
    const { rows } = await c.query<{ f: string }>(
      `select current_setting('data_directory') || '/' || pg_relation_filepath(c.oid) as f
         from pg_class c
        where c.oid = $1::regclass or c.oid in (select indexrelid from pg_index where indrelid = $1::regclass)`,
      [table],
    );
    return rows.map((r) => r.f);
  } finally {
    await c.end();
  }
}
