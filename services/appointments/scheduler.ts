import { localDateOf } from '../../contract/index.js';
import type { AppointmentRepo } from './repo.js';

const DAY_MS = 86_400_000;

export interface SweepResult {
  noShows: number;
  purged: number;
}

/**
 * Time-driven changes: a booking not checked in by the end of its slot becomes a no-show, and
 * residents' names and numbers are erased PERSONAL_DATA_RETENTION_DAYS after their session ended
 * (the booking row stays, so the planners' counts do not change). Runs at start and then every
 * APPOINTMENT_SWEEP_S; `sweep(now)` takes the clock as an argument so tests need not wait.
 */
export class AppointmentScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private erasedLastSweep = false;

  constructor(
    private readonly repo: AppointmentRepo,
    private readonly opts: {
      timeZone: string;
      retentionDays: number;
      intervalMs: number;
      now: () => number;
      /** Counts at these sites changed on these dates. */
      changed: (siteId: string, dates: string[]) => void;
      onError: (err: unknown) => void;
    },
  ) {}

  async start(): Promise<void> {
    await this.sweep();
    this.timer = setInterval(() => {
      this.running = this.sweep().catch(this.opts.onError);
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  async sweep(now = this.opts.now()): Promise<SweepResult> {
    const noShows = await this.markNoShows(now);
    const purged = await this.purgePersonalData(now);
    return { noShows, purged };
  }

  async markNoShows(now: number): Promise<number> {
    const rows = await this.repo.markNoShows(now);
    const bySite = new Map<string, Set<string>>();
    for (const r of rows) {
      const dates = bySite.get(r.siteId) ?? new Set();
      dates.add(localDateOf(r.slotStart, this.opts.timeZone));
      bySite.set(r.siteId, dates);
    }
    for (const [siteId, dates] of bySite) this.opts.changed(siteId, [...dates]);
    return rows.length;
  }

  /** Nulls name and number (and its last four digits) of bookings whose session ended long enough ago. */
  async purgePersonalData(now: number): Promise<number> {
    const endedBefore = now - this.opts.retentionDays * DAY_MS;
    const purged = await this.repo.erasePersonalData(endedBefore, now);
    // With secure_delete on, the old values are overwritten in the database file once the WAL is
    // checkpointed; until then the WAL still holds them. PostgreSQL's VACUUM must keep an old row
    // version while a transaction older than the erasure is open, so the next sweep compacts again.
    if (purged > 0 || this.erasedLastSweep) await this.repo.checkpointErased();
    this.erasedLastSweep = purged > 0;
    return purged;
  }
}
