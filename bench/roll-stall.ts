import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { ReadingRow } from '../contract/index.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';

/**
 * `tsx bench/roll-stall.ts`: how long one roll of 20,000 five-minute marks (100 devices × a day)
 * holds the event loop, and its wall time: a roll runs beside ingest, so its main-thread share is
 * what a PUBACK or a dashboard update may wait behind.
 */
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-roll-stall-'));
const store = await openDuckDbStore(path.join(dir, 'telemetry.duckdb'));
const t0 = Date.parse('2026-05-01T00:00:00+08:00');
let seq = 0;
for (let round = 0; round < 3; round++) {
  const rows: ReadingRow[] = [];
  for (let d = 0; d < 100; d++)
    for (let b = 0; b < 288; b++)
      rows.push({
        siteId: `s${d % 10}`,
        deviceId: `d${d}`,
        kind: 'occupancy_counter',
        seq: seq++,
        ts: t0 + round * 86_400_000 + b * 300_000 + d,
        values: { occupancy: b % 7 },
      });
  await store.write({ readings: rows, events: [] });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu = process.cpuUsage();
  const start = performance.now();
  const n = await store.rollups.rollOnce('Asia/Shanghai');
  const wall = performance.now() - start;
  loop.disable();
  const used = process.cpuUsage(cpu);
  console.log(
    `roll of ${n} marks: wall ${wall.toFixed(0)} ms, CPU ${((used.user + used.system) / 1000).toFixed(0)} ms, event-loop max ${(loop.max / 1e6).toFixed(1)} ms`,
  );
}
await store.close();
await fs.rm(dir, { recursive: true, force: true });
