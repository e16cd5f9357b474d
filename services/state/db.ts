import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { checkMigrations } from './data-version.js';
import { migrations } from './migrations.js';
import { isPostgres, openPostgres } from './postgres.js';
import type { Database } from './tables.js';

export type StateDb = Kysely<Database>;

export interface StateDbOptions {
  /** postgres://…: state on that server (issue 13); otherwise SQLite in `dataDir`. */
  databaseUrl?: string;
  poolSize?: number;
}

/**
 * State (sites, devices, users, sessions, ingest error counts) through Kysely: in SQLite, or on
 * PostgreSQL when DATABASE_URL is set. One migration set runs on both.
 */
export async function openStateDb(dataDir: string, opts: StateDbOptions = {}): Promise<StateDb> {
  if (opts.databaseUrl) {
    const db = await openPostgres(opts.databaseUrl, opts.poolSize ?? 10);
    await migrate(db).catch(async (err) => {
      await db.destroy();
      throw err;
    });
    return db;
  }
  fs.mkdirSync(dataDir, { recursive: true });
  const sqlite = new SQLite(path.join(dataDir, 'state.sqlite'));
  // WAL lets the dashboard read while ingest counts errors; NORMAL is durable across a process
  // crash, which is the failure the hub must survive (a power cut may lose the last transaction).
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  sqliteOf.set(db, sqlite);
  await migrate(db);
  return db;
}

const sqliteOf = new WeakMap<StateDb, SQLite.Database>();

/**
 * Copies SQLite state to `file` with SQLite's online backup API, on the hub's own connection: its
 * writes during the copy are copied too, so the copy never restarts and requests never wait.
 * Undefined on PostgreSQL, which has its own tools (pg_dump).
 */
export async function backupStateDb(db: StateDb, file: string): Promise<{ pages: number } | undefined> {
  const sqlite = sqliteOf.get(db);
  if (!sqlite) return undefined;
  const { totalPages } = await sqlite.backup(file);
  return { pages: totalPages };
}

export async function migrate(db: StateDb): Promise<void> {
  checkMigrations(await appliedMigrations(db), await writtenBy(db));
  // PostgreSQL: Kysely looks for its migration tables in every schema unless told which; name the
  // one on search_path, or a hub sharing the database with another schema's hub skips creating them.
  const migrationTableSchema = isPostgres(db)
    ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0]?.s
    : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    ...(migrationTableSchema && { migrationTableSchema }),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`state migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}

/** The release that last wrote this state (hub_meta, from migration 007 on). */
async function writtenBy(db: StateDb): Promise<string | undefined> {
  const r = await sql<{ value: string }>`select value from hub_meta where key = 'app_version'`
    .execute(db)
    .catch(() => ({ rows: [] as { value: string }[] }));
  return r.rows[0]?.value;
}

/** Names of the state migrations that have run, oldest first (none on a new database). */
export async function appliedMigrations(db: StateDb): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from kysely_migration order by name`
    .execute(db)
    .catch(() => ({ rows: [] as { name: string }[] }));
  return rows.rows.map((r) => r.name);
}

/** The state store's readiness: it answers a query. */
export async function stateDbReady(db: StateDb): Promise<boolean> {
  return sql`select 1`.execute(db).then(
    () => true,
    () => false,
  );
}
