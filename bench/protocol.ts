/**
 * What the bench driver, the load generator process and its worker threads say to each other, and
 * the one reading every publisher sends. Times are epoch milliseconds with sub-millisecond precision
 * (see epochNow), so that times taken in different threads and processes can be compared.
 */

/** Epoch ms with sub-ms precision; consistent across threads and processes of one machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface PublisherSpec {
  clientId: string;
  /** Omitted for the reference brokers, which run without authentication. */
  username?: string;
  password?: string;
  topic: string;
}

export type ObserverSpec =
  /** Counts every message a subscriber on `topic` receives (the reference brokers). */
  | { kind: 'mqtt'; url: string; topic: string }
  /** A dashboard: socket.io with a session cookie, watching `sites` events (the hub). */
  | { kind: 'live'; url: string; cookie: string; markerDeviceId: string };

export interface GeneratorSetup {
  url: string;
  workers: number;
  publishers: PublisherSpec[];
  /** A dedicated device whose readings carry increasing timestamps, to time publish→socket.io. */
  marker?: PublisherSpec & { deviceId: string; intervalMs: number };
  observer: ObserverSpec;
}

export type RunMode =
  /** As fast as acknowledgements allow: `inflight` unacknowledged publishes per publisher. */
  | { kind: 'window'; inflight: number }
  /** A fixed offered rate (publishes/s over all publishers), spread evenly. */
  | { kind: 'paced'; rate: number };

export interface RunSpec {
  qos: 0 | 1;
  mode: RunMode;
  /**
   * Reference runs only: at most this many messages sent and not yet seen by the subscriber, over
   * all publishers, so a broker is measured at the rate it delivers rather than buffering or
   * dropping what it cannot deliver.
   */
  credit?: number;
  startAt: number;
  /** Counted window [measureFrom, measureTo); publishing stops at measureTo. */
  measureFrom: number;
  measureTo: number;
  /** Per-device sequence numbers of this run start here, so that no run repeats a (device, seq). */
  seqBase: number;
  /** How long to wait for outstanding acknowledgements after measureTo. */
  drainMs: number;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface RunResult {
  /** Publishes sent / acknowledged (QoS 1: PUBACK; QoS 0: written) inside the window. */
  sentInWindow: number;
  ackedInWindow: number;
  sentTotal: number;
  ackedTotal: number;
  /** Publishes still unacknowledged when the drain time ran out. */
  unacked: number;
  /** Publish → acknowledgement, ms, for publishes sent inside the window. */
  ackLatency: Percentiles;
  /** Reference runs: messages the subscriber received inside the window. */
  deliveredInWindow?: number;
  /** Hub runs: sites in socket.io `sites` events received inside the window. */
  siteEventsInWindow?: number;
  /** Hub runs: publish → first `sites` event showing the marker reading (or a newer one), ms. */
  liveLatency?: Percentiles & { missed: number };
  /** Hub runs: devices whose last acknowledged reading the socket.io client saw, after a short settle. */
  liveFresh?: { fresh: number; devices: number };
  payloadBytes: number;
  errors: string[];
}

/** Parent → generator process. */
export type GeneratorRequest =
  | { type: 'setup'; id: number; setup: GeneratorSetup }
  | { type: 'run'; id: number; run: RunSpec }
  | { type: 'close'; id: number };

/** Generator process → parent. */
export type GeneratorReply =
  | { type: 'ok'; id: number; result?: RunResult }
  | { type: 'error'; id: number; message: string };

/**
 * One reading of a water dispenser, ~140 bytes of JSON: unrounded floats as a real sensor sends them.
 * The same bytes go to the reference brokers and to the hub.
 */
export function readingPayload(seq: number, ts: number): string {
  const on = Math.random() < 0.5;
  const power = on ? 400 + Math.random() * 1600 : Math.random() * 5;
  const level = Math.random() * 100;
  return `{"readings":[{"seq":${seq},"ts":${ts},"values":{"on":${on},"power_w":${power},"water_level_pct":${level}}}]}`;
}

/** Marker reading of an occupancy counter; its ts identifies it in the hub's `sites` events. */
export function markerPayload(seq: number, ts: number, occupancy: number): string {
  return `{"readings":[{"seq":${seq},"ts":${ts},"values":{"occupancy":${occupancy}}}]}`;
}

export function percentiles(samples: Float64Array | number[]): Percentiles {
  const sorted = Float64Array.from(samples).sort();
  const at = (q: number) =>
    sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN;
  return {
    n: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}
