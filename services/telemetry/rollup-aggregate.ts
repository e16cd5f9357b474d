import { BIGINT, type DuckDBType, type DuckDBValue, LIST, listValue } from '@duckdb/node-api';
import { num, numOrNull } from './duckdb-numbers.js';
import { type RollupGrain, rollupTable } from './rollup-schema.js';
import { COMBINE, type RowFilter, realTimeRows, rowFilter } from './rollup-sql.js';

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
  /** Grouped per query bucket only, per bucket and site (default), or per bucket, site and device. */
  by?: 'k' | 'site' | 'device';
}

/** Combined figures of one query bucket (`k`), site (or device) and metric. */
export interface AggregateRow {
  k: number;
  /** '' when grouped per bucket only. */
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

/**
 * How an aggregate is asked (issue 12, speed): the rollup table's own rows grouped by bucket start
 * in one plain scan, and only the few buckets holding a five-minute bucket not rolled up yet
 * through the real-time union (rollup-sql.ts `realTimeRows`). Bucket keys are applied here, not
 * joined in SQL: the join with a year of bucket lists (bound as LIST parameters, on the event
 * loop) took 8 of a trend query's 12 ms, where the plain scan takes 2 (measured, 100 sites).
 */
export interface AggregatePlan {
  /** Contiguous buckets, sorted by start. */
  sorted: SourceBucket[];
  /** The buckets the dirty span touches: they go through the real-time union. */
  dirty: SourceBucket[];
  /** Every bucket counts towards one key: the plain scan need not group by bucket. */
  oneKey: boolean;
}

/** Null when the buckets leave gaps or overlap: then the caller joins them in SQL as before. */
export function planAggregate(
  buckets: readonly SourceBucket[],
  span: { lo: number; hi: number } | null,
): AggregatePlan | null {
  const sorted = [...buckets].sort((a, b) => a.t - b.t);
  for (let i = 1; i < sorted.length; i++) if (sorted[i]!.t !== sorted[i - 1]!.tEnd) return null;
  const k0 = sorted[0]?.k;
  return {
    sorted,
    dirty: span ? sorted.filter((b) => b.tEnd > span.lo && b.t < span.hi) : [],
    oneKey: sorted.every((b) => b.k === k0),
  };
}

/**
 * The plain scan of a rollup table over [$ps, $pe), minus [$dlo, $dhi) when the real-time part
 * answers for it, grouped like `aggregateSql` with the bucket start as `k` (or $ps with one key).
 */
export function plainAggregateSql(
  table: string,
  f: RowFilter,
  by: 'k' | 'site' | 'device',
  oneKey: boolean,
  dirty: boolean,
): string {
  const cols = { k: '', site: ', site_id', device: ', site_id, device_id' }[by];
  return `
    SELECT ${oneKey ? '$ps::DOUBLE' : 't::DOUBLE'} AS k${cols}, metric, sum(n)::DOUBLE AS n, sum(sum) AS sum,
      min(min) AS min, max(max) AS max, arg_max(last, last_ts) AS last, max(last_ts)::DOUBLE AS last_ts,
      sum(fall) AS fall, sum(area) AS area, sum(up5)::DOUBLE AS up5
    FROM ${table} r
    WHERE r.t >= $ps AND r.t < $pe AND ${rowFilter('r', f)}
      ${dirty ? 'AND NOT (r.t >= $dlo AND r.t < $dhi)' : ''}
    GROUP BY ${oneKey ? '' : 't, '}metric${cols}`;
}

type Columns = Record<string, unknown[]>;
const minOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
const maxOf = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const plus = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);

/**
 * Rows keyed by a bucket start (`k` as SQL left it) combined per query key, site, device and
 * metric as `COMBINE` would, in the order `aggregateSql` sorts. A start outside every bucket is
 * dropped, as the SQL join dropped it.
 */
