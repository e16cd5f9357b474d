import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * Rollup tables, in the telemetry DuckDB file beside the raw readings. One row per bucket, device
 * and metric, long rather than wide: events roll up as metrics too (`ev:door_opened`,
 * `ev:item_borrowed:umbrella`: n is the count) and `_up` counts any reading of the device. Bucket
 * bounds are epoch ms, `t_end` kept because a local day lasts 23, 24 or 25 hours.
 *
 * - n, sum, min, max: of the values; mean = sum / n.
 * - first/last (with their times): the value at the bucket's edges, for `last` and for level drops.
 * - fall: declines between consecutive readings inside the bucket (water dispensed; refills rise).
 * - area: value × hours, mean × 5 min per five-minute bucket summed upwards (occupancy-hours, kWh).
 * - up5: five-minute buckets with at least one reading (uptime).
 */
export const ROLLUP_GRAINS = ['5m', 'hour', 'day'] as const;
export type RollupGrain = (typeof ROLLUP_GRAINS)[number];

export const rollupTable = (g: RollupGrain) => `rollup_${g === '5m' ? '5m' : g}`;

const COLUMNS = `t BIGINT NOT NULL, t_end BIGINT NOT NULL, site_id VARCHAR NOT NULL,
  device_id VARCHAR NOT NULL, metric VARCHAR NOT NULL, n BIGINT NOT NULL, sum DOUBLE, min DOUBLE,
  max DOUBLE, first DOUBLE, first_ts BIGINT, last DOUBLE, last_ts BIGINT, fall DOUBLE, area DOUBLE,
  up5 BIGINT`;

/**
 * `rollup_dirty`: five-minute buckets of a device with readings or events not rolled up yet,
 * written in the same transaction as the readings, deleted in the same transaction as the rollup
 * rows recomputed from them. Recomputing a bucket from the raw rows is idempotent, so a crash or a
 * replayed journal entry can neither lose nor double a reading.
 */
export async function prepareRollupSchema(conn: DuckDBConnection): Promise<void> {
  await conn.run(`
    CREATE TABLE IF NOT EXISTS rollup_dirty (device_id VARCHAR NOT NULL, site_id VARCHAR NOT NULL, b BIGINT NOT NULL);
    CREATE TABLE IF NOT EXISTS rollup_5m (${COLUMNS});
    CREATE TABLE IF NOT EXISTS rollup_hour (${COLUMNS});
    CREATE TABLE IF NOT EXISTS rollup_day (${COLUMNS});`);
}
