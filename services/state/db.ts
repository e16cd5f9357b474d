import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
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
  await migrate(db);
  return db;
}

export async function migrate(db: StateDb): Promise<void> {
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

/** The state store's readiness: it answers a query. */
export async function stateDbReady(db: StateDb): Promise<boolean> {
  return sql`select 1`.execute(db).then(
    () => true,
    () => false,
  );
}
