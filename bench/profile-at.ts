import { readFileSync, writeFileSync } from 'node:fs';
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
 * rate of 0 runs as fast as PUBACKs allow, as the bench's e2e run does. Prints the hub's RSS
 * (anonymous and file-backed) after start and after the window; with HEAP=1 also where the main
 * thread allocated what was still live at the window's end (V8's sampling heap profiler); with
 * PROFILE_OUT=<file> writes the CPU profile there.
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
  const rss = async () => {
    const status = readFileSync(`/proc/${hub.pid}/status`, 'utf8');
    const kb = (k: string) => Math.round(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1]) / 1024);
    const { result } = await hub.inspector.call<{ result: { value: string } }>('Runtime.evaluate', {
      expression:
        'JSON.stringify(Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, Math.round(v / 2 ** 20)])))',
    });
    return `${kb('VmRSS')} MiB (anon ${kb('RssAnon')}, file ${kb('RssFile')}); main thread ${result.value}`;
  };
  console.log(`hub RSS after start ${await rss()}`);
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
    {
      atStart: async () => {
        if (process.env.HEAP)
          await hub.inspector.call('HeapProfiler.startSampling', { samplingInterval: 16384 });
        await hub.inspector.startProfiling();
      },
      atEnd: async () => {
        if (process.env.HEAP) {
          type Node = {
            callFrame: { functionName: string; url: string; lineNumber: number };
            selfSize: number;
            children: Node[];
          };
          const { profile } = await hub.inspector.call<{ profile: { head: Node } }>(
            'HeapProfiler.getSamplingProfile',
          );
          const bySite = new Map<string, number>();
          const walk = (n: Node, path: string[]) => {
            const here = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
            const p = [...path, here].slice(-4);
            if (n.selfSize > 0) bySite.set(p.join(' < '), (bySite.get(p.join(' < ')) ?? 0) + n.selfSize);
            for (const c of n.children) walk(c, p);
          };
          walk(profile.head, []);
          for (const [k, v] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 15))
            console.log(`heap ${(v / 2 ** 20).toFixed(1).padStart(6)} MiB  ${k}`);
        }
        return hub.inspector.stopProfiling();
      },
    },
  );
  const r = m.result;
  console.log(`hub RSS after the window ${await rss()}`);
  console.log(
    `acked ${Math.round(r.ackedInWindow / m.windowS)}/s; PUBACK p50 / p99 ${r.ackLatency.p50.toFixed(1)} / ${r.ackLatency.p99.toFixed(1)} ms`,
  );
  // PROFILE_OUT=file keeps the whole profile, to open in Chrome's DevTools or walk by caller.
  if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, JSON.stringify(m.atEnd));
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
