import { benchCredentials, seedFleet } from './hub-data.js';
import { startHubGenerator } from './hub-e2e.js';
import { startHubProcess } from './hub-process.js';
import { measure } from './load.js';
import { benchOptions } from './options.js';
import { installCleanup, killAllSync, makeTempDir, removeTempDir } from './processes.js';
import { summarizeProfile } from './profile.js';

/**
 * `tsx bench/profile-at.ts <readings/s> [seconds]` (after a build): the hub's main-thread profile
 * at a paced rate, to see what costs CPU at low load (the full bench profiles only full rate); a
 * rate of 0 runs as fast as PUBACKs allow, as the bench's e2e run does.
 */
const rate = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 5);
const opts = benchOptions(['--quick']);
installCleanup(() => {});
const dir = makeTempDir('profile');
try {
  const cred = await benchCredentials();
  await seedFleet(dir, opts.sites, cred);
  const hub = await startHubProcess(dir);
  const gen = await startHubGenerator(hub, opts, cred.secret);
  const m = await measure(
    gen,
    {
      qos: 1,
      mode: rate > 0 ? { kind: 'paced', rate } : { kind: 'window', inflight: opts.inflight },
      seqBase: 1e12,
      drainMs: 2000,
      warmupMs: 2000,
      windowMs: seconds * 1000,
    },
    { hub: hub.pid, generator: gen.child.pid },
    { atStart: () => hub.inspector.startProfiling(), atEnd: () => hub.inspector.stopProfiling() },
  );
  const r = m.result;
  console.log(
    `acked ${Math.round(r.ackedInWindow / m.windowS)}/s; PUBACK p50 / p99 ${r.ackLatency.p50.toFixed(1)} / ${r.ackLatency.p99.toFixed(1)} ms`,
  );
  const p = summarizeProfile(m.atEnd!, 25);
  console.log(
    `hub CPU ${JSON.stringify(m.cpu.processes.hub)}; busy ${Math.round(p.totalMs - p.idleMs)} of ${Math.round(p.totalMs)} ms`,
  );
  for (const f of p.functions)
    console.log(`${f.ms.toFixed(0).padStart(6)} ms ${f.pct.toFixed(1).padStart(5)} %  ${f.name}  ${f.where}`);
  console.log(p.packages.map((x) => `${x.name} ${x.pct.toFixed(0)} %`).join(', '));
  await gen.close();
  await hub.stop();
} finally {
  removeTempDir(dir);
  killAllSync();
}
process.exit(0);
