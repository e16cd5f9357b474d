import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stateBackend } from '../tests/helpers/state-backends.js';
import {
  benchCredentials,
  MARKER_DEVICE,
  MARKER_SITE,
  publisherDevice,
  seedFleet,
  siteId,
} from './hub-data.js';
import { type E2eResult, type LatencyResult, measureE2e, measureLatency } from './hub-e2e.js';
import { type HubProcess, startHubProcess } from './hub-process.js';
import { type LoadGenerator, startLoadGenerator } from './load.js';
import { benchOptions } from './options.js';
import { installCleanup, killAllSync, makeTempDir, removeTempDir } from './processes.js';

/**
 * `npm run bench -- --only=cluster` (issue 14): one hub against two hubs linked by Redis, on the
 * same machine in the same run. Each side gets the same 100 publishers at full QoS 1 rate and then
 * a paced 1,000 readings/s; on two hubs half the publishers go to each, as a load balancer spreads
 * them, and the dashboard that times publish→socket.io watches the *other* hub, so every marker
 * crosses Redis. Telemetry stays in each hub's DuckDB on both sides: the question is what Redis
 * and a second process cost or bring, not which telemetry store is faster (bench/stores.ts).
 */

const REDIS_URL = process.env.REDIS_BENCH_URL ?? 'redis://127.0.0.1:6379';
const LATENCY_RATE = 1000;
const out: string[] = [];
const say = (line: string) => {
  out.push(line);
  console.log(line);
};

interface Side {
  e2e: E2eResult[];
  latency: LatencyResult[];
}

function generator(
  url: string,
  range: [number, number],
  observe: HubProcess,
  secret: string,
  marker: boolean,
): Promise<LoadGenerator> {
  const topic = (site: string, device: string) => `yz/v1/${site}/${device}/telemetry`;
  const opts = benchOptions([]);
  return startLoadGenerator({
    url,
    workers: opts.workers,
    publishers: Array.from({ length: range[1] - range[0] }, (_, k) => {
      const id = publisherDevice(range[0] + k + 1);
      return { clientId: id, username: id, password: secret, topic: topic(siteId(range[0] + k + 1), id) };
    }),
    ...(marker && {
      marker: {
        clientId: MARKER_DEVICE,
        username: MARKER_DEVICE,
        password: secret,
        topic: topic(MARKER_SITE, MARKER_DEVICE),
        deviceId: MARKER_DEVICE,
        intervalMs: opts.markerIntervalMs,
      },
    }),
    observer: { kind: 'live', url: observe.httpUrl, cookie: observe.cookie, markerDeviceId: MARKER_DEVICE },
  });
}

/** Runs every hub's generator over the same window; the first one carries the marker. */
async function measure(hubs: HubProcess[], gens: LoadGenerator[], seq: number): Promise<Side> {
  const opts = benchOptions(process.argv.slice(2).filter((a) => !a.startsWith('--only=')));
  const e2e = await Promise.all(hubs.map((h, i) => measureE2e(h, gens[i]!, opts, seq)));
  const rate = LATENCY_RATE / hubs.length;
  const latency = await Promise.all(hubs.map((h, i) => measureLatency(h, gens[i]!, rate, opts, seq + 1e11)));
  return { e2e, latency };
}

const dec = (n: number | undefined, d = 1) => (n === undefined || Number.isNaN(n) ? '—' : n.toFixed(d));
const int = (n: number) => Math.round(n).toLocaleString('en');

function row(name: string, s: Side): string {
  const rate = s.e2e.reduce((n, r) => n + r.readingsPerS, 0);
  const ack = Math.max(...s.e2e.map((r) => r.ackLatency.p99));
  const fullLive = s.e2e[0]!.liveLatency;
  const paced = s.latency[0]!.liveLatency;
  const hubCpu = s.latency.map((l) => `${dec(l.cpu.processes.hub?.pct, 0)} %`).join(' + ');
  return (
    `| ${name} | ${int(rate)} | ${dec(ack)} | ${dec(fullLive?.p99)} | ${dec(paced?.p99)} (${paced?.n ?? 0} markers, ` +
    `${paced?.missed ?? 0} missed) | ${dec(Math.max(...s.latency.map((l) => l.ackLatency.p99)))} | ${hubCpu} |`
  );
}

export async function main(): Promise<void> {
  installCleanup(() => {});
  const deadline = setTimeout(() => {
    console.error('cluster bench: time limit reached');
    killAllSync();
    process.exit(1);
  }, 8 * 60_000);
  const cred = await benchCredentials();
  const opts = benchOptions([]);

  const one = makeTempDir('cluster-one');
  await seedFleet(one, opts.sites, cred);
  const hub = await startHubProcess(one);
  const gen = await generator(hub.mqttUrl, [0, opts.publishers], hub, cred.secret, true);
  const single = await measure([hub], [gen], 1e12);
  await gen.close();
  await hub.stop();
  removeTempDir(one);

  const store = await stateBackend('postgres').create();
  const prefix = `yzbench-${randomBytes(4).toString('hex')}`;
  const dirs = [makeTempDir('cluster-a'), makeTempDir('cluster-b')];
  const env = { DATABASE_URL: store.env.DATABASE_URL!, REDIS_URL, REDIS_PREFIX: prefix };
  await seedFleet(dirs[0]!, opts.sites, cred, env.DATABASE_URL);
  const hubs = await Promise.all(dirs.map((d) => startHubProcess(d, env)));
  const half = opts.publishers / 2;
  // Publishers on hub A watched from hub B (with the marker), and the other way round.
  const gens = [
    await generator(hubs[0]!.mqttUrl, [0, half], hubs[1]!, cred.secret, true),
    await generator(hubs[1]!.mqttUrl, [half, opts.publishers], hubs[0]!, cred.secret, false),
  ];
  const two = await measure(hubs, gens, 3e12);
  for (const g of gens) await g.close();
  for (const h of hubs) await h.stop();
  for (const d of dirs) removeTempDir(d);
  await store.drop();
  clearTimeout(deadline);

  say(
    `Cluster bench, ${new Date().toISOString()}: ${opts.publishers} QoS 1 publishers, window ${opts.windowMs / 1000} s.`,
  );
  say('');
  say(
    '| setup | readings/s at full rate | p99 PUBACK ms at full rate | p99 publish→dashboard ms at full rate | ' +
      `p99 publish→dashboard ms at ${int(LATENCY_RATE)}/s | p99 PUBACK ms at ${int(LATENCY_RATE)}/s | hub CPU at ${int(LATENCY_RATE)}/s |`,
  );
  say('|---|---|---|---|---|---|---|');
  say(row('one hub (REDIS_URL unset, SQLite + DuckDB)', single));
  say(row('two hubs + Redis (state on PostgreSQL, dashboard on the other hub)', two));
  const ratio = two.e2e.reduce((n, r) => n + r.readingsPerS, 0) / single.e2e[0]!.readingsPerS;
  say('');
  say(`Two hubs / one hub, full-rate readings/s: ${dec(ratio, 2)}×.`);
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `cluster-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.md`);
  fs.writeFileSync(file, `${out.join('\n')}\n`);
  console.log(`written: ${file}`);
}
