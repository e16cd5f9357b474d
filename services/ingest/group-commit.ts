import type { TelemetryBatch } from '../../contract/index.js';

/** Where a group commit goes: durable when it resolves, with the rows that were new. */
export interface CommitTarget {
  write(batch: TelemetryBatch): Promise<{ fresh: TelemetryBatch }>;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class BackpressureError extends Error {
  readonly code = 'INGEST_BACKPRESSURE';
}

export class ClosedError extends Error {
  readonly code = 'INGEST_CLOSED';
}

export interface StoreFailure {
  since: number;
  message: string;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

/**
 * Group commit: while one write is in flight, everything that arrives waits and goes in the next
 * write together, and each caller's promise settles when the write holding its rows commits. A
 * QoS 1 PUBACK therefore waits for durability, yet a busy hub writes few large batches rather than
 * many small ones. No timer: an idle hub writes a lone reading at once.
 *
 * The target is the ingest journal (JournalWriter); tests and tools may pass a TelemetryStore.
 * When it cannot write (disk full, journal full) the batch is retried with backoff and its
 * callers keep waiting: their devices get no PUBACK, keep the readings and stop sending more. New
 * rows queue up to `maxPendingRows`; beyond that callers are refused, so memory stays bounded.
 */
export class GroupCommit {
  private pending: TelemetryBatch = { readings: [], events: [] };
  private waiters: Waiter[] = [];
  private readonly writing = new Set<Promise<void>>();
  private scheduled = false;
  private lastStart = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly wakers = new Set<() => void>();
  /** Set while the store is refusing writes; cleared by the first write that succeeds. */
  failure: StoreFailure | null = null;

  private readonly maxPendingRows: number;
  private readonly maxInFlight: number;
  private readonly minIntervalMs: number;
  private readonly onStored: (fresh: TelemetryBatch) => void;
  private readonly onFailureChange: (failure: StoreFailure | null) => void;

  constructor(
    private readonly store: CommitTarget,
    opts: {
      maxPendingRows?: number;
      /** Called after each commit with the rows that were new, before their callers hear of it. */
      onStored?: (fresh: TelemetryBatch) => void;
      onFailureChange?: (failure: StoreFailure | null) => void;
      /**
       * Writes in flight at once. More than one only for a target whose writes are independent
       * and applied in the order they were made (the journal: its thread takes them in turn).
       */
      maxInFlight?: number;
      /**
       * Least time between the starts of two writes. A commit's fixed cost (a thread hop and an
       * fsync) is paid per write, not per reading, so at a few hundred readings a second, readings
       * that arrive a few ms apart share one write instead of paying it each.
       */
      minIntervalMs?: number;
    } = {},
  ) {
    this.maxPendingRows = opts.maxPendingRows ?? 200_000;
    this.maxInFlight = opts.maxInFlight ?? 1;
    this.minIntervalMs = opts.minIntervalMs ?? 0;
    this.onStored = opts.onStored ?? (() => {});
    this.onFailureChange = opts.onFailureChange ?? (() => {});
  }

  get pendingRows(): number {
    return this.pending.readings.length + this.pending.events.length;
  }

  submit(batch: TelemetryBatch): Promise<void> {
    if (this.closed) return Promise.reject(new ClosedError('ingest is shutting down'));
    if (this.pendingRows + batch.readings.length + batch.events.length > this.maxPendingRows) {
      return Promise.reject(
        new BackpressureError(`more than ${this.maxPendingRows} rows waiting to be stored`),
      );
    }
    for (const r of batch.readings) this.pending.readings.push(r);
    for (const e of batch.events) this.pending.events.push(e);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.schedule();
    return done;
  }

  /** Resolves when everything submitted so far has been written, or refused after close(). */
  async drain(): Promise<void> {
    while (this.writing.size > 0 || this.scheduled || this.waiters.length > 0) {
      await (this.writing.size > 0 ? Promise.all(this.writing) : new Promise((r) => setImmediate(r)));
    }
  }

  /**
   * Refuses new rows; a write that is failing stops retrying and its callers are refused (their
   * devices never got a PUBACK and will send again). Rows already accepted are still written.
   */
  close(): void {
    this.closed = true;
    for (const wake of this.wakers) wake();
  }

  private schedule(): void {
    if (this.writing.size >= this.maxInFlight || this.scheduled) return;
    this.scheduled = true;
    const start = () => {
      this.scheduled = false;
      if (this.waiters.length === 0) return;
      this.lastStart = performance.now();
      const writing: Promise<void> = this.flush().finally(() => {
        this.writing.delete(writing);
        if (this.waiters.length > 0) this.schedule();
      });
      this.writing.add(writing);
      if (this.waiters.length > 0) this.schedule();
    };
    const wait = this.lastStart + this.minIntervalMs - performance.now();
    // One turn of the event loop lets the rest of a socket read's publishes join this batch.
    if (wait > 0) setTimeout(start, wait);
    else setImmediate(start);
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = { readings: [], events: [] };
    this.waiters = [];
    for (let attempt = 0; ; attempt++) {
      try {
        const { fresh } = await this.store.write(batch);
        if (this.failure) this.setFailure(null);
        this.onStored(fresh);
        for (const w of waiters) w.resolve();
        return;
      } catch (err) {
        if (!this.failure) this.setFailure({ since: Date.now(), message: (err as Error).message });
        if (this.closed) {
          for (const w of waiters) w.reject(err as Error);
          return;
        }
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(timer);
            this.wakers.delete(wake);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** attempt));
          this.wakers.add(wake);
        });
      }
    }
  }

  private setFailure(failure: StoreFailure | null): void {
    this.failure = failure;
    this.onFailureChange(failure);
  }
}
