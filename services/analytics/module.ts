import type { AppointmentSummaries } from '../appointments/summary.js';
import type { Config } from '../config.js';
import type { DeviceRepo } from '../state/devices.js';
import type { SiteRepo } from '../state/sites.js';
import type { DuckDbRollups } from '../telemetry/rollup-duckdb.js';
import { RollupScheduler } from '../telemetry/rollup-scheduler.js';
import { AnalyticsService } from './service.js';

export interface AnalyticsDeps {
  config: Config;
  sites: SiteRepo;
  devices: DeviceRepo;
  screening: AppointmentSummaries;
  log: { error(obj: object, msg: string): void };
  now?: () => number;
}

/**
 * Planners' analytics (issue 12): the scheduler that rolls up and purges telemetry, and the service
 * the API asks. Only the DuckDB store keeps rollups; without them (InfluxDB) there is neither and
 * the analytics API answers 503.
 */
export function createAnalytics(rollups: DuckDbRollups | null, d: AnalyticsDeps) {
  if (!rollups) return { scheduler: null, api: null };
  const scheduler = new RollupScheduler(rollups, {
    timeZone: d.config.HUB_TZ,
    everyMs: d.config.ROLLUP_EVERY_S * 1000,
    // A late reading re-rolls its buckets from the raw rows around it, so those must still be
    // there for as long as ingest accepts late readings.
    retentionMs: Math.max(d.config.RAW_RETENTION_D, d.config.MAX_READING_AGE_D) * 86_400_000,
    onError: (err) => d.log.error({ err }, 'rollups'),
  });
  const service = new AnalyticsService({
    rollups,
    sites: d.sites,
    devices: d.devices,
    screening: d.screening,
    timeZone: d.config.HUB_TZ,
    now: d.now,
  });
  return { scheduler, api: { rollups, service } };
}
