import type { EventRow, ReadingRow, TelemetryBatch } from '../contract/index.js';
import type { FleetDevice } from './simulator/fleet.js';
import { createModel, type PatternEvent } from './simulator/patterns.js';

/**
 * The demo's past: weeks of simulated history for every demo device, from the same models the
 * live fleet runs (meal-time peaks, rain days, weekends, closed hours, the wearing dispenser), so
 * every chart and trend has something true to show in the first minute.
 *
 * Readings are kept every five minutes, the resolution the charts and rollups use, and most models
 * step at that pace (their rates scale with the step). A door opens at most once a step, so door
 * sensors step every minute to open as often as they do live.
 */

export type HistoryDevice = Omit<FleetDevice, 'secret'>;

export interface HistoryOptions {
  devices: readonly HistoryDevice[];
  /** Inclusive, ms. */
  from: number;
  /** Exclusive, ms; the live fleet's own seqs start at Date.now(), above every seq used here. */
  to: number;
  seed?: number;
  readingEveryMs?: number;
  /** Simulated time per yielded batch (default a day: ~50,000 rows for 168 devices). */
  chunkMs?: number;
}

const MINUTE = 60_000;
const DAY = 86_400_000;

const eventRow = (d: HistoryDevice, seq: number, ts: number, e: PatternEvent): EventRow => ({
  siteId: d.siteId,
  deviceId: d.deviceId,
  kind: d.kind,
  seq,
  ts,
  type: e.type,
  code: e.code ?? null,
  item: e.item ?? null,
  ok: e.ok ?? null,
  message: e.message ?? null,
});

/**
 * Batches oldest first. Deterministic for the same options: seqs count up from `from` per device
 * (readings and events apart, each one run), so writing the same window again stores nothing new.
 */
export function* demoHistory(opts: HistoryOptions): Generator<TelemetryBatch> {
  const every = opts.readingEveryMs ?? 5 * MINUTE;
  const chunk = opts.chunkMs ?? DAY;
  const sims = opts.devices.map((d) => ({
    device: d,
    model: createModel(d.kind, { ...d, seed: opts.seed ?? 1 }),
    readingSeq: opts.from,
    eventSeq: opts.from,
  }));
  for (let start = opts.from; start < opts.to; start += chunk) {
    const end = Math.min(start + chunk, opts.to);
    const readings: ReadingRow[] = [];
    const events: EventRow[] = [];
    for (const sim of sims) {
      const d = sim.device;
      const step = d.kind === 'door_sensor' ? MINUTE : every;
      for (let t = start; t < end; t += step) {
        const out = sim.model.step(t, step);
        for (const e of out.events) events.push(eventRow(d, sim.eventSeq++, t, e));
        if (out.silent || (t - opts.from) % every !== 0) continue;
        const values: Record<string, number> = {};
        for (const [metric, v] of Object.entries(out.values)) {
          if (v !== undefined) values[metric] = Number(v);
        }
        readings.push({
          siteId: d.siteId,
          deviceId: d.deviceId,
          kind: d.kind,
          seq: sim.readingSeq++,
          ts: t,
          values,
        });
      }
    }
    yield { readings, events };
  }
}
