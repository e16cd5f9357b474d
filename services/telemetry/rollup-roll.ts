import { BIGINT, type DuckDBConnection, type DuckDBValue, LIST, listValue } from '@duckdb/node-api';
import { num, numOrNull } from './duckdb-numbers.js';
import { bucketOf, FIVE_MIN } from './rollup-calendar.js';
import { fiveMinuteFromRaw, parentFromChildren, ROLLUP_COLUMNS } from './rollup-sql.js';

type Params = Record<string, DuckDBValue>;

/**
 * One roll takes the oldest dirty marks up to ROLL_MARKS of them, lying at most ROLL_SPAN_MS apart
 * (late data is rolled in its own pass, not with a day of raw rows between it and the present).
 * Rolling the demo's eight weeks (70 devices, 1.1 M five-minute buckets) in fixed 6-hour rolls ran
 * at 18–23 k buckets/s, in 24-hour rolls at 34 k/s, 72-hour rolls at 43 k/s (each roll rebuilds
 * its local days once, and a statement's fixed cost is shared by more buckets); a cap on marks
 * keeps a large fleet's roll (and its transaction) near the 20 k buckets of the demo's day.
 */
const ROLL_SPAN_MS = 24 * 3_600_000;
export const ROLL_MARKS = 20_000;

/** The roll's working tables, on the connection that rolls: the marks taken, their hours and days. */
export async function prepareRolls(c: DuckDBConnection): Promise<void> {
  await c.run(`
    CREATE TEMP TABLE wk5 (device_id VARCHAR, b BIGINT);
    CREATE TEMP TABLE wkh (device_id VARCHAR, t BIGINT, t_end BIGINT);
    CREATE TEMP TABLE wkd (device_id VARCHAR, t BIGINT, t_end BIGINT);
    CREATE TEMP TABLE wkb (b BIGINT, h BIGINT, h_end BIGINT, d BIGINT, d_end BIGINT);`);
}

/**
 * Rolls up the dirty buckets of the oldest few hours, in one transaction: recomputes their
 * five-minute rows from raw, then the local hours and days holding them from the rows below, and
 * deletes the marks it saw. A mark written meanwhile (a reading committed after this snapshot)
 * stays for the next roll. Resolves with the number of buckets rolled (0: nothing to do).
 * `closedBy`: only buckets that ended by then (ms), so a bucket still filling is not rolled again
 * and again; queries read it from raw meanwhile, as they read every dirty bucket.
 */
