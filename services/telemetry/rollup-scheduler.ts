import type { Part } from '../parts.js';
import type { DuckDbRollups } from './rollup-duckdb.js';
import { ROLL_MARKS } from './rollup-roll.js';

/** Readings stamped just before a bucket's end still arrive: moved from the journal within a second, or a little late. */
const ROLL_GRACE_MS = 15_000;
/** A roll longer than this takes as many marks next time as would have fit; one under half of it, twice as many. */
const ROLL_TARGET_MS = 250;

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
 * start()/stop() and let one hub do it. Each pass rolls up to a day of dirty buckets per
 * transaction, fewer when they are dense, pauses in between, and purges in hour slices, so ingest
 * never waits long.
 */
export class RollupScheduler implements Part {
  readonly name = 'rollups';
  readonly stats = { rolls: 0, rolledBuckets: 0, purgedRows: 0, failures: 0 };
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  /** Set by stop(): a pass ends after the roll in hand; the marks are durable, the next start goes on. */
  private stopping = false;
  private pass: Promise<void> | null = null;
  private rollMarks = ROLL_MARKS;
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
    this.pass = this.runPass(Number.MAX_SAFE_INTEGER, false).finally(() => {
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
  private async runPass(
    closedBy = (this.opts.now ?? Date.now)() - ROLL_GRACE_MS,
    paced = true,
  ): Promise<void> {
    const now = this.opts.now ?? Date.now;
    try {
      for (;;) {
        if (this.stopping) return;
        const started = performance.now();
        const n = await this.rollups.rollOnce(this.opts.timeZone, closedBy, this.rollMarks);
        if (n === 0) break;
        this.stats.rolls += 1;
        this.stats.rolledBuckets += n;
        // A busy hub's buckets are dense (a 5-minute bucket of 100 devices at 5,000 readings/s is
        // 1.5 M readings): one roll of them held a core for seconds, and PUBACKs and dashboard
        // updates waited for CPU (soak p99 195 ms). Rolls shrink until each is short, and a pass
        // leaves the cores idle as long as it used them, so rolling takes at most half of one.
        const took = performance.now() - started;
        if (took > ROLL_TARGET_MS) this.rollMarks = Math.max(1, Math.floor((n * ROLL_TARGET_MS) / took));
        else if (took < ROLL_TARGET_MS / 2) this.rollMarks = Math.min(ROLL_MARKS, this.rollMarks * 2);
        await new Promise((r) => (paced ? setTimeout(r, took) : setImmediate(r)));
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
