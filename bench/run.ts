import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ReferenceBroker, startAedes, startMosquitto } from './brokers.js';
import { CpuWindow, machine } from './cpu.js';
import { benchCredentials, seedFleet, seedHistory, seedIdleDevices } from './hub-data.js';
import { measureE2e, measureLatency, profileE2e, startHubGenerator } from './hub-e2e.js';
import { startHubProcess } from './hub-process.js';
import { idleConnections } from './idle-connections.js';
import type { LoadGenerator } from './load.js';
import { benchOptions } from './options.js';
import { group, log, outcomes, phase, type Scope, sleep } from './phases.js';
import { installCleanup, killAllSync, makeTempDir, removeStaleTempDirs, removeTempDir } from './processes.js';
import { rangeQueries } from './range-query.js';
import { measureRelay, startRelayGenerator } from './relay.js';
import { type BenchRun, buildMarkdown, writeResults } from './report.js';
import { measureStoreWrites } from './store-write.js';

/**
 * `npm run bench [-- --quick]`: the references (Mosquitto, bare aedes), then the hub end to end,
 * its latency at fixed rates, the week range query, and idle connections up to the fd limit. Every
 * phase is time-limited and a failed one is reported without losing the others.
 */

const HOUR = 3_600_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');
// The storage engines side by side (issue 13) are their own run: bench/stores.ts.
if (process.argv.includes('--only=stores')) {
  await (await import('./stores.js')).main();
  process.exit(0);
}
const opts = benchOptions(process.argv.slice(2));
const startedAt = new Date().toISOString();
const stamp = startedAt.replace(/[:.]/g, '-').slice(0, 19);
const versions: Record<string, string> = {};
for (const pkg of ['aedes', 'mqtt', 'socket.io', '@duckdb/node-api']) {
  const file = path.join(here, '..', 'node_modules', pkg, 'package.json');
  versions[pkg] = (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

let busyBeforePct = Number.NaN;
const finish = (): BenchRun => ({
  startedAt,
  busyBeforePct,
  finishedAt: new Date().toISOString(),
  options: opts,
  machine,
  versions,
  outcomes,
});

installCleanup((signal) => {
  log(`${signal}: stopping; child processes killed, temp dirs removed, partial results written`);
  writeResults(finish(), resultsDir);
});
removeStaleTempDirs();
// A last resort if a phase's own limit did not hold: write what there is and stop everything.
const deadline = setTimeout(
  () => {
    log('overall time limit reached: writing partial results');
    writeResults(finish(), resultsDir);
    killAllSync();
    process.exit(1);
  },
  (opts.quick ? 5 : 12) * 60_000,
);

// Other jobs share this machine: note how busy it was before the bench added any load.
const before = new CpuWindow({}).start();
await sleep(2000);
busyBeforePct = before.stop().otherPct;
log(`machine busy before start: ${busyBeforePct.toFixed(0)} % of one core (${machine.cores} cores)`);

const cred = await benchCredentials();
let runs = 0;
const nextSeqBase = () => ++runs * 1e12;
const runLimit = opts.warmupMs + Math.max(opts.windowMs, opts.profileMs) + opts.drainMs + 30_000;

/** One generator per broker, replaced after a failed run so that no half-finished run leaks into the next. */
function generatorSlot(scope: Scope, start: () => Promise<LoadGenerator>) {
  let current: LoadGenerator | undefined;
  return {
    async get() {
      current ??= scope.add(await start(), (g) => g.close());
      return current;
    },
    async check<T>(result: T | undefined): Promise<T | undefined> {
      if (result === undefined && current) {
        await current.close();
        current = undefined;
      }
      return result;
    },
  };
}

// 1. References.
for (const [name, start] of (opts.only.includes('relay')
  ? [
      ['mosquitto', startMosquitto],
      ['aedes', startAedes],
    ]
  : []) as [string, () => Promise<ReferenceBroker>][]) {
  const runsOf = ([0, 1] as const).map((qos) => ({
    qos,
    id: `relay-${name}-qos${qos}`,
    title: `${name} relay, QoS ${qos}`,
  }));
  await group(`${name} reference`, runsOf, 2 * runLimit + 60_000, async (scope) => {
    const broker = scope.add(await start(), (b) => b.stop());
    versions[name] = broker.version;
    const gen = generatorSlot(scope, () => startRelayGenerator(broker, opts));
    for (const r of runsOf) {
      await gen.check(
        await phase(r.id, r.title, runLimit + 60_000, async () =>
          measureRelay(broker, await gen.get(), r.qos, opts, nextSeqBase()),
        ),
      );
    }
  });
}

// 2. The hub: range queries on an idle hub first, then throughput, its profile, and latency.
const hubPhases = [
  { id: 'hub-range', title: 'hub range query, week of 1-minute readings' },
  { id: 'hub-e2e', title: 'hub end to end, QoS 1, as fast as PUBACKs allow' },
  { id: 'hub-profile', title: 'hub profile at full rate' },
  ...opts.latencyRates.map((rate) => ({
    id: `hub-latency-${rate}`,
    title: `hub latency at ${rate} readings/s`,
  })),
];
await group('hub', opts.only.includes('hub') ? hubPhases : [], 10 * runLimit + 240_000, async (scope) => {
  if (!opts.only.includes('hub')) return;
  const dir = scope.add(makeTempDir('hub'), removeTempDir);
  const weekEnd = Math.floor(Date.now() / HOUR) * HOUR;
  const seeded = await phase('hub-seed', 'seed sites, devices and history', 180_000, async () => {
    const t0 = performance.now();
    await seedFleet(dir, opts.sites, cred);
    const { rows } = await seedHistory(dir, opts.sites, opts.historyDays, weekEnd);
    return { rows, seconds: (performance.now() - t0) / 1000 };
  });
  if (!seeded) throw new Error('seeding the hub data failed');
  await phase('store-write', 'TelemetryStore.write alone (diagnostic)', 120_000, () =>
    measureStoreWrites(dir, [1, 100, opts.publishers * opts.inflight], opts.quick ? 10 : 20),
  );
  const hub = scope.add(await startHubProcess(dir), (h) => h.stop());
  await phase(hubPhases[0]!.id, hubPhases[0]!.title, 120_000, () =>
    rangeQueries(hub, opts, weekEnd, seeded.rows),
  );
  const gen = generatorSlot(scope, () => startHubGenerator(hub, opts, cred.secret));
  await gen.check(
    await phase(hubPhases[1]!.id, hubPhases[1]!.title, runLimit + 60_000, async () =>
      measureE2e(hub, await gen.get(), opts, nextSeqBase()),
    ),
  );
  const profileFile = path.join(resultsDir, `${stamp}-hub-e2e.cpuprofile`);
  fs.mkdirSync(resultsDir, { recursive: true });
  await gen.check(
    await phase(hubPhases[2]!.id, hubPhases[2]!.title, runLimit + 60_000, async () =>
      profileE2e(hub, await gen.get(), opts, nextSeqBase(), profileFile),
    ),
  );
  for (const [i, rate] of opts.latencyRates.entries()) {
    const p = hubPhases[3 + i]!;
    await gen.check(
      await phase(p.id, p.title, runLimit + 60_000, async () =>
        measureLatency(hub, await gen.get(), rate, opts, nextSeqBase()),
      ),
    );
  }
});

// 3. Idle connections, on a fresh hub so that RSS at zero is not inflated by the runs above.
const idlePhase = { id: 'hub-idle', title: 'hub idle authenticated connections' };
await group(
  'hub for idle connections',
  opts.only.includes('idle') ? [idlePhase] : [],
  420_000,
  async (scope) => {
    if (!opts.only.includes('idle')) return;
    const dir = scope.add(makeTempDir('idle'), removeTempDir);
    await seedIdleDevices(dir, opts.idleMax, opts.idleDevicesPerSite, cred);
    const hub = scope.add(await startHubProcess(dir), (h) => h.stop());
    await phase(idlePhase.id, idlePhase.title, 360_000, (s) => idleConnections(hub, opts, cred.secret, s));
  },
);

clearTimeout(deadline);
const run = finish();
const file = writeResults(run, resultsDir);
log(`\n${buildMarkdown(run)}`);
log(`written: ${path.relative(process.cwd(), file)} (+ .json, latest.md)`);
process.exit(outcomes.some((o) => !o.ok) ? 1 : 0);
