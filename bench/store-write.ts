import path from 'node:path';
import type { ReadingRow } from '../contract/index.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import { type Percentiles, percentiles } from './protocol.js';

/**
 * A diagnostic beside the hub runs: how long Journal.append (SQLite on its own thread, the call
 * group commit makes before any PUBACK) and TelemetryStore.write (DuckDB, what the journal mover
 * calls, and what group commit called before the journal) take alone, in this process, for batches of the sizes the hub sees:
 * one reading, a few hundred, and a whole in-flight window (publishers × inflight readings). It is
 * the floor under publish→PUBACK latency, and batch ÷ write time bounds the hub's rate.
 */

type Batches = {
  readings: number;
  rows: number;
  ms: Percentiles;
  cpuMsPerWrite: number;
  readingsPerS: number;
}[];

export interface StoreWriteResult {
  /** Readings per batch (each reading is 3 rows: on, power_w, water_level_pct). */
  batches: Batches;
  /** The same batches through the ingest journal (absent when this tree has none). */
  journal?: Batches;
}

type Write = (batch: { readings: ReadingRow[]; events: [] }) => Promise<unknown>;

export async function measureStoreWrites(
  dir: string,
  sizes: number[],
  repeats: number,
): Promise<StoreWriteResult> {
  const store = await openDuckDbStore(path.join(dir, 'store-write.duckdb'));
  let seq = 0;
  const batch = (readings: number): ReadingRow[] => {
    const rows: ReadingRow[] = [];
    const ts = Date.now();
    for (let i = 0; i < readings; i++) {
      const device = `bench-s${String((i % 100) + 1).padStart(3, '0')}-wd`;
      const base = {
        siteId: device.slice(0, 10),
        deviceId: device,
        kind: 'water_dispenser' as const,
        seq: seq++,
        ts,
      };
      rows.push({
        ...base,
        values: { on: 1, power_w: Math.random() * 2000, water_level_pct: Math.random() * 100 },
      });
    }
    return rows;
  };
  const timed = async (write: Write): Promise<Batches> => {
    const batches: Batches = [];
    for (const readings of sizes) {
      const ms: number[] = [];
      let cpuUs = 0;
      for (let i = 0; i < repeats; i++) {
        const rows = batch(readings);
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        await write({ readings: rows, events: [] });
        const c = process.cpuUsage(c0);
        ms.push(performance.now() - t0);
        cpuUs += c.user + c.system;
      }
      const p = percentiles(ms);
      batches.push({
        readings,
        rows: readings * 3,
        ms: p,
        cpuMsPerWrite: cpuUs / 1000 / repeats,
        readingsPerS: (readings * 1000) / p.p50,
      });
    }
    return batches;
  };
  try {
    const batches = await timed((b) => store.write(b));
    // Imported when there: the same bench also measures trees from before the journal.
    const mod = await import('../services/ingest/journal.js').catch(() => null);
    if (!mod) return { batches };
    const journal = new mod.Journal(path.join(dir, 'store-write-journal.sqlite'), Number.MAX_SAFE_INTEGER);
    await journal.start();
    try {
      return { batches, journal: await timed((b) => journal.append(b)) };
    } finally {
      await journal.stop();
    }
  } finally {
    await store.close();
  }
}
