import { type DuckDBConnection, type DuckDBPreparedStatement, VARCHAR } from '@duckdb/node-api';
import type { EventRow } from '../../contract/index.js';

type SqlType = 'VARCHAR' | 'BIGINT' | 'DOUBLE' | 'BOOLEAN';

/**
 * INSERT [OR IGNORE] ... SELECT unnest(...) with the whole batch bound as one JSON parameter holding
 * one array per column. Binding list values would cost a native call per element on the event loop
 * (about 100 ms for a 20,000-row batch, measured); JSON.stringify takes a few ms and DuckDB parses
 * it on its own threads. json_transform_strict refuses a value of the wrong type instead of
 * storing NULL. Statements are prepared once per column set and reused: planning an INSERT on
 * every commit cost more than a small commit itself. Readings, the bulk of it, take the appender
 * instead (duckdb-append.ts); events keep this path for INSERT OR IGNORE.
 */
type Column<T> = [name: string, type: SqlType, pick: (row: T) => unknown];

export function bulkInsert<T>(table: string, verb: 'INSERT' | 'INSERT OR IGNORE') {
  const prepared = new Map<string, Promise<DuckDBPreparedStatement>>();
  const statement = (conn: DuckDBConnection, columns: Column<T>[]) => {
    const key = columns.map(([name]) => name).join(',');
    let stmt = prepared.get(key);
    if (!stmt) {
      // Columns travel as c0, c1, ...: metric names need quoting in SQL, JSON keys would not.
      const shape = JSON.stringify(Object.fromEntries(columns.map(([, type], i) => [`c${i}`, [type]])));
      // Timestamps travel as epoch milliseconds and become TIMESTAMP here.
      const select = columns.map(([name], i) =>
        name === 'ts' ? `epoch_ms(unnest(j.c${i}))` : `unnest(j.c${i})`,
      );
      stmt = conn.prepare(`${verb} INTO ${table} (${columns.map(([name]) => name).join(', ')})
        SELECT ${select.join(', ')} FROM (SELECT json_transform_strict($rows, '${shape}') AS j)`);
      prepared.set(key, stmt);
    }
    return stmt;
  };
  return {
    async insert(conn: DuckDBConnection, columns: Column<T>[], rows: readonly T[]): Promise<number> {
      if (rows.length === 0) return 0;
      const json = JSON.stringify(
        Object.fromEntries(columns.map(([, , pick], i) => [`c${i}`, rows.map(pick)])),
      );
      const stmt = await statement(conn, columns);
      stmt.bind({ rows: json }, { rows: VARCHAR });
      return (await stmt.run()).rowsChanged;
    },
    async destroy() {
      for (const stmt of prepared.values()) (await stmt.catch(() => null))?.destroySync();
      prepared.clear();
    },
  };
}

export const eventColumns: Column<EventRow>[] = [
  ['device_id', 'VARCHAR', (x) => x.deviceId],
  ['seq', 'BIGINT', (x) => x.seq],
  ['site_id', 'VARCHAR', (x) => x.siteId],
  ['kind', 'VARCHAR', (x) => x.kind],
  ['ts', 'BIGINT', (x) => x.ts],
  ['type', 'VARCHAR', (x) => x.type],
  ['code', 'VARCHAR', (x) => x.code],
  ['item', 'VARCHAR', (x) => x.item],
  ['ok', 'BOOLEAN', (x) => x.ok],
  ['message', 'VARCHAR', (x) => x.message],
];