export function combineByKey(c: Columns, plan: AggregatePlan): AggregateRow[] {
  const starts = plan.sorted.map((b) => b.t);
  const exact = new Map(plan.sorted.map((b) => [b.t, b.k]));
  const keyOf = (t: number): number | undefined => {
    const k = exact.get(t);
    if (k !== undefined) return k;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= t) lo = mid;
      else hi = mid - 1;
    }
    const b = plan.sorted[lo];
    return b && t >= b.t && t < b.tEnd ? b.k : undefined;
  };
  const ks = c.k ?? [];
  // Each bucket its own key and no second part: SQL's rows are already one per key, in order.
  const direct =
    plan.dirty.length === 0 && !plan.oneKey && new Set(plan.sorted.map((b) => b.k)).size === starts.length;
  const out = new Map<string, { row: AggregateRow; lastTs: number | null }>();
  const rows: AggregateRow[] = [];
  for (let i = 0; i < ks.length; i++) {
    const k = keyOf(num(ks[i]));
    if (k === undefined) continue;
    const siteId = (c.site_id?.[i] as string | undefined) ?? '';
    const deviceId = (c.device_id?.[i] as string | undefined) ?? null;
    const metric = c.metric![i] as string;
    const row: AggregateRow = {
      k,
      siteId,
      deviceId,
      metric,
      n: num(c.n![i]),
      sum: numOrNull(c.sum![i]),
      min: numOrNull(c.min![i]),
      max: numOrNull(c.max![i]),
      last: numOrNull(c.last![i]),
      fall: numOrNull(c.fall![i]),
      area: numOrNull(c.area![i]),
      up5: numOrNull(c.up5![i]),
    };
    if (direct) {
      rows.push(row);
      continue;
    }
    const lastTs = numOrNull(c.last_ts?.[i]);
    const key = `${k}\0${siteId}\0${deviceId ?? ''}\0${metric}`;
    const seen = out.get(key);
    if (!seen) {
      out.set(key, { row, lastTs });
      continue;
    }
    const s = seen.row;
    s.n += row.n;
    s.sum = plus(s.sum, row.sum);
    s.min = minOf(s.min, row.min);
    s.max = maxOf(s.max, row.max);
    if (lastTs !== null && (seen.lastTs === null || lastTs > seen.lastTs)) {
      s.last = row.last;
      seen.lastTs = lastTs;
    }
    s.fall = plus(s.fall, row.fall);
    s.area = plus(s.area, row.area);
    s.up5 = plus(s.up5, row.up5);
  }
  for (const { row } of out.values()) rows.push(row);
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return rows.sort(
    (a, b) =>
      a.k - b.k ||
      cmp(a.siteId, b.siteId) ||
      cmp(a.deviceId ?? '', b.deviceId ?? '') ||
      cmp(a.metric, b.metric),
  );
}

/** A query's time bounds, and the five-minute buckets in them not rolled up yet ([lo, hi)). */
export interface Bounds {
  start: number;
  end: number;
  span: { lo: number; hi: number } | null;
}

/** Parameters of a real-time query joining its buckets in SQL, and whether any bucket is dirty. */
export function bindBuckets(
  buckets: readonly { t: number; tEnd: number; k: number }[],
  b: Bounds,
): { params: Params; types: Types; dirty: boolean } {
  const params: Params = {
    start: b.start,
    end: b.end,
    bt: listValue(buckets.map((x) => BigInt(x.t))),
    be: listValue(buckets.map((x) => BigInt(x.tEnd))),
    bk: listValue(buckets.map((x) => BigInt(x.k))),
  };
  const types: Types = { start: BIGINT, end: BIGINT, bt: LIST(BIGINT), be: LIST(BIGINT), bk: LIST(BIGINT) };
  if (b.span) {
    Object.assign(params, { lo: b.span.lo, hi: b.span.hi });
    Object.assign(types, { lo: BIGINT, hi: BIGINT });
  }
  return { params, types, dirty: b.span !== null };
}

/** The real-time aggregate with every bucket joined in SQL (`sb`), over [start, end). */
export function joinedAggregateSql(
  spec: AggregateSpec,
  bounds: Bounds,
): { sql: string; params: Params; types: Types } {
  const { params, types, dirty } = bindBuckets(spec.buckets, bounds);
  const by = { k: '', site: ', rows.site_id', device: ', rows.site_id, rows.device_id' }[spec.by ?? 'site'];
  const sql = `
    WITH sb AS (SELECT unnest($bt) AS t, unnest($be) AS t_end, unnest($bk) AS k),
    ${realTimeRows(rollupTable(spec.grain), { sites: spec.sites, metrics: spec.metrics }, dirty)},
    keyed AS (
      -- The table's own rows start exactly at a bucket: an equi-join. Made-up rows fall inside one.
      SELECT sb.k, rows.* FROM rows JOIN sb ON rows.t = sb.t WHERE rows.patched = 0
      ${dirty ? 'UNION ALL SELECT sb.k, rows.* FROM rows ASOF JOIN sb ON rows.t >= sb.t WHERE rows.patched = 1 AND rows.t < sb.t_end' : ''})
    SELECT rows.k${by}, rows.metric, ${COMBINE}
    FROM keyed rows
    GROUP BY rows.k${by}, rows.metric
    ORDER BY rows.k${by}, rows.metric`;
  return { sql, params, types };
}
