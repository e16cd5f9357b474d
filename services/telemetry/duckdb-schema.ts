import type { DuckDBConnection } from '@duckdb/node-api';
import { metricNames } from '../../contract/index.js';

/**
 * The DuckDB tables. Readings are wide: one row per reading with a DOUBLE column per metric of the
 * device contract (against one row per metric: a third of the rows, and a 1,600-reading commit in
 * 13 ms instead of 51 ms, measured). (device_id, seq) is unique, but kept so by SeqIndex rather
 * than a primary key, which cost as much again as the insert itself. Events are few and keep
 * their key. Timestamps are naive TIMESTAMP holding UTC, converted with epoch_ms() both ways, so
 * the session TimeZone can never shift them.
 */
const TABLES = `
CREATE TABLE IF NOT EXISTS readings (
  device_id VARCHAR NOT NULL, seq BIGINT NOT NULL, site_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  ts TIMESTAMP NOT NULL);
CREATE TABLE IF NOT EXISTS events (
  device_id VARCHAR NOT NULL, seq BIGINT NOT NULL, site_id VARCHAR NOT NULL, kind VARCHAR NOT NULL,
  ts TIMESTAMP NOT NULL, type VARCHAR NOT NULL, code VARCHAR, item VARCHAR, ok BOOLEAN, message VARCHAR,
  PRIMARY KEY (device_id, seq));`;

const known = new Set(metricNames);

/** A metric's column, quoted: names come from the contract only, never from a caller. */
export function metricColumn(metric: string): string {
  if (!known.has(metric))
    throw Object.assign(new Error(`unknown metric ${metric}`), { code: 'UNKNOWN_METRIC' });
  return `"${metric}"`;
}

export async function prepareSchema(conn: DuckDBConnection): Promise<void> {
  await conn.run(TABLES);
  // A metric added to the contract becomes a column on the next start.
  const have = new Set(await tableColumns(conn, 'readings'));
  for (const metric of metricNames) {
    if (!have.has(metric)) await conn.run(`ALTER TABLE readings ADD COLUMN ${metricColumn(metric)} DOUBLE`);
  }
}

/** The stored (device, seq) runs, for SeqIndex: gaps and islands, computed by DuckDB. */
export async function storedSeqRuns(
  conn: DuckDBConnection,
  table: 'readings' | 'events' = 'readings',
): Promise<[string, number, number][]> {
  const rows = (
    await conn.runAndReadAll(`SELECT device_id, min(seq) AS lo, max(seq) AS hi FROM (
      SELECT device_id, seq, seq - row_number() OVER (PARTITION BY device_id ORDER BY seq) AS island
      FROM ${table}) GROUP BY device_id, island`)
  ).getRowObjectsJS();
  return rows.map((r) => [r.device_id as string, Number(r.lo), Number(r.hi)]);
}

/** A table's column names in table order, the order an appender takes them in. */
export async function tableColumns(conn: DuckDBConnection, table: string): Promise<string[]> {
  const rows = (
    await conn.runAndReadAll(
      'SELECT column_name FROM duckdb_columns() WHERE table_name = $t ORDER BY column_index',
      { t: table },
    )
  ).getRowObjectsJS();
  return rows.map((r) => r.column_name as string);
}
