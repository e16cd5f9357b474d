import { BIGINT, type DuckDBConnection, LIST, listValue, VARCHAR } from '@duckdb/node-api';

export const keyOf = (row: { deviceId: string; seq: number }): string => `${row.deviceId}\0${row.seq}`;

/** Which of the (deviceId, seq) keys of `rows` the table holds, as keyOf() strings. */
export async function keysInTable(
  conn: DuckDBConnection,
  table: 'readings' | 'events',
  rows: readonly { deviceId: string; seq: number }[],
): Promise<Set<string>> {
  if (rows.length === 0) return new Set();
  const found = (
    await conn.runAndReadAll(
      `SELECT t.device_id, t.seq FROM ${table} t
       JOIN (SELECT unnest($d) AS d, unnest($s) AS s) k ON t.device_id = k.d AND t.seq = k.s`,
      { d: listValue(rows.map((r) => r.deviceId)), s: listValue(rows.map((r) => BigInt(r.seq))) },
      { d: LIST(VARCHAR), s: LIST(BIGINT) },
    )
  ).getRowObjectsJS();
  return new Set(found.map((f) => `${f.device_id}\0${f.seq}`));
}
