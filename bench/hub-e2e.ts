import fs from 'node:fs';
import path from 'node:path';
import { type CpuReport, cpuSeconds } from './cpu.js';
import { MARKER_DEVICE, MARKER_SITE, publisherDevice, siteId } from './hub-data.js';
import type { HubProcess, HubStats } from './hub-process.js';
import { type LoadGenerator, measure, startLoadGenerator } from './load.js';
import type { BenchOptions } from './options.js';
import { type ProfileSummary, summarizeProfile } from './profile.js';
import { epochNow, type Percentiles, type RunResult } from './protocol.js';

/**
 * The hub end to end: authenticated QoS 1 publishers, validated readings stored in DuckDB before
 * each PUBACK, and a dashboard's socket.io client receiving the live `sites` updates.
 */

export function startHubGenerator(
  hub: HubProcess,
  opts: BenchOptions,
  secret: string,
): Promise<LoadGenerator> {
  const topic = (site: string, device: string) => `yz/v1/${site}/${device}/telemetry`;
  return startLoadGenerator({
    url: hub.mqttUrl,
    workers: opts.workers,
    publishers: Array.from({ length: opts.publishers }, (_, k) => {
      const id = publisherDevice(k + 1);
      return { clientId: id, username: id, password: secret, topic: topic(siteId(k + 1), id) };
    }),
    marker: {
      clientId: MARKER_DEVICE,
      username: MARKER_DEVICE,
      password: secret,
      topic: topic(MARKER_SITE, MARKER_DEVICE),
      deviceId: MARKER_DEVICE,
      intervalMs: opts.markerIntervalMs,
    },
    observer: { kind: 'live', url: hub.httpUrl, cookie: `${hub.cookie}`, markerDeviceId: MARKER_DEVICE },
  });
}

export interface E2eResult {
  /** Readings acknowledged (so stored) per second, from the publishers' PUBACKs. */
  readingsPerS: number;
  /** The same from the hub's own counter, /api/stats ingest.readings over the window. */
  statsReadingsPerS: number;
  siteEventsPerS: number;
  ackLatency: Percentiles;
  liveLatency: RunResult['liveLatency'];
  liveFresh: RunResult['liveFresh'];
  unacked: number;
  storeFailures: number;
  refused: number;
  payloadBytes: number;
  cpu: CpuReport;
  errors: string[];
  /** Everything /api/stats said at the window's edges, so counters the hub adds later are kept too. */
  hubStats: { start: HubStats; end: HubStats };
}

const pids = (hub: HubProcess, gen: LoadGenerator) => ({ hub: hub.pid, generator: gen.child.pid });
const stamped = (hub: HubProcess) => () => hub.stats().then((stats) => ({ stats, at: epochNow() }));

export async function measureE2e(
  hub: HubProcess,
  gen: LoadGenerator,
  opts: BenchOptions,
  seqBase: number,
): Promise<E2eResult> {
  const m = await measure<{ stats: HubStats; at: number }, { stats: HubStats; at: number }>(
    gen,
    {
      qos: 1,
      mode: { kind: 'window', inflight: opts.inflight },
      seqBase,
      drainMs: opts.drainMs,
      warmupMs: opts.warmupMs,
      windowMs: opts.windowMs,
    },
    pids(hub, gen),
    { atStart: stamped(hub), atEnd: stamped(hub) },
  );
  const r = m.result;
  if (r.ackedInWindow === 0)
    throw new Error(`no reading acknowledged (${r.errors.join('; ') || 'no errors'})`);
  const a = m.atStart!;
  const b = m.atEnd!;
  return {
    readingsPerS: r.ackedInWindow / m.windowS,
    statsReadingsPerS: ((b.stats.ingest.readings - a.stats.ingest.readings) * 1000) / (b.at - a.at),
    siteEventsPerS: (r.siteEventsInWindow ?? 0) / m.windowS,
    ackLatency: r.ackLatency,
    liveLatency: r.liveLatency,
    liveFresh: r.liveFresh,
    unacked: r.unacked,
    storeFailures: b.stats.ingest.storeFailures - a.stats.ingest.storeFailures,
    refused: b.stats.ingest.refused - a.stats.ingest.refused,
    payloadBytes: r.payloadBytes,
    cpu: m.cpu,
    errors: r.errors,
    hubStats: { start: a.stats, end: b.stats },
  };
}

