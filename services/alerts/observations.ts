import type { EventRow, ReadingRow } from '../../contract/index.js';
import { lowerBound, type Observed } from './levels.js';

/** Refusals older than this are forgotten whatever a rule's window (bounded memory per device). */
const MAX_REFUSAL_AGE_MS = 3_600_000;

/**
 * What the alert engine has seen of each device, from the event stream alone: newest values,
 * link, fault and recent refusals. Updating is bookkeeping only; the engine decides what it means.
 */
export class Observations {
  private readonly byDevice = new Map<string, Observed>();

  get(deviceId: string, now: number): Observed {
    let o = this.byDevice.get(deviceId);
    if (!o) {
      o = {
        lastSeen: now,
        connected: null,
        downAt: null,
        wasDown: false,
        values: {},
        valueTs: {},
        fault: undefined,
        refusals: new Map(),
      };
      this.byDevice.set(deviceId, o);
    }
    return o;
  }

  delete(deviceId: string): void {
    this.byDevice.delete(deviceId);
  }

  /** A stored value, unless a newer one of the metric is already known (readings arrive out of order). */
  value(deviceId: string, metric: string, value: number, ts: number, now: number): void {
    const o = this.get(deviceId, now);
    if ((o.valueTs[metric] ?? -1) > ts) return;
    o.values[metric] = value;
    o.valueTs[metric] = ts;
  }

  reading(r: ReadingRow, now: number): void {
    const o = this.seen(r.deviceId, now);
    for (const metric in r.values) {
      if ((o.valueTs[metric] ?? -1) > r.ts) continue;
      o.values[metric] = r.values[metric]!;
      o.valueTs[metric] = r.ts;
    }
  }

  event(e: EventRow, now: number): void {
    const o = this.seen(e.deviceId, now);
    if (e.type === 'fault') o.fault = { code: e.code ?? 'unknown', message: e.message ?? '' };
    if (e.type === 'fault_cleared') o.fault = null;
    if ((e.type === 'door_opened' || e.type === 'door_closed') && (o.valueTs.open ?? -1) <= e.ts) {
      o.values.open = e.type === 'door_opened' ? 1 : 0;
      o.valueTs.open = e.ts;
    }
  }

  link(deviceId: string, connected: boolean, now: number): void {
    const o = connected ? this.seen(deviceId, now) : this.get(deviceId, now);
    if (!connected && o.connected !== false) o.downAt = now;
    o.connected = connected;
  }

  refusal(deviceId: string, code: string, now: number): void {
    const o = this.get(deviceId, now);
    let times = o.refusals.get(code);
    if (!times) {
      times = [];
      o.refusals.set(code, times);
    }
    times.push(now);
    // Bounded and amortised: the stale prefix goes once it is a quarter of the array (or 1,024
    // entries), and never more than 10,000 are kept; a flooding device costs O(log n) a refusal.
    const stale = lowerBound(times, now - MAX_REFUSAL_AGE_MS + 1);
    if (stale > 0 && (stale >= 1024 || stale * 4 >= times.length)) times.splice(0, stale);
    if (times.length > 11_000) times.splice(0, times.length - 10_000);
  }

  private seen(deviceId: string, now: number): Observed {
    const o = this.get(deviceId, now);
    o.lastSeen = now;
    // A device that publishes is connected, whatever a late Last Will said.
    o.connected = true;
    o.downAt = null;
    return o;
  }
}
