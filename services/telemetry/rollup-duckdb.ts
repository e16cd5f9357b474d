import {
  BIGINT,
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
} from '@duckdb/node-api';
import {
  type AggregateRow,
  type AggregateSpec,
  type Bounds,
  bindBuckets,
  combineByKey,
  joinedAggregateSql,
  plainAggregateSql,
  planAggregate,
} from './rollup-aggregate.js';
import { bucketOf, FIVE_MIN } from './rollup-calendar.js';
import { type RollupGrain, rollupTable } from './rollup-schema.js';
import { fiveMinuteFromRaw, parentFromChildren, ROLLUP_COLUMNS, realTimeRows } from './rollup-sql.js';

type Params = Record<string, DuckDBValue>;
type Types = Record<string, DuckDBType>;

/**
 * One roll takes the oldest dirty marks up to ROLL_MARKS of them, lying at most ROLL_SPAN_MS apart
 * (late data is rolled in its own pass, not with a day of raw rows between it and the present).
 * Rolling the demo's eight weeks (70 devices, 1.1 M five-minute buckets) in fixed 6-hour rolls ran
 * at 18–23 k buckets/s, in 24-hour rolls at 34 k/s, 72-hour rolls at 43 k/s (each roll rebuilds
 * its local days once, and a statement's fixed cost is shared by more buckets); a cap on marks
 * keeps a large fleet's roll (and its transaction) near the 20 k buckets of the demo's day.
 */
