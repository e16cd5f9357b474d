import type { TelemetryBatch } from '../../contract/index.js';
import type { Part } from '../parts.js';
import type { TelemetryStore } from '../telemetry/store.js';
import type { StoreFailure } from './group-commit.js';
import { entryBatch, type Journal, type JournalEntry } from './journal.js';

export interface MoverOptions {
  /** Move as soon as this many rows wait… */
  moveRows: number;
  /** …or once the oldest waiting row is this old. */
  moveEveryMs: number;
  /** Entries kept in memory for the next move; beyond this they are read back from the journal. */
  maxMemoryRows?: number;
  /** How long stop() tries a last move before leaving the rest in the (durable) journal. */
  stopWithinMs?: number;
  onFailureChange?: (failure: StoreFailure | null) => void;
  /** Every entry up to this id is in the store now. */
  onMoved?: (throughId: number) => void;
}

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 5000;

/**
 * Moves journaled readings and events into the telemetry store in large batches, off the PUBACK
 * path: one store transaction a second (or per `moveRows`) instead of one per group commit. An
 * entry leaves the journal only after the store write that holds it resolved, so a crash at any
 * point replays it; the store keeps the first copy of a (device, seq), so replaying is harmless and
 * every reading is stored exactly once.
 *
 * Entries journaled while this process runs are handed over in memory (no read back); after a
 * restart, and beyond the first `maxMemoryRows` when the store is far behind (an outage, a long
 * checkpoint), they are read from the journal in id order. Dropping the whole memory tail at that
 * point made the mover read back and parse everything (journal reads were 3.4 % of the main
 * thread at full rate); now only what did not fit is read back.
 */
export class JournalMover implements Part {
  readonly name = 'journal mover';
  readonly stats = { moves: 0, movedRows: 0, failures: 0, releaseFailures: 0 };
  failure: StoreFailure | null = null;

  private tail: JournalEntry[] = [];
  private tailRows = 0;
  /** The tail (entries right after `movedThrough`) stops short: the journal holds more after it. */
  private spilled = true;
  /** Every entry up to this id is in the store. */
  private movedThrough = 0;
  /** Rows in the store whose journal entries could not be deleted yet. */
  private unreleasedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private moving: Promise<void> | null = null;
  private running = false;
  private waiters: { upTo: number; resolve: () => void }[] = [];
  private readonly maxMemoryRows: number;

  constructor(
    private readonly journal: Journal,
    private readonly store: TelemetryStore,
    private readonly opts: MoverOptions,
  ) {
    this.maxMemoryRows = opts.maxMemoryRows ?? 4 * opts.moveRows;
  }

  async start(): Promise<void> {
    this.running = true;
    this.schedule(0);
  }

  /** Tries a last move within `stopWithinMs`; what is left stays in the journal for the next start. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const bound = new Promise<void>((r) => setTimeout(r, this.opts.stopWithinMs ?? 5000).unref());
    const last = (async () => {
      await this.moving;
      while (!this.failure && this.pendingRows() > 0) if (!(await this.moveOnce())) break;
    })();
    await Promise.race([last.catch(() => {}), bound]);
    // A write still in flight must settle before the store and journal close behind us.
    await this.moving?.catch(() => {});
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /** A committed journal entry: moved with the next batch. */
  enqueue(entry: JournalEntry): void {
    if (!this.spilled) {
      this.tail.push(entry);
      this.tailRows += entry.rows;
      // The store is far behind: keep what is in memory, and let the journal alone hold the rest
      // until the mover reads it back.
      if (this.tailRows > this.maxMemoryRows) this.spilled = true;
    }
    if (this.moving) return;
    this.schedule(this.pendingRows() >= this.opts.moveRows ? 0 : this.opts.moveEveryMs);
  }

