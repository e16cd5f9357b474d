import { type ColumnDefinitionBuilder, Kysely, PostgresAdapter, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './tables.js';

/**
 * PostgreSQL's int8 (bigint, and every count(*)) arrives as a string, since it may exceed 2^53. Ours
 * never does: bigints are epoch milliseconds and counts are of rows, so they become numbers here,
 * per pool (not through pg's global `types`, which would change other users of the module).
 */
const INT8 = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 && format !== 'binary') return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** The state store cannot reach its PostgreSQL server: start-up stops with this one line. */
export class StateDbUnreachableError extends Error {
  readonly code = 'STATE_DB_UNREACHABLE';
}

/**
 * State on PostgreSQL (DATABASE_URL=postgres://…), pooled. The pool opens connections lazily, so
 * one is taken here to fail at start-up, with the reason, rather than on the first request.
 */
export async function openPostgres(url: string, poolSize: number): Promise<Kysely<Database>> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types });
  // An idle client losing its server emits on the pool; unhandled, that would end the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    const where = safeUrl(url);
    throw new StateDbUnreachableError(
      `state database ${where} is unreachable: ${(err as Error).message || (err as { code?: string }).code}`,
    );
  }
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** The URL without its password, fit for a log line. */
function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    return `${u.host}${u.pathname}`;
  } catch {
    return '(DATABASE_URL)';
  }
}

/** True when `db` talks to PostgreSQL; migrations and the few engine-specific statements ask. */
export function isPostgres(db: Kysely<unknown> | Kysely<Database>): boolean {
  return (db as Kysely<unknown>).getExecutor().adapter instanceof PostgresAdapter;
}

/** The PostgreSQL error code (SQLSTATE) of a failed query, if it is one. */
export function pgCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * An integer key the database assigns, for migrations. SQLite makes an INTEGER PRIMARY KEY its
 * auto-increment rowid; PostgreSQL needs an identity column (without it, inserts fail with 23502,
 * issue 13). Migrations 001, 002 and 004-alerts use this although they have run on deployed hubs:
 * SQLite gets exactly the column it always got, and no deployment has ever run them on PostgreSQL,
 * so nothing that ran is changed.
 */
export function generatedId(db: Kysely<unknown>) {
  const pg = isPostgres(db);
  return (c: ColumnDefinitionBuilder) =>
    pg ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey();
}