const ROLL_SPAN_MS = 24 * 3_600_000;
const READERS = 2;
export const ROLL_MARKS = 20_000;

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
  /**
   * Query connections, one statement at a time each (as DuckDB connections want): two, so a page's
   * independent queries (a trend and its comparison, a league's totals and sparklines) run side by
   * side on the two cores, each on its own libuv thread (the instance keeps threads=1).
   */
  private readonly readers: { conn: DuckDBConnection; tail: Promise<unknown>; queued: number }[] = [];

  constructor(private readonly instance: DuckDBInstance) {}

  async open(): Promise<void> {
    this.worker = await this.instance.connect();
    for (let i = 0; i < READERS; i++)
      this.readers.push({ conn: await this.instance.connect(), tail: Promise.resolve(), queued: 0 });
    await this.worker.run(`
      CREATE TEMP TABLE wk5 (device_id VARCHAR, b BIGINT);
      CREATE TEMP TABLE wkh (device_id VARCHAR, t BIGINT, t_end BIGINT);
      CREATE TEMP TABLE wkd (device_id VARCHAR, t BIGINT, t_end BIGINT);
      CREATE TEMP TABLE wkb (b BIGINT, h BIGINT, h_end BIGINT, d BIGINT, d_end BIGINT);`);
  }

  close(): void {
    this.worker?.closeSync();
    for (const r of this.readers.splice(0)) r.conn.closeSync();
  }

  /** Five-minute buckets waiting to be rolled up. */
  async pending(): Promise<number> {
    const rows = (
      await this.worker.runAndReadAll('SELECT count(*) AS n FROM rollup_dirty')
    ).getRowObjectsJS();
    return num(rows[0]!.n);
  }

  /**
   * The same count for anyone but the roll (a metrics scrape): asked on a reader connection, in
   * its queue, never on the worker in the middle of a roll's transaction. Marks a roll has taken and
   * not committed yet still count.
   */
  async backlog(): Promise<number> {
    const rows = await this.serialRead(async (reader) =>
      (
        await reader.runAndReadAll('SELECT count(DISTINCT (device_id, b)) AS n FROM rollup_dirty')
      ).getRowObjectsJS(),
    );
    return num(rows[0]!.n);
  }

  /** Each device's first reading (ms) as far as rollups know: when it began reporting. */
  async firstSeen(): Promise<Map<string, number>> {
    const rows = await this.serialRead(async (reader) =>
      (
        await reader.runAndReadAll(
          'SELECT device_id, min(first_ts) AS t FROM rollup_day WHERE first_ts IS NOT NULL GROUP BY device_id',
        )
      ).getRowObjectsJS(),
    );
    return new Map(rows.map((r) => [String(r.device_id), num(r.t)]));
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
   * `closedBy`: only buckets that ended by then (ms), so a bucket still filling is not rolled again
   * and again; queries read it from raw meanwhile, as they read every dirty bucket.
   */
  async rollOnce(
    timeZone: string,
    closedBy = Number.MAX_SAFE_INTEGER,
    maxMarks = ROLL_MARKS,
  ): Promise<number> {
    const c = this.worker;
    const lo = await this.oldestClosed(closedBy);
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
      await this.fillBuckets(map);
      const hi = Math.max(...map.map((m) => m[0])) + FIVE_MIN;
      const span = { lo, hi } as Params;
      const spanT = { lo: BIGINT, hi: BIGINT };
      await c.run(
        'INSERT INTO wkh SELECT DISTINCT k.device_id, m.h, m.h_end FROM wk5 k JOIN wkb m USING (b)',
      );
      await c.run(
        'INSERT INTO wkd SELECT DISTINCT k.device_id, m.d, m.d_end FROM wk5 k JOIN wkb m USING (b)',
      );
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
      await this.rebuild('rollup_hour', 'rollup_5m', 'wkh', bounds(1));
      await this.rebuild('rollup_day', 'rollup_hour', 'wkd', bounds(3));
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

  private async oldestClosed(closedBy: number): Promise<number | null> {
    const rows = (
      await this.worker.runAndReadAll(
        'SELECT min(b) AS b FROM rollup_dirty WHERE b <= $last',
        {
          last: closedBy - FIVE_MIN,
        },
        { last: BIGINT },
      )
    ).getRowObjectsJS();
    return numOrNull(rows[0]!.b);
  }

  /**
   * Deletes raw readings and events (and five-minute rollups) older than `before`, one `stepMs` slice per statement, and
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
      // Five-minute rollups go with the raw rows (as Home Assistant's short-term statistics do);
      // hourly and daily ones stay for years.
      await this.worker.run('DELETE FROM rollup_5m WHERE t < $t', { t: upTo }, { t: BIGINT });
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
    const bounds = await this.dirtySpan(spec.buckets);
    const plan = planAggregate(spec.buckets, bounds.span);
    if (!plan) {
      const { sql, params, types } = joinedAggregateSql(spec, bounds);
      const c = await this.read(sql, params, types);
      // Keys are the query's own here: each bucket start stands for itself.
      const keys = [...new Set(spec.buckets.map((b) => b.k))].map((k) => ({ t: k, tEnd: k + 1, k }));
      return combineByKey(c, { sorted: keys.sort((a, b) => a.t - b.t), dirty: [], oneKey: false });
    }
    const by = spec.by ?? 'site';
    const filter = { sites: spec.sites, metrics: spec.metrics };
    const dirty = plan.dirty.length > 0;
    let sql = plainAggregateSql(rollupTable(spec.grain), filter, by, plan.oneKey, dirty);
    let params: Params = { ps: bounds.start, pe: bounds.end };
    let types: Types = { ps: BIGINT, pe: BIGINT };
    if (dirty) {
      const d = plan.dirty;
      const part = joinedAggregateSql(
        { ...spec, buckets: d.map((b) => ({ t: b.t, tEnd: b.tEnd, k: b.t })) },
        { start: d[0]!.t, end: d.at(-1)!.tEnd, span: bounds.span },
      );
      sql = `SELECT * FROM (${sql}) UNION ALL BY NAME SELECT * FROM (${part.sql})`;
      params = { ...params, ...part.params, dlo: d[0]!.t, dhi: d.at(-1)!.tEnd };
      types = { ...types, ...part.types, dlo: BIGINT, dhi: BIGINT };
    }
    return combineByKey(await this.read(sql, params, types), plan);
  }

  /** Column by column: a few thousand row objects cost the event loop tens of ms (measured). */
  private read(sql: string, params: Params, types: Types): Promise<Record<string, unknown[]>> {
    return this.serialRead(async (reader) =>
      (await reader.runAndReadAll(sql, params, types)).getColumnsObjectJS(),
    );
  }

  /** The aggregate as SQL, for exports that stream it (COPY) rather than read it. */
  async aggregateSql(spec: AggregateSpec): Promise<{ sql: string; params: Params; types: Types }> {
    return joinedAggregateSql(spec, await this.dirtySpan(spec.buckets));
  }

  /**
   * Per device and bucket at a grain the rollups keep, for exports: the table's rows as they are
   * (no grouping, no sort: constant memory however long the range), plus buckets made up again
   * from the raw tail. \`local\` formats each bucket start as local wall-clock time.
   */
  async storedSeriesSql(spec: AggregateSpec & { offsets: readonly number[] }) {
    const { params, types, dirty } = bindBuckets(spec.buckets, await this.dirtySpan(spec.buckets));
    params.off = listValue(spec.offsets.map((o) => BigInt(o)));
    types.off = LIST(BIGINT);
    const cols = 'site_id, device_id, metric, n, sum, min, max, last';
    const sql = `
      WITH sb AS (SELECT unnest($bt) AS t, unnest($be) AS t_end, unnest($bk) AS k, unnest($off) AS off),
      ${realTimeRows(rollupTable(spec.grain), { sites: spec.sites, metrics: spec.metrics }, dirty)},
      out AS (
        SELECT t AS k, ${cols} FROM rows WHERE patched = 0
        UNION ALL
        SELECT sb.k, rows.site_id, rows.device_id, rows.metric, sum(n) AS n, sum(sum) AS sum, min(min) AS min,
          max(max) AS max, arg_max(last, last_ts) AS last
        FROM rows ASOF JOIN sb ON rows.t >= sb.t
        WHERE rows.patched = 1 AND rows.t < sb.t_end
        GROUP BY sb.k, rows.site_id, rows.device_id, rows.metric)
      SELECT strftime(make_timestamp((out.k + sb.off) * 1000), '%Y-%m-%d %H:%M:%S') AS bucket_local,
        out.k AS bucket_ms, out.site_id, out.device_id, out.metric, out.n AS count,
        out.sum / nullif(out.n, 0) AS mean, out.min, out.max, out.sum, out.last
      FROM out JOIN sb ON out.k = sb.k`;
    return { sql, params, types };
  }

  /** The buckets' bounds, and the span of five-minute buckets in them not rolled up yet (if any). */
  private async dirtySpan(buckets: readonly { t: number; tEnd: number }[]): Promise<Bounds> {
    let start = Number.POSITIVE_INFINITY;
    let end = Number.NEGATIVE_INFINITY;
    for (const b of buckets) {
      if (b.t < start) start = b.t;
      if (b.tEnd > end) end = b.tEnd;
    }
    // The raw tail is read only between the first and last dirty bucket: usually minutes.
    const c = await this.read(
      'SELECT min(b) AS lo, max(b) AS hi FROM rollup_dirty WHERE b >= $start AND b < $end',
      { start, end },
      { start: BIGINT, end: BIGINT },
    );
    const lo = numOrNull(c.lo?.[0]);
    const hi = numOrNull(c.hi?.[0]);
    return { start, end, span: lo !== null && hi !== null ? { lo, hi: hi + FIVE_MIN } : null };
  }

  /** Runs `task` on the query connection with the fewest statements waiting. */
  private serialRead<T>(task: (reader: DuckDBConnection) => Promise<T>): Promise<T> {
    const r = this.readers.reduce((a, b) => (b.queued < a.queued ? b : a));
    const go = () => task(r.conn);
    r.queued += 1;
    const run = r.tail.then(go, go).finally(() => {
      r.queued -= 1;
    });
    r.tail = run.catch(() => undefined);
    return run;
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

  private async fillBuckets(rows: (readonly [number, number, number, number, number])[]): Promise<void> {
    const column = (k: number) => listValue(rows.map((r) => BigInt(r[k]!)));
    await this.worker.run(
      'INSERT INTO wkb SELECT unnest($b), unnest($h), unnest($he), unnest($d), unnest($de)',
      { b: column(0), h: column(1), he: column(2), d: column(3), de: column(4) },
      { b: LIST(BIGINT), h: LIST(BIGINT), he: LIST(BIGINT), d: LIST(BIGINT), de: LIST(BIGINT) },
    );
  }

  private async rebuild(
    parent: string,
    child: string,
    keys: string,
    { lo, hi }: { lo: number; hi: number },
  ): Promise<void> {
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

export type { SourceBucket } from './rollup-aggregate.js';
export type { AggregateRow, AggregateSpec, RollupGrain };
