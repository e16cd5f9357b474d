import path from 'node:path';
import type { Config } from '../config.js';
import { openDuckDbStore } from './duckdb-store.js';
import { withNewsFilter } from './news-filter.js';
import type { TelemetryStore } from './store.js';

/** InfluxDB when INFLUX_URL (and its token, org and bucket) is set; DuckDB in HUB_DATA_DIR otherwise. */
export async function openTelemetryStore(config: Config): Promise<TelemetryStore> {
  const { INFLUX_URL: url, INFLUX_TOKEN: token, INFLUX_ORG: org, INFLUX_BUCKET: bucket } = config;
  if (url && token && org && bucket) {
    // Loaded only when used: an embedded hub need not carry the InfluxDB client in its heap.
    const { openInfluxStore } = await import('./influx-store.js');
    return withNewsFilter(await openInfluxStore({ url, token, org, bucket }));
  }
  return openDuckDbStore(path.join(config.dataDir, 'telemetry.duckdb'));
}
