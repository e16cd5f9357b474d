import {
  BIGINT,
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import { bucketOf, FIVE_MIN } from './rollup-calendar.js';
import { type RollupGrain, rollupTable } from './rollup-schema.js';
import {
  COMBINE,
  fiveMinuteFromRaw,
  parentFromChildren,
  ROLLUP_COLUMNS,
  realTimeRows,
} from './rollup-sql.js';

type Params = Record<string, DuckDBValue>;
type Types = Record<string, DuckDBType>;

/** A query bucket made of rollup buckets: rows with `t` in [t, tEnd) count towards key `k`. */
export interface SourceBucket {
  t: number;
  tEnd: number;
  k: number;
}

export interface AggregateSpec {
  grain: RollupGrain;
  /** The rollup buckets of `grain` covering [start, end), each with the key it counts towards. */
  buckets: readonly SourceBucket[];
  sites?: readonly string[];
  metrics?: readonly string[];
  /** Per device instead of per site. */
  byDevice?: boolean;
}

/** Combined figures of one query bucket (`k`), site (or device) and metric. */
export interface AggregateRow {
  k: number;
  siteId: string;
  deviceId: string | null;
  metric: string;
  n: number;
  sum: number | null;
  min: number | null;
  max: number | null;
  last: number | null;
  fall: number | null;
  area: number | null;
  up5: number | null;
}

/** How far apart the dirty buckets one roll takes may lie: late data is rolled in its own pass. */
const ROLL_SPAN_MS = 6 * 3_600_000;

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : (v as number));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : num(v));

/**
 * Rollups kept in the DuckDB telemetry file (rollup-schema.ts): rolling dirty five-minute buckets
 * up into 5-minute, hourly and daily rows in the hub's zone, real-time aggregates over them, and
 * the purge of raw rows past retention. Its own connections: a roll or an export never waits
 * behind ingest, and ingest never behind them.
 */
export class DuckDbRollups {
  private worker!: DuckDBConnection;
  private reader!: DuckDBConnection;
  /** One statement at a time on the query connection, as DuckDB connections want. */
  private readerTail: Promise<unknown> = Promise.resolve();

  constructor(private readonly instance: DuckDBInstance) {}

  async open(): Promise<void> {
    this.worker = await this.instance.connect();
    this.reader = await this.instance.connect();
    await this.worker.run(`
      CREATE TEMP TABLE wk5 (device_id VARCHAR, b BIGINT);
      CREATE TEMP TABLE wkh (device_id VARCHAR, t BIGINT, t_end BIGINT);
      CREATE TEMP TABLE wkd (device_id VARCHAR, t BIGINT, t_end BIGINT);`);
  }

  close(): void {
    this.worker?.closeSync();
    this.reader?.closeSync();
  }

  /** Five-minute buckets waiting to be rolled up. */
  async pending(): Promise<number> {
    const rows = (
      await this.worker.runAndReadAll('SELECT count(*) AS n FROM rollup_dirty')
    ).getRowObjectsJS();
    return num(rows[0]!.n);
  }

  /** The oldest bucket not rolled up yet (ms), or null: raw rows from there on must stay. */
  async oldestPending(): Promise<number | null> {
    const rows = (await this.worker.runAndReadAll('SELECT min(b) AS b FROM rollup_dirty')).getRowObjectsJS();
    return numOrNull(rows[0]!.b);
  }