/** A second full-rate window with the V8 profiler on: where the hub's main thread spends its time. */
export async function profileE2e(
  hub: HubProcess,
  gen: LoadGenerator,
  opts: BenchOptions,
  seqBase: number,
  saveTo: string,
): Promise<ProfileSummary & { readingsPerS: number; cpu: CpuReport; file: string }> {
  const m = await measure(
    gen,
    {
      qos: 1,
      mode: { kind: 'window', inflight: opts.inflight },
      seqBase,
      drainMs: opts.drainMs,
      warmupMs: opts.warmupMs,
      windowMs: opts.profileMs,
    },
    pids(hub, gen),
    { atStart: () => hub.inspector.startProfiling(), atEnd: () => hub.inspector.stopProfiling() },
  );
  fs.writeFileSync(saveTo, JSON.stringify(m.atEnd));
  return {
    ...summarizeProfile(m.atEnd!),
    readingsPerS: m.result.ackedInWindow / m.windowS,
    cpu: m.cpu,
    file: path.basename(saveTo),
  };
}

export interface LatencyResult {
  offeredPerS: number;
  /** What the generator managed to send in the window (below offered if it fell behind). */
  sentPerS: number;
  ackedPerS: number;
  ackLatency: Percentiles;
  liveLatency: RunResult['liveLatency'];
  unacked: number;
  cpu: CpuReport;
  errors: string[];
  /** The hub's RSS at the end of the window, and its longest event-loop stall during it. */
  rssBytes?: number;
  loopMaxMs?: number;
  windowS?: number;
  /** How long the hub took to finish the previous run's work (journal moves, rollups) first. */
  settle?: Settled;
}

export interface Settled {
  ms: number;
  journalRows: number;
  idle: boolean;
}

/**
 * Waits until the hub has moved its journal into the store and is idle (under 5 % of a core for a
 * second), at most `maxMs`: the paced runs measure what a rate costs, not the backlog a full-rate
 * run before them left behind.
 */
export async function settle(hub: HubProcess, maxMs = 120_000): Promise<Settled> {
  const t0 = performance.now();
  const journalRows = (await hub.stats()).ingest.journal?.rows ?? 0;
  for (;;) {
    const rows = (await hub.stats()).ingest.journal?.rows ?? 0;
    const before = cpuSeconds(hub.pid);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rows === 0 && cpuSeconds(hub.pid) - before < 0.05;
    if (idle || performance.now() - t0 > maxMs) {
      return { ms: Math.round(performance.now() - t0), journalRows, idle };
    }
  }
}

/** Paced publishers at `rate` readings/s; `windowMs` overrides the usual window (the soak). */
export async function measureLatency(
  hub: HubProcess,
  gen: LoadGenerator,
  rate: number,
  opts: BenchOptions,
  seqBase: number,
  windowMs = opts.windowMs,
): Promise<LatencyResult> {
  const settled = await settle(hub);
  const m = await measure<HubStats, HubStats>(
    gen,
    {
      qos: 1,
      mode: { kind: 'paced', rate },
      seqBase,
      drainMs: opts.drainMs,
      warmupMs: opts.warmupMs,
      windowMs,
    },
    pids(hub, gen),
    // The event-loop histogram is reset as the window starts, so its max is this window's.
    { atStart: () => hub.stats(true), atEnd: () => hub.stats() },
  );
  const r = m.result;
  return {
    offeredPerS: rate,
    sentPerS: r.sentInWindow / m.windowS,
    ackedPerS: r.ackedInWindow / m.windowS,
    ackLatency: r.ackLatency,
    liveLatency: r.liveLatency,
    unacked: r.unacked,
    cpu: m.cpu,
    errors: r.errors,
    rssBytes: m.atEnd?.rssBytes,
    loopMaxMs: m.atEnd?.eventLoopDelayMs.max,
    windowS: m.windowS,
    settle: settled,
  };
}
