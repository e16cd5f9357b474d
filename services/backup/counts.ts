import { DuckDBInstance } from '@duckdb/node-api';
import SQLite from 'better-sqlite3';

/**
 * What a backup holds, counted in its copies (not in the live stores): the numbers a restore is
 * checked against, and proof the copies open.
 */
export function stateCounts(file: string): { tables: Record<string, number>; migrations: string[] } {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    const names = db
      .prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
      )
      .pluck()
      .all() as string[];
    const tables = Object.fromEntries(
      names.map((n) => [n, Number(db.prepare(`SELECT count(*) FROM "${n}"`).pluck().get())]),
    );
    return { tables, migrations: migrationsIn(db) };
  } finally {
    db.close();
  }
}

/** Names of the state migrations applied in an open SQLite state file (none when it has none). */
export function migrationsIn(db: SQLite.Database): string[] {
  const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'kysely_migration'").get();
  if (!has) return [];
  return db.prepare('SELECT name FROM kysely_migration ORDER BY name').pluck().all() as string[];
}

export function journalRows(file: string): number {
  const db = new SQLite(file, { readonly: true, fileMustExist: true });
  try {
    return Number(db.prepare('SELECT coalesce(sum(rows), 0) FROM entries').pluck().get());
  } finally {
    db.close();
  }
}

export async function telemetryCounts(file: string): Promise<{ readings: number; events: number }> {
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY', threads: '1' });
  const conn = await instance.connect();
  try {
    const [row] = (
      await conn.runAndReadAll(
        'SELECT (SELECT count(*) FROM readings) AS readings, (SELECT count(*) FROM events) AS events',
      )
    ).getRowObjectsJS();
    return { readings: Number(row?.readings), events: Number(row?.events) };
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}
