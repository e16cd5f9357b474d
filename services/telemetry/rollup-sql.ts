import { metricNames } from '../../contract/index.js';
import { metricColumn } from './duckdb-schema.js';
import { FIVE_MIN } from './rollup-calendar.js';

/**
 * The SQL of rollups, in one place. `keys` names a relation of (device_id, b): five-minute buckets
 * to compute from the raw tables; `$lo`/`$hi` bound them in time so DuckDB skips row groups.
 */
const FIVE_MIN_H = FIVE_MIN / 3_600_000;

export const ROLLUP_COLUMNS =
  't, t_end, site_id, device_id, metric, n, sum, min, max, first, first_ts, last, last_ts, fall, area, up5';

/**
 * Rollup rows of five-minute buckets, straight from readings and events; of the given metrics only
 * when a query names them. A query's real-time tail that made up every metric of a bucket and kept
 * one spent ~17 of its 28 ms before executing anything (planning the ten-column UNPIVOT; measured).
 */
export function fiveMinuteFromRaw(keys: string, metrics?: readonly string[]): string {
  const wanted = (m: string) => !metrics || metrics.includes(m);
  const cols = metricNames.filter(wanted).map(metricColumn).join(', ');
  const up = wanted('_up');
  const events = !metrics || metrics.some((m) => m.startsWith('ev:'));
  const ctes: string[] = [];
  const parts: string[] = [];
  if (cols || up) {
    ctes.push(`raw AS MATERIALIZED (
      SELECT r.site_id, r.device_id, k.b AS t, epoch_ms(r.ts) AS ms, r.seq${cols ? `, ${cols}` : ''}
      FROM readings r JOIN ${keys} k ON r.device_id = k.device_id
        AND epoch_ms(r.ts) >= k.b AND epoch_ms(r.ts) < k.b + ${FIVE_MIN}
      WHERE r.ts >= make_timestamp($lo * 1000) AND r.ts < make_timestamp($hi * 1000))`);
  }
  if (cols) {
    ctes.push(`lagged AS (
      SELECT *, lag(v) OVER (PARTITION BY device_id, metric, t ORDER BY ms, seq) AS pv
      FROM (UNPIVOT raw ON ${cols} INTO NAME metric VALUE v))`);
    parts.push(`
    SELECT t, t + ${FIVE_MIN} AS t_end, any_value(site_id) AS site_id, device_id, metric, count(*) AS n,
      sum(v) AS sum, min(v) AS min, max(v) AS max,
      arg_min(v, {'ms': ms, 'seq': seq}) AS first, min(ms) AS first_ts,
      arg_max(v, {'ms': ms, 'seq': seq}) AS last, max(ms) AS last_ts,
      coalesce(sum(greatest(pv - v, 0)), 0) AS fall, avg(v) * ${FIVE_MIN_H} AS area, 1 AS up5
    FROM lagged GROUP BY t, device_id, metric`);
  }
  if (up) {
    // Any reading of the device in the bucket, whichever metrics it carries.
    parts.push(`
    SELECT t, t + ${FIVE_MIN} AS t_end, any_value(site_id) AS site_id, device_id, '_up' AS metric,
      count(*) AS n, 1 AS up5
    FROM raw GROUP BY t, device_id`);
  }
  if (events) {
    parts.push(`
    SELECT k.b AS t, k.b + ${FIVE_MIN} AS t_end, any_value(e.site_id) AS site_id, e.device_id,
      'ev:' || e.type || coalesce(':' || e.item, '') AS metric, count(*) AS n
    FROM events e JOIN ${keys} k ON e.device_id = k.device_id
      AND epoch_ms(e.ts) >= k.b AND epoch_ms(e.ts) < k.b + ${FIVE_MIN}
    WHERE e.ts >= make_timestamp($lo * 1000) AND e.ts < make_timestamp($hi * 1000)
    GROUP BY k.b, e.device_id, metric`);
  }
  // First an empty relation of the rollup columns: the parts after it fill the columns they have
  // (UNION ALL BY NAME), and $lo/$hi stay bound when no part is asked for.
  return `
  SELECT ${ROLLUP_COLUMNS} FROM (
    ${ctes.length ? `WITH ${ctes.join(',\n    ')}` : ''}
    SELECT * FROM rollup_5m WHERE t >= $lo AND t < $hi AND false
    ${parts.map((p) => `UNION ALL BY NAME ${p}`).join('\n')})`;
}

/**
 * Rollup rows of larger buckets from smaller ones: `keys` holds (device_id, t, t_end) of the
 * parent buckets. A level that fell between two children counts as fallen too. Children are read
 * between $lo and $hi unless `bounded` is false (the caller's `child` is bounded already).
 */
