import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { alertLatency } from './alerts.js';
import { type ReferenceBroker, startAedes, startMosquitto } from './brokers.js';
import { CpuWindow, machine } from './cpu.js';
import { measureFinderUnderIngest } from './finder.js';
import { benchCredentials, seedFleet, seedHistory, seedIdleDevices } from './hub-data.js';
import { type E2eResult, measureE2e, measureLatency, profileE2e, startHubGenerator } from './hub-e2e.js';
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
// Planners' trends (issue 12) likewise: a year of rollups in a hub of its own.
if (process.argv.includes('--only=analytics')) {
  await (await import('./analytics.js')).main();
  process.exit(0);
}
// One hub against two linked by Redis (issue 14) is its own run too: bench/cluster.ts.
if (process.argv.includes('--only=cluster')) {
  await (await import('./cluster.js')).main();
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
  (opts.quick ? 5 : 12) * 60_000 + opts.soakMs,
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
  const runsOf = [
    ...([0, 1] as const).map((qos) => ({
      qos,
      id: `relay-${name}-qos${qos}`,
      title: `${name} relay, QoS ${qos}`,
      paced: undefined as number | undefined,
    })),
    { qos: 1 as const, id: `relay-${name}-paced`, title: `${name} relay, QoS 1 at 1,000/s`, paced: 1000 },
  ];
  await group(`${name} reference`, runsOf, 3 * runLimit + 60_000, async (scope) => {
    const broker = scope.add(await start(), (b) => b.stop());
    versions[name] = broker.version;
    const gen = generatorSlot(scope, () => startRelayGenerator(broker, opts));
    for (const r of runsOf) {
      await gen.check(
        await phase(r.id, r.title, runLimit + 60_000, async () =>
          measureRelay(broker, await gen.get(), r.qos, opts, nextSeqBase(), r.paced),
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
  { id: 'hub-finder', title: 'public finder requests during full-rate ingest (issue 16)' },
  ...opts.latencyRates.map((rate) => ({
    id: `hub-latency-${rate}`,
    title: `hub latency at ${rate} readings/s`,
  })),
  ...(opts.soakMs > 0 ? [{ id: 'hub-soak', title: `hub soak, ${opts.soakMs / 60_000} min` }] : []),
];
await group(
  'hub',
  opts.only.includes('hub') ? hubPhases : [],
  10 * runLimit + 240_000 + opts.soakMs,
  async (scope) => {
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
    const e2e: E2eResult | undefined = await gen.check(
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
    await gen.check(
      await phase(hubPhases[3]!.id, hubPhases[3]!.title, runLimit + 60_000, async () =>
        measureFinderUnderIngest(hub, await gen.get(), opts, nextSeqBase(), e2e),
      ),
    );
    for (const [i, rate] of opts.latencyRates.entries()) {
      const p = hubPhases[4 + i]!;
      await gen.check(
        await phase(p.id, p.title, runLimit + 60_000, async () =>
          measureLatency(hub, await gen.get(), rate, opts, nextSeqBase()),
        ),
      );
    }
    if (opts.soakMs > 0) {
      // Checkpoints and journal moves come every few seconds to minutes: a long window catches them.
      const rate = opts.latencyRates[opts.latencyRates.length - 1]!;
      await gen.check(
        await phase('hub-soak', hubPhases.at(-1)!.title, opts.soakMs + runLimit + 60_000, async () =>
          measureLatency(hub, await gen.get(), rate, opts, nextSeqBase(), opts.soakMs),
        ),
      );
    }
  },
);

// 3. Alerts: the same end-to-end run with the default rules off and on, side by side (issue 11),
// alternated off/on/off/on on fresh hubs (other jobs share the machine: best of each is kept), then
// alert raised → dashboard latency at 1,000 readings/s and under full-rate load.
const ROUNDS = 2;
const alertPhases = [
  { id: 'alerts-off', title: `hub end to end, alert rules off (ALERTS=off), best of ${ROUNDS}` },
  { id: 'alerts-on', title: `hub end to end, default alert rules on, best of ${ROUNDS}` },
  { id: 'alerts-latency', title: 'alert raised → socket.io, at 1,000 readings/s' },
  { id: 'alerts-latency-full', title: 'alert raised → socket.io, under full-rate load' },
];
await group(
  'alerts',
  opts.only.includes('alerts') ? alertPhases : [],
  (2 * ROUNDS + 2) * runLimit + 300_000,
  async (scope) => {
    if (!opts.only.includes('alerts')) return;
    const runs: Record<'off' | 'on', E2eResult[]> = { off: [], on: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const alerts of ['off', 'on'] as const) {
        const last = round === ROUNDS && alerts === 'on';
        const dir = scope.add(makeTempDir(`alerts-${alerts}`), removeTempDir);
        await seedFleet(dir, opts.sites, cred);
        const hub = scope.add(await startHubProcess(dir, { ALERTS: alerts }), (h) => h.stop());
        const started = await startHubGenerator(hub, opts, cred.secret);
        // Closed here before the next hub starts, and by the scope only if something threw first.
        let closing: Promise<void> | undefined;
        const closeGen = () => {
          closing ??= started.close();
          return closing;
        };
        const gen = scope.add(started, closeGen);
        const r = await phase(
          `alerts-${alerts}-${round}`,
          `alert rules ${alerts}, round ${round}`,
          runLimit + 60_000,
          () => measureE2e(hub, gen, opts, nextSeqBase()),
        );
        if (r) runs[alerts].push(r);
        if (last) {
          // At the latency runs' paced 1,000 readings/s, like publish→socket.io; at full rate every
          // message waits behind the saturated store, alerts as much as tiles (both are reported).
          await phase(alertPhases[2]!.id, alertPhases[2]!.title, 120_000, async () => {
            const load = measureLatency(
              hub,
              gen,
              1000,
              { ...opts, windowMs: opts.windowMs * 2 },
              nextSeqBase(),
            );
            await sleep(opts.warmupMs);
            const latency = await alertLatency(hub, opts.quick ? 50 : 200);
            const paced = await load;
            return { ...latency, offeredPerS: 1000, tileP99: paced.liveLatency?.p99 ?? null };
          });
          await phase(alertPhases[3]!.id, alertPhases[3]!.title, 120_000, async () => {
            const load = measureE2e(hub, gen, { ...opts, windowMs: opts.windowMs * 2 }, nextSeqBase());
            await sleep(opts.warmupMs);
            const latency = await alertLatency(hub, opts.quick ? 50 : 200, 'full');
            const full = await load;
            return { ...latency, tileP99: full.liveLatency?.p99 ?? null };
          });
        }
        await closeGen();
        await hub.stop();
      }
    }
    for (const [i, alerts] of (['off', 'on'] as const).entries()) {
      await phase(alertPhases[i]!.id, alertPhases[i]!.title, 1000, async () => {
        const best = runs[alerts].reduce<E2eResult | undefined>(
          (a, b) => (!a || b.readingsPerS > a.readingsPerS ? b : a),
          undefined,
        );
        if (!best) throw new Error('no run completed');
        // Hub CPU per stored reading, less sensitive to the machine's other jobs than the rate.
        const usPerReading = runs[alerts].map(
          (x) => ((x.cpu.processes.hub?.seconds ?? NaN) * 1e6) / (x.readingsPerS * (opts.windowMs / 1000)),
        );
        return { ...best, rates: runs[alerts].map((x) => x.readingsPerS), usPerReading };
      });
    }
  },
);

// 4. Idle connections, on a fresh hub so that RSS at zero is not inflated by the runs above.
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
