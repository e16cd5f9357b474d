import type { Worker } from 'node:worker_threads';
import type { WorkerInit, WorkerResult } from './load-worker.js';
import type { Observed, ObserverInit } from './observer-worker.js';
import {
  epochNow,
  type GeneratorReply,
  type GeneratorRequest,
  type GeneratorSetup,
  percentiles,
  type RunResult,
  type RunSpec,
} from './protocol.js';
import { nextMessage, startTsWorker } from './ts-worker.js';

/**
 * The load generator: a child process of the bench (so its CPU can be read from /proc apart from
 * the broker's) whose worker threads hold the publishers and the observer. Driven over IPC by
 * bench/load.ts; exits when the bench goes away.
 */

let publishers: Worker[] = [];
let observer: Worker | undefined;
let observerKind: GeneratorSetup['observer']['kind'] = 'mqtt';
const credit = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);

async function setup(s: GeneratorSetup): Promise<void> {
  observerKind = s.observer.kind;
  const observerInit: ObserverInit = { observer: s.observer, credit };
  observer = startTsWorker(new URL('./observer-worker.ts', import.meta.url), observerInit);
  await nextMessage(observer, 'ready', 30_000);
  const shares: WorkerInit['publishers'][] = Array.from({ length: s.workers }, () => []);
  for (const [i, p] of s.publishers.entries()) shares[i % s.workers]!.push(p);
  publishers = shares.map((share, i) => {
    const init: WorkerInit = {
      url: s.url,
      publishers: share,
      totalPublishers: s.publishers.length,
      marker: i === 0 ? s.marker : undefined,
      credit,
    };
    return startTsWorker(new URL('./load-worker.ts', import.meta.url), init);
  });
  await Promise.all(publishers.map((w) => nextMessage(w, 'ready', 60_000)));
}

async function run(spec: RunSpec): Promise<RunResult> {
  if (!observer) throw new Error('run before setup');
  new Int32Array(credit).fill(0);
  observer.postMessage({ type: 'arm', run: spec });
  await nextMessage(observer, 'armed', 10_000);
  const limit = spec.measureTo - epochNow() + spec.drainMs + 15_000;
  const pending = publishers.map((w) => nextMessage<WorkerResult>(w, 'result', limit));
  for (const w of publishers) w.postMessage({ type: 'run', run: spec });
  const results = await Promise.all(pending);
  // The hub coalesces `sites` events every ~25 ms: give the last ones time to arrive.
  await new Promise((r) => setTimeout(r, observerKind === 'live' ? 1000 : 200));
  observer.postMessage({ type: 'collect' });
  const seen = await nextMessage<Observed>(observer, 'observed', 10_000);

  const sum = (pick: (r: WorkerResult) => number) => results.reduce((n, r) => n + pick(r), 0);
  const latencies = new Float64Array(sum((r) => r.latencies.length));
  let offset = 0;
  for (const r of results) {
    latencies.set(r.latencies, offset);
    offset += r.latencies.length;
  }
  const result: RunResult = {
    sentInWindow: sum((r) => r.sentInWindow),
    ackedInWindow: sum((r) => r.ackedInWindow),
    sentTotal: sum((r) => r.sentTotal),
    ackedTotal: sum((r) => r.ackedTotal),
    unacked: sum((r) => r.unacked),
    ackLatency: percentiles(latencies),
    payloadBytes:
      sum((r) => r.payloadBytes * r.sentTotal) /
      Math.max(
        1,
        sum((r) => r.sentTotal),
      ),
    errors: [...new Set([...results.flatMap((r) => r.errors), ...seen.errors])].slice(0, 20),
  };
  if (observerKind === 'mqtt') {
    result.deliveredInWindow = seen.deliveredInWindow;
  } else {
    result.siteEventsInWindow = seen.siteEventsInWindow;
    result.liveLatency = markerLatency(
      results.flatMap((r) => r.markers),
      seen.markerReceipts,
    );
    const acked = Object.entries(
      Object.assign({}, ...results.map((r) => r.lastAcked)) as Record<string, number>,
    );
    const active = acked.filter(([, ts]) => ts > 0);
    result.liveFresh = {
      devices: active.length,
      fresh: active.filter(([id, ts]) => (seen.valuesTs[id] ?? 0) >= ts).length,
    };
  }
  return result;
}

/**
 * A marker counts as shown when the first `sites` event whose marker valuesTs is at least the
 * marker's own ts arrives: the hub coalesces updates, so a newer marker may stand for older ones.
 */
function markerLatency(
  markers: { ts: number; sentAt: number }[],
  receipts: { valuesTs: number; at: number }[],
): RunResult['liveLatency'] {
  const sorted = [...markers].sort((a, b) => a.ts - b.ts);
  const samples: number[] = [];
  let missed = 0;
  let j = 0;
  for (const m of sorted) {
    while (j < receipts.length && receipts[j]!.valuesTs < m.ts) j++;
    if (j < receipts.length) samples.push(receipts[j]!.at - m.sentAt);
    else missed++;
  }
  return { ...percentiles(samples), missed };
}

async function close(): Promise<void> {
  const all = [...publishers, ...(observer ? [observer] : [])];
  await Promise.all(
    all.map(async (w) => {
      w.postMessage({ type: 'close' });
      await nextMessage(w, 'closed', 5_000).catch(() => undefined);
      await w.terminate();
    }),
  );
}

const reply = (m: GeneratorReply) => process.send?.(m);

process.on('message', async (m: GeneratorRequest) => {
  try {
    if (m.type === 'setup') {
      await setup(m.setup);
      reply({ type: 'ok', id: m.id });
    } else if (m.type === 'run') {
      reply({ type: 'ok', id: m.id, result: await run(m.run) });
    } else {
      await close();
      reply({ type: 'ok', id: m.id });
      process.disconnect?.();
      process.exit(0);
    }
  } catch (err) {
    reply({ type: 'error', id: m.id, message: (err as Error).message });
  }
});
// The bench is gone (crashed or killed): stop rather than load a machine nobody watches.
process.on('disconnect', () => process.exit(1));
