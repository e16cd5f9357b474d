/**
 * Token bucket per device: `ratePerS` messages a second on average, bursts up to `burst`. A device
 * that comes back from an outage sends its backlog as a burst of batches, so the burst is generous;
 * a device that floods for longer than that is refused message by message.
 */
export class DeviceRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerS: number,
    private readonly burst: number,
  ) {}

  take(deviceId: string, now = performance.now()): boolean {
    let b = this.buckets.get(deviceId);
    if (!b) {
      b = { tokens: this.burst, at: now };
      this.buckets.set(deviceId, b);
    }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.ratePerS);
    b.at = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  forget(deviceId: string): void {
    this.buckets.delete(deviceId);
  }
}
