import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ReadingRow } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import { openInfluxStore } from '../services/telemetry/influx-store.js';
import type { TelemetryStore } from '../services/telemetry/store.js';
import { adminWithSite, connectDevice, provision, testHub } from '../tests/helpers/hub.js';
import { influxdAvailable, startInfluxd } from '../tests/helpers/influxd.js';
import { type StateBackend, stateBackends } from '../tests/helpers/state-backends.js';
import { percentiles } from './protocol.js';

/**
 * `npm run bench -- --only=stores [--quick]` (issue 13): the engines side by side.
 * 1. Telemetry stores alone, in this process: readings/s through TelemetryStore.write in batches
 *    of the size group commit makes, and the p95 of a day's range query at 15-minute buckets.
 *    DuckDB (embedded file) and InfluxDB — Debian's influxd 1.6.7 behind the test-only v2 write
 *    shim, so the figure is 1.x's engine plus one local HTTP hop, not InfluxDB 2's.
 * 2. The whole hub on DuckDB with state in SQLite vs on PostgreSQL: QoS 1 readings/s acknowledged
 *    over MQTT by in-process publishers, and the range query's p95 through the HTTP API.
 */
const quick = process.argv.includes('--quick');
const HOUR = 3_600_000;
const MIN = 60_000;
const out: string[] = [];
const say = (line: string) => {
  console.log(line);
  out.push(line);
};

async function storeBench(name: string, store: TelemetryStore) {
  const readings = quick ? 20_000 : 100_000;
  const batchSize = 500;
  const devices = 100;
  const t0 = Date.UTC(2026, 10, 1);
  let seq = 0;
  const started = performance.now();
  for (let done = 0; done < readings; done += batchSize) {
    const rows: ReadingRow[] = [];
    for (let i = 0; i < batchSize; i++) {
      const n = done + i;
      const d = n % devices;
      rows.push({
        siteId: `bench-s${String(d % 10).padStart(2, '0')}`,
        deviceId: `bench-s${String(d % 10).padStart(2, '0')}-wd-${d}`,
        kind: 'water_dispenser',
        seq: seq++,
        ts: t0 + Math.floor(n / devices) * MIN,
        values: { on: 1, power_w: (n * 7) % 2000, water_level_pct: n % 100 },
      });
    }
    await store.write({ readings: rows, events: [] });
  }
  const s = (performance.now() - started) / 1000;
  const queryMs: number[] = [];
  const days = Math.max(1, Math.floor(readings / devices / 1440));
  for (let i = 0; i < (quick ? 20 : 50); i++) {
    const from = t0 + (i % days) * 24 * HOUR;
    const q0 = performance.now();
    await store.range({
      siteId: `bench-s0${i % 10}`,
      metric: 'power_w',
      from,
      to: from + 24 * HOUR,
      bucketMs: 15 * MIN,
      agg: 'avg',
    });
    queryMs.push(performance.now() - q0);
  }
  const p = percentiles(queryMs);
  say(
    `| ${name} | ${Math.round(readings / s).toLocaleString('en')} readings/s (${readings} in batches of ${batchSize}) | ${p.p95.toFixed(1)} ms (p50 ${p.p50.toFixed(1)}) |`,
  );
}

async function hubBench(backend: StateBackend) {
  const hub = await testHub({ DEVICE_RATE_PER_S: 100_000, DEVICE_RATE_BURST: 100_000 }, { state: backend });
  try {
    const api = await adminWithSite(hub, 'bench-s01');
    const clients = [];
    for (let i = 0; i < 20; i++) {
      const dev = await provision(api, 'bench-s01', `bench-s01-wd-${i}`, 'water_dispenser');
      clients.push({ dev, c: await connectDevice(hub.mqttUrl, dev.device.id, dev.secret) });
    }
    const windowMs = quick ? 5000 : 15_000;
    const t0 = Date.now() - 6 * HOUR;
    let acked = 0;
    const until = Date.now() + windowMs;
    await Promise.all(
      clients.map(async ({ dev, c }) => {
        const topic = topicFor('bench-s01', dev.device.id, 'telemetry');
        let seq = 0;
        const inflight = new Set<Promise<unknown>>();
        while (Date.now() < until) {
          seq++;
          const body = JSON.stringify({
            readings: [
              { seq, ts: t0 + seq * 100, values: { on: true, power_w: seq % 2000, water_level_pct: 50 } },
            ],
          });
          const p = c.publishAsync(topic, body, { qos: 1 }).then(() => {
            acked++;
            inflight.delete(p);
          });
          inflight.add(p);
          if (inflight.size >= 16) await Promise.race(inflight);
        }
        await Promise.all(inflight);
      }),
    );
    const rate = acked / (windowMs / 1000);
    const queryMs: number[] = [];
    for (let i = 0; i < (quick ? 20 : 50); i++) {
      const q = new URLSearchParams({
        siteId: 'bench-s01',
        metric: 'power_w',
        from: String(t0),
        to: String(t0 + 24 * HOUR),
        bucketMs: String(15 * MIN),
        agg: 'avg',
      });
      const q0 = performance.now();
      await api.json('GET', `/api/telemetry/range?${q}`);
      queryMs.push(performance.now() - q0);
    }
    const p = percentiles(queryMs);
    say(
      `| ${backend.name === 'sqlite' ? 'SQLite' : 'PostgreSQL'} state + DuckDB | ${Math.round(rate).toLocaleString('en')} QoS 1 readings/s acknowledged (20 devices × 16 in flight) | ${p.p95.toFixed(1)} ms (p50 ${p.p50.toFixed(1)}) |`,
    );
    for (const { c } of clients) await c.endAsync();
  } finally {
    await hub.close();
  }
}

export async function main(): Promise<void> {
  say('| telemetry store (alone, in process) | ingest | range query p95, one site, 1 day at 15 min |');
  say('|---|---|---|');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yz-bench-stores-'));
  try {
    const duck = await openDuckDbStore(path.join(dir, 'bench.duckdb'));
    await storeBench('DuckDB', duck);
    await duck.close();
    const missing = influxdAvailable();
    if (missing) say(`| InfluxDB | skipped: ${missing} | |`);
    else {
      const influxd = await startInfluxd('bench');
      try {
        const influx = await openInfluxStore(influxd.settings);
        await storeBench('InfluxDB (influxd 1.6.7 via the v2 write shim)', influx);
        await influx.close();
      } finally {
        await influxd.stop();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  say('');
  say('| hub (in process, MQTT publishers in process) | ingest | range query p95 via HTTP API |');
  say('|---|---|---|');
  const backends = await stateBackends();
  for (const b of backends) await hubBench(b);
  if (!backends.some((b) => b.name === 'postgres')) say('| PostgreSQL state | skipped: no server | |');
  const resultsDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(
    resultsDir,
    `stores-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.md`,
  );
  fs.writeFileSync(file, `${out.join('\n')}\n`);
  console.log(`written: ${file}`);
}
