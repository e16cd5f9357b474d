import { siteId } from './hub-data.js';
import type { HubProcess } from './hub-process.js';
import type { BenchOptions } from './options.js';
import { sleep } from './phases.js';
import { type Percentiles, percentiles } from './protocol.js';

/**
 * The dashboard's week view: GET /api/telemetry/range with hourly buckets over the seeded week of
 * 1-minute readings, across all sites (admin, no siteId) and for one site at a time, one request
 * at a time, timed at the client. The hub's event-loop histogram is reset before each series.
 */

const HOUR = 3_600_000;
const WEEK = 7 * 24 * HOUR;

export interface RangeSeries extends Percentiles {
  /** Longest event-loop delay in the hub while the series ran (/api/stats after a reset). */
  loopMaxMs: number;
  loopP99Ms: number;
}

export interface RangeResult {
  rows: number;
  buckets: number;
  /** First request after start, before any cache is warm. */
  coldMs: number;
  allSites: RangeSeries;
  perSite: RangeSeries;
  /** The same histogram over 2 s with no requests: the floor of what it can report. */
  idleLoopMaxMs: number;
}

interface Points {
  points: { t: number; value: number | null; count: number }[];
}

export async function rangeQueries(
  hub: HubProcess,
  opts: BenchOptions,
  weekEnd: number,
  expectedRows: number,
): Promise<RangeResult> {
  const base = `/api/telemetry/range?metric=occupancy&from=${weekEnd - WEEK}&to=${weekEnd}&bucketMs=${HOUR}`;
  const query = async (url: string) => {
    const r = await hub.get<Points>(url);
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);
    return r;
  };

  await hub.stats(true);
  await sleep(2000);
  const idleLoopMaxMs = (await hub.stats(true)).eventLoopDelayMs.max;

  const cold = await query(base);
  const rows = cold.body.points.reduce((n, p) => n + p.count, 0);
  if (rows !== expectedRows)
    throw new Error(`all-sites query covered ${rows} readings, expected ${expectedRows}`);
  await query(base);

  const series = async (urlOf: (i: number) => string): Promise<RangeSeries> => {
    await hub.stats(true);
    const ms: number[] = [];
    for (let i = 0; i < opts.queries; i++) ms.push((await query(urlOf(i))).ms);
    const loop = (await hub.stats(true)).eventLoopDelayMs;
    return { ...percentiles(ms), loopMaxMs: loop.max, loopP99Ms: loop.p99 };
  };
  const allSites = await series(() => base);
  const perSite = await series((i) => `${base}&siteId=${siteId((i % opts.sites) + 1)}`);
  return { rows, buckets: cold.body.points.length, coldMs: cold.ms, allSites, perSite, idleLoopMaxMs };
}
