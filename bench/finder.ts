import type { E2eResult } from './hub-e2e.js';
import { measureE2e } from './hub-e2e.js';
import type { HubProcess } from './hub-process.js';
import type { LoadGenerator } from './load.js';
import type { BenchOptions } from './options.js';
import { type Percentiles, percentiles } from './protocol.js';

/**
 * The public station finder (issue 16) against a hub under ingest load: GET /api/public/stations
 * from this one process with `concurrency` requests in flight (keep-alive fetch, no ETag, so every
 * request gets the full body), during a full-rate ingest window; side by side with the ingest rate
 * of the window before it, without finder load.
 */
export interface FinderLoadResult {
  concurrency: number;
  requests: number;
  errors: number;
  requestsPerS: number;
  latency: Percentiles;
  bodyBytes: number;
  ingestWithout: number;
  ingestWith: number;
  /** Snapshot builds the hub made in the window (its /api/stats finder counter) vs requests served. */
  finderStats: { builds: number; requests: number } | null;
}

export async function finderLoad(
  hub: HubProcess,
  stop: () => boolean,
  concurrency: number,
): Promise<{ ms: number[]; errors: number; bodyBytes: number; elapsedS: number }> {
  const ms: number[] = [];
  let errors = 0;
  let bodyBytes = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (!stop()) {
      const s = performance.now();
      try {
        const res = await fetch(`${hub.httpUrl}/api/public/stations`);
        const body = await res.arrayBuffer();
        if (res.status !== 200) errors++;
        else {
          bodyBytes = body.byteLength;
          ms.push(performance.now() - s);
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { ms, errors, bodyBytes, elapsedS: (performance.now() - t0) / 1000 };
}

export async function measureFinderUnderIngest(
  hub: HubProcess,
  gen: LoadGenerator,
  opts: BenchOptions,
  seqBase: number,
  ingestWithout: E2eResult | undefined,
  concurrency = 32,
): Promise<FinderLoadResult> {
  const before = await finderCounters(hub);
  let done = false;
  const load = finderLoad(hub, () => done, concurrency);
  let withLoad: E2eResult;
  try {
    withLoad = await measureE2e(hub, gen, opts, seqBase);
  } finally {
    done = true;
  }
  const r = await load;
  const after = await finderCounters(hub);
  return {
    concurrency,
    requests: r.ms.length,
    errors: r.errors,
    requestsPerS: r.ms.length / r.elapsedS,
    latency: percentiles(r.ms),
    bodyBytes: r.bodyBytes,
    ingestWithout: ingestWithout?.readingsPerS ?? Number.NaN,
    ingestWith: withLoad.readingsPerS,
    finderStats:
      before && after
        ? { builds: after.builds - before.builds, requests: after.requests - before.requests }
        : null,
  };
}

async function finderCounters(hub: HubProcess): Promise<{ builds: number; requests: number } | null> {
  const r = await hub.get<{ finder?: { builds: number; requests: number } }>('/api/stats');
  return r.body.finder ?? null;
}
