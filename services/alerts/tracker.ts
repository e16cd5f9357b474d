/** What a rule's condition says about one subject now. */
export type Level = 'raise' | 'clear' | 'hold';

/**
 * The duration and hysteresis of one rule on one subject (a device, or a site). Closed: the
 * condition must read `raise` without a break for `forMs` before it raises. Open: it must read
 * `clear` without a break for `clearForMs` before it clears. `hold` (between the raise and the
 * clear level) restarts whichever wait is running, so a value oscillating around the raise level
 * raises once and clears only when it has really gone back past the clear level.
 */
export class Tracker {
  pendingSince: number | null = null;
  clearSince: number | null = null;

  constructor(public open = false) {}

  /**
   * Returns 'raise' or 'clear' when the subject's alert should change. `since` is when the raise
   * condition began if the caller knows better than "now" (a device silent since its last report).
   */
  step(level: Level, now: number, forMs: number, clearForMs: number, since = now): 'raise' | 'clear' | null {
    if (!this.open) {
      if (level !== 'raise') {
        this.pendingSince = null;
        return null;
      }
      this.pendingSince ??= Math.min(since, now);
      if (now - this.pendingSince < forMs) return null;
      this.open = true;
      this.clearSince = null;
      return 'raise';
    }
    if (level !== 'clear') {
      this.clearSince = null;
      return null;
    }
    this.clearSince ??= now;
    if (now - this.clearSince < clearForMs) return null;
    this.open = false;
    this.pendingSince = null;
    this.clearSince = null;
    return 'clear';
  }

  /** The alert ended by hand (resolved): the condition must hold `forMs` again to re-raise. */
  reset(): void {
    this.open = false;
    this.pendingSince = null;
    this.clearSince = null;
  }
}
