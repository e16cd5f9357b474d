/**
 * Token bucket per device: `ratePerS` messages a second on average, bursts up to `burst`. A device
 * that comes back from an outage sends its backlog as a burst of batches, so the burst is generous;
 * a device that floods for longer than that is refused message by message.
 *
 * A bucket that has refilled is the same as no bucket, so buckets are dropped once full again:
 * when their device disconnects, and by a sweep as time passes. The map holds only devices that
 * sent something within the last refill time (burst / rate), not every id ever seen.
 */
export class DeviceRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private lastSweep = 0;

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  take(deviceId: string, now = performance.now()): boolean {
    if (now - this.lastSweep > this.refillMs) this.sweep(now);
    let b = this.buckets.get(deviceId);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(deviceId, b);
    }
    b.tokens = this.tokens(b, now);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /** A device went away: its bucket goes too once it is full, since a full one limits nothing. */
  release(deviceId: string, now = performance.now()): void {
    const b = this.buckets.get(deviceId);
    if (b && this.tokens(b, now) >= this.burst) this.buckets.delete(deviceId);
  }

  /**
   * A bucket that is not full, by the wall clock, for the hub the device reconnects to (several
   * hubs): hopping between hubs must not refill it.
   */
  handOver(deviceId: string, now = performance.now()): { tokens: number; at: number } | undefined {
    const b = this.buckets.get(deviceId);
    if (!b) return undefined;
    const tokens = this.tokens(b, now);
    return tokens >= this.burst ? undefined : { tokens, at: Date.now() };
  }

  takeOver(deviceId: string, given: { tokens: number; at: number }, now = performance.now()): void {
    const tokens = Math.min(
      this.burst,
      given.tokens + (Math.max(0, Date.now() - given.at) / 1000) * this.ratePerS,
    );
    const b = this.buckets.get(deviceId);
    // Whichever has fewer tokens: what this hub already counted since the connect stays counted.
    if (!b || this.tokens(b, now) > tokens) this.buckets.set(deviceId, { tokens, at: now });
  }

  /** How long a bucket takes to fill up again from empty. */
  get refillMs(): number {
    return (this.burst / this.ratePerS) * 1000;
  }

  private tokens(b: { tokens: number; at: number }, now: number): number {
    return Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerS);
  }

  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [id, b] of this.buckets) if (this.tokens(b, now) >= this.burst) this.buckets.delete(id);
  }
}
