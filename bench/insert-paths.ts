import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { ReadingRow } from '../contract/index.js';
import { appendReadings } from '../services/telemetry/duckdb-append.js';
import { bulkInsert } from '../services/telemetry/duckdb-bulk-insert.js';
import { metricColumn, prepareSchema, tableColumns } from '../services/telemetry/duckdb-schema.js';
import { percentiles } from './protocol.js';

/**
 * A diagnostic: the cost of putting readings into DuckDB two ways, each in its own
 * BEGIN…COMMIT as TelemetryStore.write does, threads=1: the appender the store uses, and the
 * INSERT ... SELECT unnest(json_transform_strict(...)) it used before. Both run interleaved in one
 * process, so they share the machine's state. CPU is the whole process (all threads); main is the
 * main thread alone, from /proc (Linux only); loop max is the longest event-loop stall seen.
 *
 *   npx tsx bench/insert-paths.ts [sizes, default 1600,20000] [repeats, default 20]
 */

const mainThreadMs = () =>
  Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;

let seq = 0;
function batch(readings: number): ReadingRow[] {
  const ts = Date.now();
  return Array.from({ length: readings }, (_, i) => {
    const device = `bench-s${String((i % 100) + 1).padStart(3, '0')}-wd`;
    return {
      siteId: device.slice(0, 10),
      deviceId: device,
      kind: 'water_dispenser' as const,
      seq: seq++,
      ts,
      values: { on: 1, power_w: Math.random() * 2000, water_level_pct: Math.random() * 100 },
    };
  });
}

type JsonColumn = [name: string, type: 'VARCHAR' | 'BIGINT' | 'DOUBLE', pick: (x: ReadingRow) => unknown];

/** The JSON path's reading columns, as the store had them. */
function jsonColumns(rows: readonly ReadingRow[]): JsonColumn[] {
  const metrics = new Set<string>();
  for (const r of rows) for (const m in r.values) metrics.add(m);
  return [
    ['device_id', 'VARCHAR', (x) => x.deviceId],
    ['seq', 'BIGINT', (x) => x.seq],
    ['site_id', 'VARCHAR', (x) => x.siteId],
    ['kind', 'VARCHAR', (x) => x.kind],
    ['ts', 'BIGINT', (x) => x.ts],
    ...[...metrics].sort().map((m): JsonColumn => [metricColumn(m), 'DOUBLE', (x) => x.values[m] ?? null]),
  ];
}

const sizes = (process.argv[2] ?? '1600,20000').split(',').map(Number);
const repeats = Number(process.argv[3] ?? 20);
const dir = await mkdtemp(path.join(tmpdir(), 'insert-paths-'));
const open = async (name: string) => {
  const instance = await DuckDBInstance.create(path.join(dir, name), { threads: '1' });
  const conn = await instance.connect();
  await prepareSchema(conn);
  return { instance, conn };
};
const dbs = { json: await open('json.duckdb'), appender: await open('appender.duckdb') };
const columns = await tableColumns(dbs.appender.conn, 'readings');
const json = bulkInsert<ReadingRow>('readings', 'INSERT');
const ways = {
  json: (conn: DuckDBConnection, rows: ReadingRow[]) => json.insert(conn, jsonColumns(rows), rows),
  appender: (conn: DuckDBConnection, rows: ReadingRow[]) => appendReadings(conn, columns, rows),
};
type Way = keyof typeof ways;

try {
  for (const size of sizes) {
    const seen = (Object.keys(ways) as Way[]).map((way) => ({
      way,
      ms: [] as number[],
      cpu: 0,
      main: 0,
      loopMax: 0,
    }));
    // The first two rounds warm up and are not counted.
    for (let i = 0; i < repeats + 2; i++) {
      for (const s of seen) {
        const rows = batch(size);
        const { conn } = dbs[s.way];
        // A histogram of its own per write: one re-enabled counts the time it was off as a stall.
        const loop = monitorEventLoopDelay({ resolution: 1 });
        loop.enable();
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const m0 = mainThreadMs();
        await conn.run('BEGIN TRANSACTION');
        await ways[s.way](conn, rows);
        await conn.run('COMMIT');
        const c = process.cpuUsage(c0);
        const m = mainThreadMs() - m0;
        const ms = performance.now() - t0;
        loop.disable();
        if (i < 2) continue;
        s.loopMax = Math.max(s.loopMax, loop.max / 1e6);
        s.ms.push(ms);
        s.cpu += (c.user + c.system) / 1000 / repeats;
        s.main += m / repeats;
      }
    }
    for (const s of seen) {
      console.log(
        `${size} ${s.way.padEnd(8)} wall p50 ${percentiles(s.ms).p50.toFixed(1)} ms, cpu ${s.cpu.toFixed(1)} ms` +
          ` (${((s.cpu * 1000) / size).toFixed(2)} µs/reading), main ${s.main.toFixed(1)} ms,` +
          ` loop max ${s.loopMax.toFixed(1)} ms`,
      );
    }
    const [j, a] = seen;
    console.log(
      `${size} appender/json: cpu ${(a!.cpu / j!.cpu).toFixed(2)}, main ${(a!.main / j!.main).toFixed(2)}`,
    );
  }
} finally {
  await json.destroy();
  for (const { conn, instance } of Object.values(dbs)) {
    conn.closeSync();
    instance.closeSync();
  }
  await rm(dir, { recursive: true });
}
