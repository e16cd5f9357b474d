import type { AlertClock } from '../../services/alerts/clock.js';

/** A clock the test moves: `advance` runs every due `every` callback once per period passed. */
export class FakeClock implements AlertClock {
  private readonly timers = new Set<{ ms: number; next: number; fn: () => void }>();
  constructor(private t = Date.now()) {}

  now(): number {
    return this.t;
  }

  every(ms: number, fn: () => void): () => void {
    const timer = { ms, next: this.t + ms, fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Moves time forward in steps no longer than the shortest timer, firing timers as they fall due. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    while (this.t < end) {
      const next = Math.min(end, ...[...this.timers].map((t) => t.next));
      this.t = Math.max(this.t, next);
      for (const timer of [...this.timers]) {
        if (timer.next <= this.t) {
          timer.next += timer.ms;
          timer.fn();
        }
      }
      // Let the writes and sends the timers started run before time moves on.
      await new Promise((r) => setTimeout(r, 1));
    }
  }
}
