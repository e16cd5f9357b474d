import type { DestinationStream } from 'pino';
import type { Broker } from '../broker/broker.js';
import { Certificates } from '../broker/tls-certificates.js';
import { ensureAdmin } from './admin/first-admin.js';
import { operationsParts } from './admin/operations.js';
import { type Alerts, type AlertsOptions, createAlerts } from './alerts/module.js';
import { createAnalytics } from './analytics/module.js';
import { buildApi } from './api/server.js';
import { type Appointments, createAppointments } from './appointments/module.js';
import { EventBus } from './bus/event-bus.js';
import { createCluster } from './cluster/cluster.js';
import { type Config, type ConfigInput, loadConfig } from './config.js';
import { FeedbackService } from './feedback/service.js';
import { FinderSnapshot } from './finder/snapshot.js';
import { hubBroker } from './hub-broker.js';
import { Ingest } from './ingest/ingest.js';
import { journaledPath } from './ingest/journaled-path.js';
import { DeviceRateLimit } from './ingest/rate-limit.js';
import { LiveState } from './live/live-state.js';
import { attachLiveSocket } from './live/socket.js';
import { createLog } from './log.js';
import { busLog } from './log-events.js';
import { HubMetrics } from './metrics/hub-metrics.js';
import { OutboxRepo } from './outbox/repo.js';
import { part, startParts } from './parts.js';
import { checkDataDir, recordVersion } from './state/data-version.js';
import { openStateDb, stateDbReady } from './state/db.js';
import { DeviceRepo } from './state/devices.js';
import { IngestErrorLog } from './state/ingest-errors.js';
import { SiteRepo } from './state/sites.js';
import { UserRepo } from './state/users.js';
import { openTelemetry } from './telemetry/open.js';
import type { RollupScheduler } from './telemetry/rollup-scheduler.js';
import type { TelemetryStore } from './telemetry/store.js';

export interface Hub {
  config: Config;
  httpUrl: string;
  mqttUrl: string;
  wsUrl: string;
  /** MQTT over TLS, when the hub has a certificate. */
  mqttsUrl?: string;
  /** Reads the certificate files again (SIGHUP); false when they did not load (the old stays). */
  reloadTls(): boolean;
  /** Set when this start created the admin user and generated its password. */
  generatedAdminPassword?: string;
  bus: EventBus;
  /** The devices' MQTT broker (aedes inside). */
  broker: Broker;
  ingest: Ingest;
  appointments: Appointments;
  /** The public finder's snapshot; its stats count builds against requests. */
  finder: FinderSnapshot;
  alerts: Alerts;
  /** Takes a backup into an empty directory (as `npm run backup` does through the control socket). */
  backup: ReturnType<typeof operationsParts>['backup'];
  /**
   * The telemetry store as the API reads it. Its write() goes straight to the store, past the
   * journal and the bus, so nothing written there reaches live state or alerts: for history only
   * (the demo's backfill), never for live readings.
   */
  telemetry: TelemetryStore;
  /** Rolls up and purges telemetry (DuckDB store only); tests flush it. */
  rollups: RollupScheduler | null;
  close(): Promise<void>;
}

export interface HubOptions {
  /** The clock of appointment rules (cut-off, no-shows, retention); tests pass their own. */
  now?: () => number;
  /** The alerts' clock and tick (tests drive durations with a fake clock). */
  alerts?: AlertsOptions;
  /** Where log lines go instead of stdout (tests read them). */
  logDestination?: DestinationStream;
}

/**
 * The whole hub in this process. The hub only wires: it opens the stores, builds each part on the
 * event bus, starts them in order (stores, counters, live state, ingest, appointments, HTTP,
 * socket.io, broker) and stops them in reverse, so on SIGTERM the broker first stops taking
 * publishes and acknowledges what it took, and the stores close last. `overrides` take precedence
 * over the environment (tests and the demo use them).
 */
