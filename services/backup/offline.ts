import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import type { Config } from '../config.js';
import { appliedMigrations } from '../state/db.js';
import { openPostgres } from '../state/postgres.js';
import { openDuckDbStore } from '../telemetry/duckdb-store.js';
import type { BackupSources } from './take.js';

/**
 * The sources of a backup of a stopped hub: its files, opened here. A running hub is asked through
 * its control socket instead (it holds DuckDB's lock and the only consistent view).
 */
export async function offlineSources(config: Config): Promise<BackupSources & { close(): Promise<void> }> {
  const closers: (() => Promise<void> | void)[] = [];
  const copySqlite = async (from: string, to: string) => {
    const db = new SQLite(from, { readonly: true, fileMustExist: true });
    try {
      const { totalPages } = await db.backup(to);
      return { pages: totalPages };
    } finally {
      db.close();
    }
  };
  const telemetryFile = path.join(config.dataDir, 'telemetry.duckdb');
  const store =
    config.INFLUX_URL || !fs.existsSync(telemetryFile) ? undefined : await openDuckDbStore(telemetryFile);
  if (store) closers.push(() => store.close());
  return {
    state: async (file) => {
      if (config.DATABASE_URL) return undefined;
      return copySqlite(path.join(config.dataDir, 'state.sqlite'), file);
    },
    migrations: async () => {
      if (!config.DATABASE_URL) return [];
      const db = await openPostgres(config.DATABASE_URL, 2);
      closers.push(() => db.destroy());
      return appliedMigrations(db);
    },
    journal: async (file) => {
      const journal = path.join(config.journalDir, 'journal.sqlite');
      if (fs.existsSync(journal)) return copySqlite(journal, file);
      // A hub that never journaled anything: an empty journal, so every backup has the same files.
      const empty = new SQLite(file);
      empty.exec(
        'CREATE TABLE entries (id INTEGER PRIMARY KEY AUTOINCREMENT, rows INTEGER NOT NULL, body TEXT NOT NULL)',
      );
      empty.close();
      return undefined;
    },
    telemetry: store ?? {},
    close: async () => {
      for (const c of closers.reverse()) await c();
    },
  };
}