export async function rollOnce(
  c: DuckDBConnection,
  timeZone: string,
  closedBy = Number.MAX_SAFE_INTEGER,
  maxMarks = ROLL_MARKS,
): Promise<number> {
  const lo = await oldestDirty(c, closedBy);
  if (lo === null) return 0;
  const end = Math.min(lo + ROLL_SPAN_MS, closedBy - FIVE_MIN + 1);
  await c.run('BEGIN TRANSACTION');
  try {
    await c.run('DELETE FROM wk5; DELETE FROM wkh; DELETE FROM wkd; DELETE FROM wkb;');
    // Oldest first, a bucket's devices in a fixed order: a roll may end part way through a
    // bucket's devices (dense buckets make small rolls), and the next roll goes on from there.
    const rolled = (
      await c.run(
        `INSERT INTO wk5 SELECT device_id, b FROM (
           SELECT DISTINCT device_id, b FROM rollup_dirty WHERE b >= $lo AND b < $end
         ) ORDER BY b, device_id LIMIT ${Math.max(1, Math.floor(maxMarks))}`,
        { lo, end },
        { lo: BIGINT, end: BIGINT },
      )
    ).rowsChanged;
    // Local hours and days come from the zone rules here, for each distinct bucket only (a roll
    // spans a day at most: under 300), and SQL pairs them with the devices. Reading every
    // (device, bucket) key into JavaScript and binding the hours back cost the event loop up to
    // ~100 ms per 20,000 keys, a stall under ingest.
    const bs = (await c.runAndReadAll('SELECT DISTINCT b FROM wk5')).getRowObjectsJS();
    const map = bs.map(({ b }) => {
      const h = bucketOf(num(b), 'hour', timeZone, false);
      const d = bucketOf(num(b), 'day', timeZone, false);
      return [num(b), h.t, h.tEnd, d.t, d.tEnd] as const;
    });
    await fillBuckets(c, map);
    const hi = Math.max(...map.map((m) => m[0])) + FIVE_MIN;
    const span = { lo, hi } as Params;
    const spanT = { lo: BIGINT, hi: BIGINT };
    await c.run('INSERT INTO wkh SELECT DISTINCT k.device_id, m.h, m.h_end FROM wk5 k JOIN wkb m USING (b)');
    await c.run('INSERT INTO wkd SELECT DISTINCT k.device_id, m.d, m.d_end FROM wk5 k JOIN wkb m USING (b)');
    await c.run(
      `DELETE FROM rollup_5m USING wk5 WHERE rollup_5m.device_id = wk5.device_id AND rollup_5m.t = wk5.b
         AND rollup_5m.t >= $lo AND rollup_5m.t < $hi`,
      span,
      spanT,
    );
    await c.run(
      `INSERT INTO rollup_5m (${ROLLUP_COLUMNS}) SELECT ${ROLLUP_COLUMNS} FROM (${fiveMinuteFromRaw('wk5')})`,
      { lo, hi: hi + FIVE_MIN },
      spanT,
    );
    const bounds = (at: 1 | 3) => ({
      lo: Math.min(...map.map((m) => m[at])),
      hi: Math.max(...map.map((m) => m[at + 1]!)),
    });
    await rebuild(c, 'rollup_hour', 'rollup_5m', 'wkh', bounds(1));
    await rebuild(c, 'rollup_day', 'rollup_hour', 'wkd', bounds(3));
    await c.run(
      `DELETE FROM rollup_dirty USING wk5 WHERE rollup_dirty.device_id = wk5.device_id
         AND rollup_dirty.b = wk5.b AND rollup_dirty.b >= $lo AND rollup_dirty.b < $hi`,
      span,
      spanT,
    );
    await c.run('COMMIT');
    return Number(rolled);
  } catch (err) {
    await c.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The oldest dirty five-minute bucket (ms) that closed by `closedBy`, or null. */
export async function oldestDirty(
  c: DuckDBConnection,
  closedBy = Number.MAX_SAFE_INTEGER,
): Promise<number | null> {
  const rows = (
    await c.runAndReadAll(
      'SELECT min(b) AS b FROM rollup_dirty WHERE b <= $last',
      { last: closedBy - FIVE_MIN },
      {
        last: BIGINT,
      },
    )
  ).getRowObjectsJS();
  return numOrNull(rows[0]!.b);
}

async function fillBuckets(
  c: DuckDBConnection,
  rows: (readonly [number, number, number, number, number])[],
): Promise<void> {
  const column = (k: number) => listValue(rows.map((r) => BigInt(r[k]!)));
  await c.run(
    'INSERT INTO wkb SELECT unnest($b), unnest($h), unnest($he), unnest($d), unnest($de)',
    { b: column(0), h: column(1), he: column(2), d: column(3), de: column(4) },
    { b: LIST(BIGINT), h: LIST(BIGINT), he: LIST(BIGINT), d: LIST(BIGINT), de: LIST(BIGINT) },
  );
}

async function rebuild(
  c: DuckDBConnection,
  parent: string,
  child: string,
  keys: string,
  { lo, hi }: { lo: number; hi: number },
): Promise<void> {
  const p = { lo, hi };
  const t = { lo: BIGINT, hi: BIGINT };
  await c.run(
    `DELETE FROM ${parent} USING ${keys} WHERE ${parent}.device_id = ${keys}.device_id
       AND ${parent}.t = ${keys}.t AND ${parent}.t >= $lo AND ${parent}.t < $hi`,
    p,
    t,
  );
  await c.run(
    `INSERT INTO ${parent} (${ROLLUP_COLUMNS}) SELECT ${ROLLUP_COLUMNS} FROM (${parentFromChildren(child, keys)})`,
    p,
    t,
  );
}
