import type { EventRow, RangePoint, TelemetryBatch } from '../../contract/index.js';

export interface WriteResult {
  readings: number;
  events: number;
  fresh: TelemetryBatch;
}

/** Consecutive seqs `[first, last]` of one device, all stored. */
export type SeqRun = [deviceId: string, first: number, last: number];

export interface LatestValue {
  deviceId: string;
  metric: string;
  ts: number;
  value: number;
}

export interface RangeSpec {
  siteId?: string;
  deviceId?: string;
  metric: string;
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms. */
  to: number;
  bucketMs: number;
  /**
   * The hub zone's UTC offset (ms): buckets start at multiples of bucketMs on local wall-clock time,
   * so daily buckets begin at local midnight, not at 08:00 in Shanghai. 0 (UTC) when omitted.
   */
  alignMs?: number;
  agg: 'avg' | 'min' | 'max' | 'sum' | 'count' | 'last';
}

export interface EventCountSpec {
  siteId?: string;
  deviceId?: string;
  type: string;
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms. */
  to: number;
  bucketMs: number;
  /** As in RangeSpec. */
  alignMs?: number;
}

export interface EventQuery {
  siteId?: string;
  deviceId?: string;
  type?: string;
  from: number;
  to: number;
  limit: number;
}

/**
 * What only some stores can do (issue 13). Absent `capabilities`: all of them (the DuckDB store).
 */
export interface StoreCapabilities {
  /**
   * write() keeps the first copy of a (deviceId, seq) across batches and reports exactly which rows
   * were new (DuckDB). Without it (InfluxDB) a resend is harmless, not detected: it has the same
   * series key and timestamp and overwrites its own point; the store reports the batch (deduplicated
   * within itself) as new, so what is news must be decided before the store, in ingest.
   */
  countsNew: boolean;
}

/**
 * Where telemetry lives: DuckDB embedded, InfluxDB when scaled out. Every implementation passes
 * tests/telemetry-store.contract.ts, which skips what a store's capabilities say it lacks.
 */
export interface TelemetryStore {
  readonly name: string;
  readonly capabilities?: StoreCapabilities;
  /**
   * Durable when the promise resolves: the hub acknowledges QoS 1 publishes only after this.
   * Idempotent: storing a (deviceId, seq) reading or event again changes nothing. With `countsNew`
   * the first copy wins and the result names what was new; only that is news to the rest of the
   * hub (live state, alerts), so a resend can never show what was not stored.
   */
  write(batch: TelemetryBatch): Promise<WriteResult>;
  /**
   * What is stored, as runs of consecutive seqs per device, readings and events apart: ingest
   * loads it at start to tell new rows from resends without asking the store for each one.
   */
  seqRuns(): Promise<{ readings: SeqRun[]; events: SeqRun[] }>;
  /** The rows of `batch` that are not stored yet, by (deviceId, seq); for the few ingest cannot tell. */
  unstored(batch: TelemetryBatch): Promise<TelemetryBatch>;
  /** Newest value of every metric of the given devices (all devices when omitted). */
  latest(deviceIds?: readonly string[]): Promise<LatestValue[]>;
  /** One point per bucket in [from, to), buckets aligned as bucketGrid() says; empty buckets carry value null and count 0. */
  range(spec: RangeSpec): Promise<RangePoint[]>;
  /**
   * Events of one type per bucket in [from, to), buckets aligned as in range(). A count is data even
   * when it is zero, so every bucket has value === count (0 for an empty bucket, not null).
   */
  eventCounts(spec: EventCountSpec): Promise<RangePoint[]>;
  /** Newest first. */
  events(query: EventQuery): Promise<EventRow[]>;
  /** Throws when the store cannot be reached or written. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** The most buckets one range or event-count query may ask for. */
export const MAX_RANGE_BUCKETS = 10_000;

/**
 * Bucket starts for [from, to): multiples of bucketMs on the wall clock `alignMs` ahead of UTC (the
 * hub zone's offset at `from`; across a DST change the later buckets keep that offset), at most
 * MAX_RANGE_BUCKETS. The analytics rollups follow every DST change; this grid serves the live charts.
 */
export function bucketGrid(
  from: number,
  to: number,
  bucketMs: number,
  alignMs = 0,
): { first: number; buckets: number } {
  if (!Number.isSafeInteger(bucketMs) || bucketMs <= 0) throw new Error(`bad bucketMs ${bucketMs}`);
  const first = Math.floor((from + alignMs) / bucketMs) * bucketMs - alignMs;
  const buckets = Math.ceil((to - first) / bucketMs);
  if (buckets > MAX_RANGE_BUCKETS) {
    throw Object.assign(new Error(`${buckets} buckets requested, at most ${MAX_RANGE_BUCKETS}`), {
      code: 'RANGE_TOO_LARGE',
    });
  }
  return { first, buckets };
}
