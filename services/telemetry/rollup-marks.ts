import { type DuckDBConnection, type DuckDBPreparedStatement, VARCHAR } from '@duckdb/node-api';
import type { EventRow, ReadingRow } from '../../contract/index.js';
import { fiveMinuteOf } from './rollup-calendar.js';

/**
 * Marks the five-minute buckets a write touched as not rolled up yet, inside the write's own
 * transaction (see rollup-schema.ts). Only rows the store found new are marked: a resend was
 * marked with its first copy. One JSON parameter, as in duckdb-bulk-insert.ts.
 */
export function rollupMarker() {
  let stmt: Promise<DuckDBPreparedStatement> | undefined;
  return {
    async mark(conn: DuckDBConnection, readings: readonly ReadingRow[], events: readonly EventRow[]) {
      const marks = new Map<string, [string, string, number]>();
      for (const r of [...readings, ...events]) {
        const b = fiveMinuteOf(r.ts);
        marks.set(`${r.deviceId}\0${b}`, [r.deviceId, r.siteId, b]);
      }
      if (marks.size === 0) return;
      const rows = [...marks.values()];
      stmt ??= conn.prepare(
        `INSERT INTO rollup_dirty SELECT unnest(j.d), unnest(j.s), unnest(j.b)
         FROM (SELECT json_transform_strict($rows, '{"d":["VARCHAR"],"s":["VARCHAR"],"b":["BIGINT"]}') AS j)`,
      );
      const s = await stmt;
      s.bind(
        {
          rows: JSON.stringify({
            d: rows.map((x) => x[0]),
            s: rows.map((x) => x[1]),
            b: rows.map((x) => x[2]),
          }),
        },
        { rows: VARCHAR },
      );
      await s.run();
    },
    async destroy() {
      (await stmt?.catch(() => null))?.destroySync();
      stmt = undefined;
    },
  };
}
