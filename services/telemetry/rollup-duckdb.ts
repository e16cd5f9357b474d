import {
  BIGINT,
  type DuckDBConnection,
  type DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
} from '@duckdb/node-api';
import { num, numOrNull } from './duckdb-numbers.js';
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
import { FIVE_MIN } from './rollup-calendar.js';
import { oldestDirty, prepareRolls, rollOnce } from './rollup-roll.js';
import { type RollupGrain, rollupTable } from './rollup-schema.js';
import { realTimeRows } from './rollup-sql.js';

type Params = Record<string, DuckDBValue>;
type Types = Record<string, DuckDBType>;

const READERS = 2;

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
    await prepareRolls(this.worker);
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
  oldestPending(): Promise<number | null> {
    return oldestDirty(this.worker);
  }

  /**
   * Rolls up the oldest dirty buckets in one transaction (rollup-roll.ts); resolves with the
   * number of (device, bucket) marks rolled, 0 when none had closed by `closedBy`.
   */
  rollOnce(timeZone: string, closedBy?: number, maxMarks?: number): Promise<number> {
    return rollOnce(this.worker, timeZone, closedBy, maxMarks);
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
}

export type { SourceBucket } from './rollup-aggregate.js';
export type { AggregateRow, AggregateSpec, RollupGrain };
