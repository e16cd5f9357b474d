import type { Part } from '../parts.js';
import type { DuckDbRollups } from './rollup-duckdb.js';

/** Readings stamped just before a bucket's end still arrive: moved from the journal within a second, or a little late. */
const ROLL_GRACE_MS = 15_000;

export interface RollupSchedulerOptions {
  timeZone: string;
  /** How often dirty buckets are rolled up; queries see the raw tail meanwhile. */
  everyMs: number;
  /** Raw readings and events older than this are purged; rollups stay. */
  retentionMs: number;
  purgeEveryMs?: number;
  now?: () => number;
  onError: (err: unknown) => void;
}

/**
 * When rollups are rolled and raw rows purged: one small Part, so that a cluster lease can wrap
 * start()/stop() and let one hub do it. Each pass rolls a few hours of dirty buckets per
 * transaction and yields in between, and purges in hour slices, so ingest never waits long.
 */
export class RollupScheduler implements Part {
  readonly name = 'rollups';
  readonly stats = { rolls: 0, rolledBuckets: 0, purgedRows: 0, failures: 0 };
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Set by stop(): a pass ends after the roll in hand; the marks are durable, the next start goes on. */
  private stopping = false;
  private pass: Promise<void> | null = null;
  private lastPurge = 0;

  constructor(
    private readonly rollups: DuckDbRollups,
    private readonly opts: RollupSchedulerOptions,
  ) {}

  async start(): Promise<void> {
    this.running = true;
    this.stopping = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pass;
  }

  /** Rolls everything dirty now, open buckets too (and purges when due); for tests and before an export. */
  async flush(): Promise<void> {
    await this.pass;
    this.pass = this.runPass(Number.MAX_SAFE_INTEGER).finally(() => {
      this.pass = null;
    });
    await this.pass;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pass ??= this.runPass().finally(() => {
        this.pass = null;
        this.schedule(this.opts.everyMs);
      });
    }, ms);
    this.timer.unref();
  }

  /**
   * Rolls the buckets that closed at least ROLL_GRACE_MS ago: one still filling would be rolled
   * again on every pass (at 5,000 readings/s each reading was read by about three rolls), and
   * queries read open buckets from raw anyway. A late reading marks its bucket again.
   */
  private async runPass(closedBy = (this.opts.now ?? Date.now)() - ROLL_GRACE_MS): Promise<void> {
    const now = this.opts.now ?? Date.now;
    try {
      for (;;) {
        if (this.stopping) return;
        const n = await this.rollups.rollOnce(this.opts.timeZone, closedBy);
        if (n === 0) break;
        this.stats.rolls += 1;
        this.stats.rolledBuckets += n;
        await new Promise((r) => setImmediate(r));
      }
      if (!this.stopping && now() - this.lastPurge >= (this.opts.purgeEveryMs ?? 3_600_000)) {
        this.lastPurge = now();
        this.stats.purgedRows += await this.rollups.purgeBefore(now() - this.opts.retentionMs);
      }
    } catch (err) {
      this.stats.failures += 1;
      this.opts.onError(err);
    }
  }
}
