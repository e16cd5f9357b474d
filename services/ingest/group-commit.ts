import type { TelemetryBatch, TelemetryStore } from '../telemetry/store.js';

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class BackpressureError extends Error {
  readonly code = 'INGEST_BACKPRESSURE';
}

/**
 * Group commit: while one write is in flight, everything that arrives waits and goes in the next
 * write together, and each caller's promise settles when the write holding its rows commits. A
 * QoS 1 PUBACK therefore waits for durability, yet a busy hub writes few large batches rather than
 * many small ones. No timer: an idle hub writes a lone reading at once.
 */
export class GroupCommit {
  private pending: TelemetryBatch = { readings: [], events: [] };
  private waiters: Waiter[] = [];
  private writing: Promise<void> | null = null;
  private scheduled = false;

  constructor(
    private readonly store: TelemetryStore,
    /** Rows allowed to wait; beyond it, callers are refused so memory stays bounded. */
    private readonly maxPendingRows = 200_000,
  ) {}

  get pendingRows(): number {
    return this.pending.readings.length + this.pending.events.length;
  }

  submit(batch: TelemetryBatch): Promise<void> {
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

  /** Resolves when everything submitted so far has been written (or failed). */
  async drain(): Promise<void> {
    while (this.writing || this.scheduled || this.waiters.length > 0) {
      await (this.writing ?? new Promise((r) => setImmediate(r)));
    }
  }

  private schedule(): void {
    if (this.writing || this.scheduled) return;
    this.scheduled = true;
    // One turn of the event loop lets the rest of a socket read's publishes join this batch.
    setImmediate(() => {
      this.scheduled = false;
      this.writing = this.flush().finally(() => {
        this.writing = null;
        if (this.waiters.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    const waiters = this.waiters;
    this.pending = { readings: [], events: [] };
    this.waiters = [];
    try {
      await this.store.write(batch);
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err as Error);
    }
  }
}