  /**
   * Resolves once everything journaled before this call is in the store, or after `timeoutMs`:
   * a query after a PUBACK then sees the reading (read your writes), and a store outage delays it
   * by at most the timeout.
   */
  settled(timeoutMs: number): Promise<void> {
    const upTo = this.journal.lastId;
    if (this.movedThrough >= upTo || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiter = { upTo, resolve: done };
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.waiters.push(waiter);
      if (!this.moving) this.schedule(0);
    });
  }

  private pendingRows(): number {
    return this.spilled ? this.journal.rows - this.unreleasedRows : this.tailRows;
  }

  private schedule(ms: number): void {
    if (!this.running || this.moving) return;
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.moving = this.loop().finally(() => {
        this.moving = null;
        if (this.pendingRows() > 0) this.schedule(this.nextDelay());
      });
    }, ms);
  }

  /** At once when a full batch or a reader waits; otherwise when the oldest row is due. */
  private nextDelay(): number {
    if (this.failure) return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(this.stats.failures, 5));
    if (this.pendingRows() >= this.opts.moveRows || this.waiters.length > 0) return 0;
    return this.opts.moveEveryMs;
  }

  private async loop(): Promise<void> {
    while (this.running && this.pendingRows() > 0) {
      if (!(await this.moveOnce())) return;
      if (this.pendingRows() < this.opts.moveRows && this.waiters.length === 0) return;
    }
  }

  /** One store write of up to about `moveRows` rows; false when the store refused it or there was nothing. */
  private async moveOnce(): Promise<boolean> {
    await this.release();
    const entries = await this.take();
    if (entries.length === 0) return false;
    const batch: TelemetryBatch = { readings: [], events: [] };
    let rows = 0;
    for (const e of entries) {
      const { readings, events } = entryBatch(e);
      for (const r of readings) batch.readings.push(r);
      for (const x of events) batch.events.push(x);
      rows += e.rows;
    }
    const through = entries.at(-1)!.id;
    try {
      await this.store.write(batch);
    } catch (err) {
      this.stats.failures += 1;
      if (!this.failure) this.setFailure({ since: Date.now(), message: (err as Error).message });
      // Back in front, in the same order: the next try starts with them.
      this.tail = [...entries, ...this.tail];
      this.tailRows += rows;
      return false;
    }
    this.movedThrough = through;
    this.opts.onMoved?.(through);
    this.unreleasedRows += rows;
    await this.release();
    this.stats.moves += 1;
    this.stats.movedRows += rows;
    if (this.failure) this.setFailure(null);
    for (const w of this.waiters) if (w.upTo <= through) w.resolve();
    this.waiters = this.waiters.filter((w) => w.upTo > through);
    return true;
  }

  /**
   * Deletes what is in the store from the journal. On a full disk even a DELETE can fail: the rows
   * then stay (moving them again after a restart is harmless) and the next move tries again.
   */
  private async release(): Promise<void> {
    if (this.unreleasedRows === 0) return;
    try {
      await this.journal.release(this.movedThrough, this.unreleasedRows);
      this.unreleasedRows = 0;
    } catch {
      this.stats.releaseFailures += 1;
    }
  }

  /** The next entries to move: from memory, or read back from the journal after a restart or a spill. */
  private async take(): Promise<JournalEntry[]> {
    if (this.tail.length > 0) {
      const out: JournalEntry[] = [];
      let rows = 0;
      while (this.tail.length > 0 && rows < this.opts.moveRows) {
        const e = this.tail.shift()!;
        rows += e.rows;
        out.push(e);
      }
      this.tailRows -= rows;
      return out;
    }
    if (!this.spilled) return [];
    const out = await this.journal.read(this.movedThrough, this.opts.moveRows);
    const last = out.at(-1)?.id ?? this.movedThrough;
    // Caught up with the journal: from here on, new entries come through enqueue().
    if (last >= this.journal.lastId) this.spilled = false;
    return out;
  }

  private setFailure(failure: StoreFailure | null): void {
    this.failure = failure;
    this.opts.onFailureChange?.(failure);
  }
}
