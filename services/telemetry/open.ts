import path from 'node:path';
import type { Config } from '../config.js';
import { openDuckDbStore } from './duckdb-store.js';
import { withNewsFilter } from './news-filter.js';
import type { DuckDbRollups } from './rollup-duckdb.js';
import type { TelemetryStore } from './store.js';

/**
 * InfluxDB when INFLUX_URL (and its token, org and bucket) is set; DuckDB in HUB_DATA_DIR
 * otherwise. Rollups (issue 12) come with the DuckDB store only, for now.
 */
export async function openTelemetry(
  config: Config,
): Promise<{ store: TelemetryStore; rollups: DuckDbRollups | null }> {
  const { INFLUX_URL: url, INFLUX_TOKEN: token, INFLUX_ORG: org, INFLUX_BUCKET: bucket } = config;
  if (url && token && org && bucket) {
    // Loaded only when used: an embedded hub need not carry the InfluxDB client in its heap.
    const { openInfluxStore } = await import('./influx-store.js');
    return { store: withNewsFilter(await openInfluxStore({ url, token, org, bucket })), rollups: null };
  }
  const store = await openDuckDbStore(path.join(config.dataDir, 'telemetry.duckdb'));
  return { store, rollups: store.rollups };
}

export async function openTelemetryStore(config: Config): Promise<TelemetryStore> {
  return (await openTelemetry(config)).store;
}
