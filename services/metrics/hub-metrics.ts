import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Broker } from '../../broker/broker.js';
import type { Certificates } from '../../broker/tls-certificates.js';
import type { EventBus } from '../bus/event-bus.js';
import type { IngestStats } from '../ingest/ingest.js';
import type { JournalStats } from '../ingest/journaled-path.js';
import type { Part } from '../parts.js';
import { CheapHistogram } from './cheap-histogram.js';

/**
 * Where the figures come from. Read at scrape time (collect callbacks) from the counters the hub
 * keeps anyway for /api/stats, so the data path pays nothing twice; functions, because the hub
 * builds the metrics before the parts they read.
 */
export interface MetricsSources {
  ingest: () => IngestStats;
  broker: () => Broker;
  pendingRows: () => number;
  journal: () => JournalStats;
  slowDashboardsDropped: () => number;
  dashboards: () => number;
  openAlerts: () => { state: string; severity: string }[];
  bookings: () => Promise<{ status: string; n: number }[]>;
  ready: () => Promise<Record<string, boolean>>;
  /** Five-minute buckets waiting to be rolled up (DuckDB store only). */
  rollupBacklog?: () => Promise<number>;
  tls?: Certificates;
}

/** In ms. PUBACK waits mostly for the journal's fsync: a few ms, tens under load, seconds when failing. */
const LATENCY_BUCKETS_MS = [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10_000];
const COMMIT_ROWS_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384];

/** A counter whose value is a running total kept elsewhere. */
function mirrored(registry: Registry, name: string, help: string, read: () => number) {
  return new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/**
 * The hub's Prometheus metrics (issue 15). Counters the hub already keeps are mirrored at scrape
 * time; the only figures recorded on the data path are the two latency histograms (CheapHistogram),
 * observed once per acknowledged publish and once per group commit, and refusals, counted from the bus event
 * each one already raises.
 */
export class HubMetrics implements Part {
  readonly name = 'metrics';
  readonly registry = new Registry();
  private readonly puback: CheapHistogram;
  private readonly commit: CheapHistogram;
  private readonly commitRows: Histogram;
  private readonly refusals: Counter<'code'>;
  private off = () => {};

  constructor(
    private readonly bus: EventBus,
    src: MetricsSources,
  ) {
    const r = this.registry;
    this.puback = new CheapHistogram(
      'yizhan_puback_latency_seconds',
      'From a QoS 1 publish arriving to its readings being durable (its PUBACK is then sent)',
      LATENCY_BUCKETS_MS,
      r,
      1000,
    );
    this.commit = new CheapHistogram(
      'yizhan_commit_latency_seconds',
      'One group commit into the ingest journal (write and fsync)',
      LATENCY_BUCKETS_MS,
      r,
      1000,
    );
    this.commitRows = new Histogram({
      name: 'yizhan_commit_rows',
      help: 'Readings and events per group commit',
      buckets: COMMIT_ROWS_BUCKETS,
      registers: [r],
    });
    this.refusals = new Counter({
      name: 'yizhan_refusals_total',
      help: 'Messages and logins of known devices refused, by error code',
      labelNames: ['code'],
      registers: [r],
    });

    mirrored(r, 'yizhan_messages_total', 'MQTT publishes taken by ingest', () => src.ingest().messages);
    mirrored(r, 'yizhan_readings_total', 'Readings stored', () => src.ingest().readings);
    mirrored(r, 'yizhan_events_total', 'Device events stored', () => src.ingest().events);
    mirrored(
      r,
      'yizhan_store_failures_total',
      'Publishes not acknowledged: the journal failed',
      () => src.ingest().storeFailures,
    );
    mirrored(
      r,
      'yizhan_journal_moves_total',
      'Moves from the journal into the telemetry store',
      () => src.journal().moves,
    );
    mirrored(
      r,
      'yizhan_journal_move_failures_total',
      'Moves the telemetry store refused',
      () => src.journal().moveFailures,
    );
    mirrored(r, 'yizhan_dashboards_dropped_total', 'socket.io clients dropped for not reading', () =>
      src.slowDashboardsDropped(),
    );
    new Counter({
      name: 'yizhan_broker_refusals_total',
      help: 'Connections refused before a device was known, by reason',
      labelNames: ['reason'],
      registers: [r],
      collect() {
        const s = src.broker().stats;
        this.reset();
        this.inc({ reason: 'connect' }, s.connectRefused);
        this.inc({ reason: 'protocol' }, s.protocolErrors);
        this.inc({ reason: 'packet_too_large' }, s.packetsTooLarge);
        this.inc({ reason: 'tls' }, s.tlsRefused);
      },
    });

    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(read());
        },
      });
    gauge('yizhan_pending_rows', 'Rows waiting for the next group commit', src.pendingRows);
    gauge(
      'yizhan_journal_rows',
      'Rows in the journal not yet moved to the telemetry store',
      () => src.journal().rows,
    );
    gauge(
      'yizhan_journal_max_rows',
      'Journal rows at which PUBACKs are withheld',
      () => src.journal().maxRows,
    );
    gauge('yizhan_connected_devices', 'MQTT connections', () => src.broker().aedes.connectedClients);
    gauge('yizhan_connected_dashboards', 'socket.io connections', src.dashboards);
    if (src.tls) {
      const tls = src.tls;
      gauge('yizhan_tls_certificate_expiry_timestamp_seconds', 'When the served certificate expires', () =>
        Math.floor(tls.notAfter.getTime() / 1000),
      );
      mirrored(
        r,
        'yizhan_tls_reload_failures_total',
        'Certificate reloads refused',
        () => tls.stats.reloadFailures,
      );
    }

    new Gauge({
      name: 'yizhan_open_alerts',
      help: 'Open alerts by state and severity',
      labelNames: ['state', 'severity'],
      registers: [r],
      collect() {
        this.reset();
        for (const a of src.openAlerts()) this.inc({ state: a.state, severity: a.severity });
      },
    });
    new Gauge({
      name: 'yizhan_bookings',
      help: 'Screening bookings by status (booked, checked_in, no_show, cancelled)',
      labelNames: ['status'],
      registers: [r],
      async collect() {
        this.reset();
        for (const b of await src.bookings()) this.set({ status: b.status }, b.n);
      },
    });
    const backlog = src.rollupBacklog;
    if (backlog) {
      new Gauge({
        name: 'yizhan_rollup_pending_buckets',
        help: "Five-minute buckets written to and not rolled up yet: planners' answers still read them from raw",
        registers: [r],
        async collect() {
          this.set(await backlog());
        },
      });
    }
    new Gauge({
      name: 'yizhan_ready',
      help: 'Health of each part /readyz checks (state and telemetry stores, journal, broker): 1 ready',
      labelNames: ['part'],
      registers: [r],
      async collect() {
        for (const [part, ok] of Object.entries(await src.ready())) this.set({ part }, ok ? 1 : 0);
      },
    });
  }

  /** One acknowledged publish, `ms` after it arrived. */
  readonly acked = (ms: number): void => {
    this.puback.observe(ms);
  };

  /** One group commit of `rows` rows that took `ms`. */
  readonly committed = (ms: number, rows: number): void => {
    this.commit.observe(ms);
    this.commitRows.observe(rows);
  };

  async start(): Promise<void> {
    // Process CPU, memory, GC and event-loop lag (nodejs_eventloop_lag_*), as every Node exporter.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });
    this.off = this.bus.on('device.refused', ({ code }) => this.refusals.inc({ code }));
  }

  async stop(): Promise<void> {
    this.off();
  }
}
