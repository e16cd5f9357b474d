import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { TelemetryStore } from '../services/telemetry/store.js';
import { demoHistory, type HistoryDevice } from './demo-history.js';

/**
 * Writes the demo's history into a fresh demo hub, once. A marker in the data directory records
 * the window before the first write and that it finished after the last, so a restart skips it,
 * and a start cut short resumes the same window: the history is deterministic and the store keeps
 * the first copy of every (device, seq), so what was already written is not stored twice.
 *
 * A hub whose demo devices already hold telemetry (an older `.demo-data/`, or a real data
 * directory) gets no history: the past would be invented over real readings.
 */

const MARKER = 'demo-history.json';
const FIVE_MINUTES = 300_000;
const DAY = 86_400_000;

const marker = z.object({ from: z.number(), to: z.number(), seed: z.number(), done: z.boolean() });
type Marker = z.infer<typeof marker>;

export interface BackfillOptions {
  dataDir: string;
  /** Ids of the devices that must not have telemetry yet, and the devices for a window. */
  deviceIds: readonly string[];
  devices: (window: { from: number; to: number }) => readonly HistoryDevice[];
  now: number;
  /** How far back (default eight weeks). */
  days?: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface BackfillResult {
  outcome: 'written' | 'already-there' | 'hub-has-data';
  /** The window written (or found), ms; the demo dates its wearing dispenser from `to`. */
  from: number;
  to: number;
  /** Rows newly stored by this call. */
  readings: number;
  events: number;
  ms: number;
}

async function readMarker(file: string): Promise<Marker | null> {
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw err;
  });
  return text === null ? null : marker.parse(JSON.parse(text));
}

async function writeMarker(file: string, m: Marker): Promise<void> {
  // Written whole, then renamed: a crash never leaves half a marker that would fail to parse.
  await fs.writeFile(`${file}.tmp`, JSON.stringify(m));
  await fs.rename(`${file}.tmp`, file);
}

/** The window ends on a 5-minute boundary, so readings line up with the rollup buckets. */
export function historyWindow(now: number, days = 56): { from: number; to: number } {
  const to = Math.floor(now / FIVE_MINUTES) * FIVE_MINUTES;
  return { from: to - days * DAY, to };
}

export interface HistoryPlan {
  outcome: BackfillResult['outcome'];
  from: number;
  to: number;
  /** Writes what is left to write (nothing unless the outcome is 'written'). */
  write(): Promise<BackfillResult>;
  /** Stops writing after the current batch (shutdown); the next start resumes the window. */
  stop(): void;
}

/**
 * Decides before the live fleet starts (its readings would make the hub look used), so the
 * writing itself can run beside the fleet: the demo is usable at once and the weeks fill in.
 */
export async function planDemoHistory(
  store: Pick<TelemetryStore, 'write' | 'latest'>,
  opts: BackfillOptions,
): Promise<HistoryPlan> {
  const file = path.join(opts.dataDir, MARKER);
  let m = await readMarker(file);
  const nothing = (outcome: BackfillResult['outcome'], w: { from: number; to: number }): HistoryPlan => ({
    outcome,
    ...w,
    write: async () => ({ outcome, from: w.from, to: w.to, readings: 0, events: 0, ms: 0 }),
    stop: () => {},
  });
  if (m?.done) return nothing('already-there', m);
  if (!m) {
    const stored = await store.latest(opts.deviceIds);
    if (stored.length > 0) {
      opts.log?.('demo history: the demo devices already have telemetry here, so none is invented');
      return nothing('hub-has-data', historyWindow(opts.now, 0));
    }
    m = { ...historyWindow(opts.now, opts.days), seed: opts.seed ?? 1, done: false };
    await writeMarker(file, m);
  }
  const window = m;
  let stopped = false;
  return {
    outcome: 'written',
    from: window.from,
    to: window.to,
    write: async () => {
      const started = performance.now();
      let readings = 0;
      let events = 0;
      for (const batch of demoHistory({ ...window, devices: opts.devices(window) })) {
        if (stopped) throw new Error('stopped before the end of the window');
        const written = await store.write(batch);
        readings += written.readings;
        events += written.events;
        // A day of the whole fleet takes a while to simulate: let the hub answer in between.
        await new Promise((r) => setImmediate(r));
      }
      await writeMarker(file, { ...window, done: true });
      const ms = Math.round(performance.now() - started);
      const days = Math.round((window.to - window.from) / DAY);
      opts.log?.(
        `demo history: ${readings} readings and ${events} events over ${days} days in ${(ms / 1000).toFixed(1)} s`,
      );
      return { outcome: 'written', from: window.from, to: window.to, readings, events, ms };
    },
    stop: () => {
      stopped = true;
    },
  };
}

export async function backfillDemoHistory(
  store: Pick<TelemetryStore, 'write' | 'latest'>,
  opts: BackfillOptions,
): Promise<BackfillResult> {
  return (await planDemoHistory(store, opts)).write();
}
