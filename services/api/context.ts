import type { FastifyBaseLogger } from 'fastify';
import type { Broker } from '../../broker/broker.js';
import type { Alerts } from '../alerts/module.js';
import type { AnalyticsService } from '../analytics/service.js';
import type { Appointments } from '../appointments/module.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Config } from '../config.js';
import type { FeedbackService } from '../feedback/service.js';
import type { FinderSnapshot } from '../finder/snapshot.js';
import type { Ingest } from '../ingest/ingest.js';
import type { LiveState } from '../live/live-state.js';
import type { DeviceRepo } from '../state/devices.js';
import type { IngestErrorLog } from '../state/ingest-errors.js';
import type { SiteRepo } from '../state/sites.js';
import type { UserRepo } from '../state/users.js';
import type { DuckDbRollups } from '../telemetry/rollup-duckdb.js';
import type { TelemetryStore } from '../telemetry/store.js';

/** What the HTTP routes may work with, built once by the hub; each route plugin takes only the fields it uses (`Pick`). */
export interface ApiContext {
  config: Config;
  /** The hub's root logger; fastify logs requests through it. */
  log: FastifyBaseLogger;
  sites: SiteRepo;
  devices: DeviceRepo;
  users: UserRepo;
  live: LiveState;
  telemetry: TelemetryStore;
  ingest: Ingest;
  /** Its stats (events emitted, listener errors) are shown with the hub's counters. */
  bus: EventBus;
  ingestErrors: IngestErrorLog;
  broker: Broker;
  appointments: Appointments;
  /** The public finder's snapshot (issue 16). */
  finder: FinderSnapshot;
  /** Station feedback (issue 16). */
  feedback: FeedbackService;
  alerts: Alerts;
  /** Planners' trends (issue 12); null when the telemetry store keeps no rollups (InfluxDB). */
  analytics: { service: AnalyticsService; rollups: DuckDbRollups } | null;
  /** The MQTT port devices should use, as actually bound. */
  mqttPort: () => number;
  ready: () => Promise<Record<string, boolean>>;
}