  /**
   * Rolls up the dirty buckets of the oldest few hours, in one transaction: recomputes their
   * five-minute rows from raw, then the local hours and days holding them from the rows below, and
   * deletes the marks it saw. A mark written meanwhile (a reading committed after this snapshot)
   * stays for the next roll. Resolves with the number of buckets rolled (0: nothing to do).
   */
  async rollOnce(timeZone: string): Promise<number> {
    const c = this.worker;
    const lo = await this.oldestPending();
    if (lo === null) return 0;
    const hi = lo + ROLL_SPAN_MS;
    await c.run('BEGIN TRANSACTION');
    try {
      await c.run('DELETE FROM wk5; DELETE FROM wkh; DELETE FROM wkd;');
      const span = { lo, hi } as Params;
      const spanT = { lo: BIGINT, hi: BIGINT };
      await c.run(
        'INSERT INTO wk5 SELECT DISTINCT device_id, b FROM rollup_dirty WHERE b >= $lo AND b < $hi',
        span,
        spanT,
      );
      const keys = (await c.runAndReadAll('SELECT device_id, b FROM wk5')).getRowObjectsJS();
      const hours = new Map<string, [string, number, number]>();
      const days = new Map<string, [string, number, number]>();
      for (const k of keys) {
        const device = k.device_id as string;
        const b = num(k.b);
        const h = bucketOf(b, 'hour', timeZone);
        const d = bucketOf(b, 'day', timeZone);
        hours.set(`${device}\0${h.t}`, [device, h.t, h.tEnd]);
        days.set(`${device}\0${d.t}`, [device, d.t, d.tEnd]);
      }
      await this.fill('wkh', [...hours.values()]);
      await this.fill('wkd', [...days.values()]);
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
      await this.rebuild('rollup_hour', 'rollup_5m', 'wkh', [...hours.values()]);
      await this.rebuild('rollup_day', 'rollup_hour', 'wkd', [...days.values()]);
      await c.run(
        `DELETE FROM rollup_dirty USING wk5 WHERE rollup_dirty.device_id = wk5.device_id
           AND rollup_dirty.b = wk5.b AND rollup_dirty.b >= $lo AND rollup_dirty.b < $hi`,
        span,
        spanT,
      );
      await c.run('COMMIT');
      return keys.length;
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  /**
   * Deletes raw readings and events older than `before`, one `stepMs` slice per statement, and
   * yields between slices so ingest's commits interleave. Never past a bucket not rolled up yet.
   */
  async purgeBefore(before: number, stepMs = 3_600_000): Promise<number> {
    const pending = await this.oldestPending();
    const cutoff = pending === null ? before : Math.min(before, pending);
    const rows = (
      await this.worker.runAndReadAll('SELECT epoch_ms(min(ts)) AS t FROM readings')
    ).getRowObjectsJS();
    const events = (
      await this.worker.runAndReadAll('SELECT epoch_ms(min(ts)) AS t FROM events')
    ).getRowObjectsJS();
    const oldest = Math.min(numOrNull(rows[0]!.t) ?? cutoff, numOrNull(events[0]!.t) ?? cutoff);
    let deleted = 0;
    for (let t = oldest + stepMs; ; t += stepMs) {
      const upTo = Math.min(t, cutoff);
      for (const table of ['readings', 'events']) {
        const res = await this.worker.run(
          `DELETE FROM ${table} WHERE ts < make_timestamp($t * 1000)`,
          {
            t: upTo,
          },
          { t: BIGINT },
        );
        deleted += res.rowsChanged;
      }
      if (upTo >= cutoff) break;
      await new Promise((r) => setImmediate(r));
    }
    return deleted;
  }

  /** Real-time figures per query bucket and site (or device) and metric: rollups plus the raw tail. */
  async aggregate(spec: AggregateSpec): Promise<AggregateRow[]> {
    if (spec.buckets.length === 0) return [];
    const { sql, params, types } = this.aggregateSql(spec);
    const run = this.readerTail.then(async () =>
      (await this.reader.runAndReadAll(sql, params, types)).getRowObjectsJS(),
    );
    this.readerTail = run.catch(() => undefined);
    const rows = await run;
    return rows.map((x) => ({
      k: num(x.k),
      siteId: x.site_id as string,
      deviceId: (x.device_id as string | undefined) ?? null,
      metric: x.metric as string,
      n: num(x.n),
      sum: numOrNull(x.sum),
      min: numOrNull(x.min),
      max: numOrNull(x.max),
      last: numOrNull(x.last),
      fall: numOrNull(x.fall),
      area: numOrNull(x.area),
      up5: numOrNull(x.up5),
    }));
  }

  /** The aggregate as SQL, for exports that stream it (COPY) rather than read it. */
  aggregateSql(spec: AggregateSpec): { sql: string; params: Params; types: Types } {
    const start = Math.min(...spec.buckets.map((b) => b.t));
    const end = Math.max(...spec.buckets.map((b) => b.tEnd));
    const params: Params = {
      start,
      end,
      lo: start,
      hi: end,
      bt: listValue(spec.buckets.map((b) => BigInt(b.t))),
      be: listValue(spec.buckets.map((b) => BigInt(b.tEnd))),
      bk: listValue(spec.buckets.map((b) => BigInt(b.k))),
    };
    const types: Types = {
      start: BIGINT,
      end: BIGINT,
      lo: BIGINT,
      hi: BIGINT,
      bt: LIST(BIGINT),
      be: LIST(BIGINT),
      bk: LIST(BIGINT),
    };
    if (spec.sites) {
      params.sites = listValue([...spec.sites]);
      types.sites = LIST(VARCHAR);
    }
    if (spec.metrics) {
      params.metrics = listValue([...spec.metrics]);
      types.metrics = LIST(VARCHAR);
    }
    const by = spec.byDevice ? 'rows.site_id, rows.device_id' : 'rows.site_id';
    const sql = `
      WITH sb AS (SELECT unnest($bt) AS t, unnest($be) AS t_end, unnest($bk) AS k),
      ${realTimeRows(rollupTable(spec.grain), { sites: !!spec.sites, metrics: !!spec.metrics })}
      SELECT sb.k, ${by}, rows.metric, ${COMBINE}
      FROM rows ASOF JOIN sb ON rows.t >= sb.t
      WHERE rows.t < sb.t_end
      GROUP BY sb.k, ${by}, rows.metric
      ORDER BY sb.k, ${by}, rows.metric`;
    return { sql, params, types };
  }

  /**
   * Runs a statement on a connection of its own (an export's COPY), so a long export neither waits
   * behind nor holds up the dashboard's queries.
   */
  async runAlone(sql: string, params: Params = {}, types: Types = {}): Promise<void> {
    const conn = await this.instance.connect();
    try {
      await conn.run(sql, params, types);
    } finally {
      conn.closeSync();
    }
  }

  private async fill(table: string, rows: [string, number, number][]): Promise<void> {
    if (rows.length === 0) return;
    await this.worker.run(
      `INSERT INTO ${table} SELECT unnest($d), unnest($t), unnest($e)`,
      {
        d: listValue(rows.map((r) => r[0])),
        t: listValue(rows.map((r) => BigInt(r[1]))),
        e: listValue(rows.map((r) => BigInt(r[2]))),
      },
      { d: LIST(VARCHAR), t: LIST(BIGINT), e: LIST(BIGINT) },
    );
  }

  private async rebuild(
    parent: string,
    child: string,
    keys: string,
    rows: [string, number, number][],
  ): Promise<void> {
    if (rows.length === 0) return;
    const lo = Math.min(...rows.map((r) => r[1]));
    const hi = Math.max(...rows.map((r) => r[2]));
    const p = { lo, hi };
    const t = { lo: BIGINT, hi: BIGINT };
    await this.worker.run(
      `DELETE FROM ${parent} USING ${keys} WHERE ${parent}.device_id = ${keys}.device_id
         AND ${parent}.t = ${keys}.t AND ${parent}.t >= $lo AND ${parent}.t < $hi`,
      p,
      t,
    );
    await this.worker.run(
      `INSERT INTO ${parent} (${ROLLUP_COLUMNS}) SELECT ${ROLLUP_COLUMNS} FROM (${parentFromChildren(child, keys)})`,
      p,
      t,
    );
  }
}

export type { RollupGrain };