export function parentFromChildren(child: string, keys: string, bounded = true): string {
  return `
  SELECT t, t_end, any_value(site_id) AS site_id, device_id, metric, sum(n) AS n, sum(sum) AS sum,
    min(min) AS min, max(max) AS max, arg_min(first, first_ts) AS first, min(first_ts) AS first_ts,
    arg_max(last, last_ts) AS last, max(last_ts) AS last_ts,
    sum(fall) + coalesce(sum(greatest(prev_last - first, 0)), 0) AS fall, sum(area) AS area,
    sum(up5) AS up5
  FROM (
    SELECT k.t, k.t_end, c.site_id, c.device_id, c.metric, c.n, c.sum, c.min, c.max, c.first,
      c.first_ts, c.last, c.last_ts, c.fall, c.area, c.up5,
      lag(c.last) OVER (PARTITION BY c.device_id, c.metric, k.t ORDER BY c.t) AS prev_last
    FROM ${child} c JOIN ${keys} k ON c.device_id = k.device_id AND c.t >= k.t AND c.t < k.t_end
    ${bounded ? 'WHERE c.t >= $lo AND c.t < $hi' : ''})
  GROUP BY t, t_end, device_id, metric`;
}

/** How rollup rows combine into a bucket of a query (`k`), per site and metric. */
export const COMBINE = `sum(n) AS n, sum(sum) AS sum, min(min) AS min, max(max) AS max,
  arg_max(last, last_ts) AS last, max(last_ts) AS last_ts, sum(fall) AS fall, sum(area) AS area, sum(up5) AS up5`;

/** Sites and metrics a rollup query keeps, when given. */
export interface RowFilter {
  sites?: readonly string[];
  metrics?: readonly string[];
}

/**
 * Written into the SQL as IN lists rather than bound as list parameters: DuckDB then filters with
 * a hash set instead of calling list_contains per row (a third of a 90-day scan, measured). Only
 * ids and metric names the contract's patterns allow get here; anything else is refused.
 */
function inList(values: readonly string[]): string {
  for (const v of values) if (!/^[a-z0-9_:-]{1,80}$/.test(v)) throw new Error(`bad id in filter: ${v}`);
  return `(${values.length ? values.map((v) => `'${v}'`).join(', ') : 'NULL'})`;
}

export function rowFilter(alias: string, f: RowFilter, metric = true): string {
  const out = ['true'];
  if (f.sites) out.push(`${alias}.site_id IN ${inList(f.sites)}`);
  if (f.metrics && metric) out.push(`${alias}.metric IN ${inList(f.metrics)}`);
  return out.join(' AND ');
}

const prefixed = (alias: string) =>
  ROLLUP_COLUMNS.split(', ')
    .map((c) => `${alias}.${c}`)
    .join(', ');

/**
 * CTEs ending in \`rows\`: real-time rollup rows of [$start, $end) at the grain of \`table\`, with
 * \`patched\` 0 for the table's own rows. Without \`dirty\` buckets in the range that is all. With
 * them, a bucket holding a five-minute bucket not rolled up yet is left out and made up again
 * (\`patched\` 1) from the five-minute rollups plus the raw rows of the dirty five-minute buckets,
 * read between $lo and $hi (the dirty buckets' span), combined as a roll would combine them: one
 * row per bucket, device and metric, with the level drops between five-minute buckets counted (a
 * dispenser read every five minutes has all its drops there). Expects a CTE \`sb\` (t, t_end) of the
 * table's buckets over the range.
 */
export function realTimeRows(table: string, f: RowFilter, dirty: boolean): string {
  if (!dirty) {
    return `rows AS (SELECT ${prefixed('r')}, 0 AS patched FROM ${table} r
      WHERE r.t >= $start AND r.t < $end AND ${rowFilter('r', f)})`;
  }
  return `
  dirty AS MATERIALIZED (
    SELECT DISTINCT d.device_id, d.b FROM rollup_dirty d WHERE d.b >= $start AND d.b < $end AND ${rowFilter('d', f, false)}),
  dsb AS MATERIALIZED (
    SELECT DISTINCT d.device_id, sb.t, sb.t_end FROM dirty d JOIN sb ON d.b >= sb.t AND d.b < sb.t_end),
  fresh AS (${fiveMinuteFromRaw('dirty', f.metrics)}),
  fives AS (
    SELECT ${prefixed('c')} FROM rollup_5m c JOIN dsb ON c.device_id = dsb.device_id AND c.t >= dsb.t AND c.t < dsb.t_end
    WHERE ${rowFilter('c', f)} AND NOT EXISTS (SELECT 1 FROM dirty WHERE dirty.device_id = c.device_id AND dirty.b = c.t)
    UNION ALL
    SELECT ${prefixed('x')} FROM fresh x WHERE ${rowFilter('x', f)}),
  rows AS (
    SELECT ${prefixed('r')}, 0 AS patched FROM ${table} r
    WHERE r.t >= $start AND r.t < $end AND ${rowFilter('r', f)}
      AND NOT EXISTS (SELECT 1 FROM dsb WHERE dsb.device_id = r.device_id AND dsb.t = r.t)
    UNION ALL
    SELECT ${prefixed('p')}, 1 AS patched FROM (${parentFromChildren('fives', 'dsb', false)}) p)`;
}
