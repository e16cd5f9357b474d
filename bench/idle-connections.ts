import { fileURLToPath } from 'node:url';
import { type CpuReport, CpuWindow, fdLimit, openFds, rssBytes } from './cpu.js';
import { idleDevice } from './hub-data.js';
import type { HubProcess } from './hub-process.js';
import type { IdleClientSetup, IdleCounts } from './idle-client.js';
import type { BenchOptions } from './options.js';
import { type Scope, sleep } from './phases.js';
import { type Child, startChild } from './processes.js';

/**
 * Authenticated idle device connections: how many the hub holds (5k, 10k, then as many as its fd
 * limit allows) and what each costs in RSS. RSS is read from /proc after the hub has settled and
 * after a forced garbage collection, so that garbage left by the connect storm is not counted.
 */

/** Descriptors kept free for the bench's own HTTP and what the hub may open meanwhile. */
const FD_RESERVE = 10;
const KEEPALIVE_S = 60;

export interface IdleStep {
  target: number;
  connacked: number;
  refused: number;
  failed: number;
  dropped: number;
  /** The hub's own count, /api/stats connectedDevices. */
  connectedDevices: number;
  hubFds: number;
  rssBytes: number;
  /** (RSS at N − RSS at 0) / N. */
  kibPerConnection: number;
  connectS: number;
  cpu: CpuReport;
  firstError?: string;
}

export interface IdleResult {
  fdLimit: number;
  fdsAtZero: number;
  fdReserve: number;
  /** The last step's target: the fd limit less what the hub already had open, less the reserve. */
  maxTarget: number;
  rssAtZeroBytes: number;
  generatorProcesses: number;
  steps: IdleStep[];
  /** Still open on both sides a few seconds after the last step. */
  heldAtEnd: { connectedDevices: number; dropped: number };
}

interface IdleProcess {
  child: Child;
  ask(m: { type: 'connect'; upTo: number } | { type: 'counts' } | { type: 'close' }): Promise<IdleCounts>;
}

function startIdleProcess(setup: IdleClientSetup, i: number): IdleProcess {
  const script = fileURLToPath(new URL('./idle-client.ts', import.meta.url));
  const child = startChild(
    `idle client ${i}`,
    process.execPath,
    ['--import', 'tsx', script, JSON.stringify(setup)],
    {
      ipc: true,
    },
  );
  return {
    child,
    ask: (m) =>
      new Promise((resolve, reject) => {
        const onExit = () => reject(new Error(`${child.name} exited\n${child.output()}`));
        child.proc.once('exit', onExit);
        child.proc.once('message', (reply: IdleCounts) => {
          child.proc.off('exit', onExit);
          resolve(reply);
        });
        child.proc.send(m);
      }),
  };
}

async function settledRss(hub: HubProcess): Promise<number> {
  await sleep(2000);
  await hub.inspector.collectGarbage();
  await sleep(500);
  return rssBytes(hub.pid);
}

export async function idleConnections(
  hub: HubProcess,
  opts: BenchOptions,
  secret: string,
  scope: Scope,
): Promise<IdleResult> {
  const limit = fdLimit(hub.pid);
  const fdsAtZero = openFds(hub.pid);
  const maxTarget = Math.min(opts.idleMax, limit - fdsAtZero - FD_RESERVE);
  const targets = [...opts.idleSteps.filter((s) => s < maxTarget), maxTarget];
  const rssAtZeroBytes = await settledRss(hub);

  const { hostname, port } = new URL(hub.mqttUrl);
  const n = Math.ceil(maxTarget / opts.idlePerProcess);
  const share = Math.ceil(maxTarget / n);
  const procs = Array.from({ length: n }, (_, i) =>
    scope.add(
      startIdleProcess(
        {
          host: hostname,
          port: Number(port),
          localAddress: `127.0.0.${11 + i}`,
          deviceIds: Array.from({ length: share }, (_, k) => idleDevice(i * share + k)).slice(
            0,
            Math.max(0, maxTarget - i * share),
          ),
          secret,
          keepaliveS: KEEPALIVE_S,
          concurrency: 32,
        },
        i,
      ),
      (p) => p.child.stop(2000),
    ),
  );

  const steps: IdleStep[] = [];
  for (const target of targets) {
    const cpu = new CpuWindow({
      hub: hub.pid,
      ...Object.fromEntries(procs.map((p, i) => [`generator${i}`, p.child.pid])),
    });
    cpu.start();
    const t0 = performance.now();
    const counts = await Promise.all(
      procs.map((p, i) => p.ask({ type: 'connect', upTo: Math.max(0, Math.min(share, target - i * share)) })),
    );
    const connectS = (performance.now() - t0) / 1000;
    const cpuReport = cpu.stop();
    const rss = await settledRss(hub);
    const stats = await hub.stats();
    const sum = (k: 'connacked' | 'refused' | 'failed' | 'dropped') => counts.reduce((s, c) => s + c[k], 0);
    steps.push({
      target,
      connacked: sum('connacked'),
      refused: sum('refused'),
      failed: sum('failed'),
      dropped: sum('dropped'),
      connectedDevices: stats.connectedDevices,
      hubFds: openFds(hub.pid),
      rssBytes: rss,
      kibPerConnection: (rss - rssAtZeroBytes) / 1024 / Math.max(1, stats.connectedDevices),
      connectS,
      cpu: cpuReport,
      firstError: counts.find((c) => c.firstError)?.firstError,
    });
  }
  await sleep(5000);
  const end = await Promise.all(procs.map((p) => p.ask({ type: 'counts' })));
  const heldAtEnd = {
    connectedDevices: (await hub.stats()).connectedDevices,
    dropped: end.reduce((s, c) => s + c.dropped, 0),
  };
  await Promise.all(procs.map((p) => p.ask({ type: 'close' }).catch(() => undefined)));
  return {
    fdLimit: limit,
    fdsAtZero,
    fdReserve: FD_RESERVE,
    maxTarget,
    rssAtZeroBytes,
    generatorProcesses: n,
    steps,
    heldAtEnd,
  };
}