export async function startHub(overrides: ConfigInput = {}, options: HubOptions = {}): Promise<Hub> {
  const config = loadConfig({ ...process.env, ...stringify(overrides) });
  const log = createLog({
    level: config.LOG_LEVEL,
    format: config.LOG_FORMAT,
    destination: options.logDestination,
  });
  // Read first: a missing or mismatched certificate stops the start before any store is opened.
  const certificates = config.TLS_CERT
    ? new Certificates({ cert: config.TLS_CERT, key: config.TLS_KEY!, ca: config.TLS_CA }, log)
    : undefined;
  const bus = new EventBus(log);

  await checkDataDir(config.dataDir);
  const db = await openStateDb(config.dataDir, {
    databaseUrl: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
  });
  const { store: telemetry, rollups } = await openTelemetry(config).catch(async (err) => {
    await db.destroy();
    throw err;
  });
  const sites = new SiteRepo(db, bus);
  const devices = new DeviceRepo(db, bus);
  const users = new UserRepo(db, config.SESSION_TTL_H * 3_600_000, bus);
  const ingestErrors = new IngestErrorLog(db, bus);
  const rateLimit = new DeviceRateLimit(config.DEVICE_RATE_PER_S, config.DEVICE_RATE_BURST);
  const cluster = config.REDIS_URL
    ? createCluster({
        url: config.REDIS_URL,
        prefix: config.REDIS_PREFIX,
        deadAfterMs: config.CLUSTER_DEAD_AFTER_MS,
        bus,
        devices,
        rateLimit,
        log,
      })
    : undefined;
  if (cluster && !config.INFLUX_URL) {
    log.warn({}, 'REDIS_URL without INFLUX_URL: each hub keeps the readings it took in its own DuckDB');
  }
  const appointments = await createAppointments({
    db,
    sites,
    bus,
    config,
    log,
    now: options.now,
    runOnce: cluster?.leased,
  });
  const alerts = createAlerts({ db, devices, sites, telemetry, bus, config, log, options: options.alerts });
  const live = new LiveState(devices, bus, {
    timeZone: config.HUB_TZ,
    staleAfterMs: config.STALE_AFTER_S * 1000,
  });
  const finder = new FinderSnapshot({
    bus,
    sites,
    live,
    screening: appointments.summaries,
    timeZone: config.HUB_TZ,
    staleAfterMs: config.STALE_AFTER_S * 1000,
    onError: (err) => log.error({ err }, 'finder'),
  });
  const feedback = new FeedbackService(db, bus, { timeZone: config.HUB_TZ, now: options.now });
  // Read at scrape time; the parts they read are built below (the functions run only once started).
  const metrics: HubMetrics = new HubMetrics(bus, {
    ingest: () => ingest.stats,
    broker: () => broker,
    pendingRows: () => journaled.commit.pendingRows,
    journal: () => journaled.stats(),
    slowDashboardsDropped: () => live.stats.slowClientsDropped,
    dashboards: () => socket.io.engine.clientsCount,
    openAlerts: () => alerts.ledger.list().map((a) => ({ state: a.row.state, severity: a.row.severity })),
    bookings: () => appointments.repo.statusCounts(),
    ready: () => readiness(),
    rollupBacklog: rollups ? () => rollups.backlog() : undefined,
    tls: certificates,
  });
  // Readings are acknowledged once in the ingest journal, and moved into the store in large batches.
  const journaled = journaledPath({
    journalDir: config.journalDir,
    maxRows: config.JOURNAL_MAX_ROWS,
    moveRows: config.JOURNAL_MOVE_ROWS,
    moveEveryMs: config.JOURNAL_MOVE_EVERY_MS,
    commitGapMs: config.JOURNAL_COMMIT_GAP_MS,
    store: telemetry,
    bus,
    committed: metrics.committed,
  });
  const { commit } = journaled;
  const operations = operationsParts({
    config,
    db,
    users,
    telemetry,
    backupJournal: journaled.backupJournal,
    log,
  });
  const analytics = createAnalytics(rollups, {
    config,
    sites,
    devices,
    screening: appointments.summaries,
    log,
    now: options.now,
  });
  const ingest = new Ingest(
    commit,
    bus,
    {
      maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
      maxFutureMs: config.MAX_CLOCK_SKEW_S * 1000,
      maxAgeMs: config.MAX_READING_AGE_D * 86_400_000,
    },
    rateLimit,
    journaled.stats,
    metrics.acked,
  );
  const readiness = async () => ({
    state: await stateDbReady(db),
    ...(await journaled.ready()),
    broker: broker.ready,
    ...(cluster && { redis: cluster.link.ready }),
  });
  const { broker, part: brokerPart } = await hubBroker({
    config,
    bus,
    devices,
    ingest,
    rateLimit,
    cluster,
    certificates,
    http: () => api.server,
    log,
  });
  const api = await buildApi({
    config,
    log,
    sites,
    devices,
    users,
    live,
    telemetry: journaled.reads,
    ingest,
    bus,
    ingestErrors,
    broker,
    appointments,
    finder,
    feedback,
    alerts,
    outbox: new OutboxRepo(db),
    analytics: analytics.api,
    mqttPort: () => broker.port,
    mqttsPort: () => broker.tlsPort,
    tls: certificates,
    ready: () => readiness(),
    metrics,
    cluster: cluster?.api,
  });
  const socket = attachLiveSocket(api.server, live, users, bus, {
    maxQueuedPackets: config.LIVE_CLIENT_MAX_QUEUE,
    maxBufferedBytes: 4 * 1024 * 1024,
    everyMs: 1000,
  });

  let generatedAdminPassword: string | undefined;
  const stopAll = await startParts(
    [
      part(
        'state store',
        () => {},
        () => db.destroy(),
      ),
      part(
        'telemetry store',
        () => {},
        () => telemetry.close(),
      ),
      ...journaled.parts,
      part('data version', () => recordVersion(db, config.dataDir)),
      ...(analytics.scheduler ? [analytics.scheduler] : []),
      part('admin user', async () => {
        generatedAdminPassword = await ensureAdmin(users, config);
      }),
      ...operations.parts,
      part('device directory', () => devices.load()),
      ...(cluster ? [cluster.part] : []),
      ingestErrors,
      metrics,
      busLog(bus, log),
      part(
        'live state',
        async () => live.start({ sites: await sites.list(), latest: await journaled.reads.latest() }),
        () => live.stop(),
      ),
      cluster ? cluster.leased('alerts', alerts) : alerts,
      part(
        'ingest',
        () => {},
        () => ingest.stop(),
      ),
      appointments,
      finder,
      part(
        'http',
        () => api.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST }).then(() => {}),
        () => api.close(),
      ),
      part(
        'socket.io',
        () => {},
        () => socket.close(),
      ),
      brokerPart,
    ],
    log,
  );

  const httpPort = (api.server.address() as { port: number }).port;
  const host = config.HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.HTTP_HOST;
  const mqttHost = config.MQTT_HOST === '0.0.0.0' ? '127.0.0.1' : config.MQTT_HOST;

  const scheme = certificates ? 'https' : 'http';
  alerts.setPublicUrl(`${scheme}://${host}:${httpPort}`);
  const mqttsUrl = broker.tlsPort === null ? undefined : `mqtts://${mqttHost}:${broker.tlsPort}`;
  let closing: Promise<void> | undefined;
  return {
    config,
    httpUrl: `${scheme}://${host}:${httpPort}`,
    mqttUrl: broker.port === null ? mqttsUrl! : `mqtt://${mqttHost}:${broker.port}`,
    wsUrl: `${certificates ? 'wss' : 'ws'}://${host}:${httpPort}/mqtt`,
    mqttsUrl,
    reloadTls: () => certificates?.reload() ?? false,
    generatedAdminPassword,
    bus,
    broker,
    ingest,
    appointments,
    finder,
    alerts,
    backup: operations.backup,
    telemetry: journaled.reads,
    rollups: analytics.scheduler,
    close: () => {
      closing ??= stopAll();
      return closing;
    },
  };
}

function stringify(o: ConfigInput): Record<string, string> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}
