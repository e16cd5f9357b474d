import fs from 'node:fs';
import { DateTime } from 'luxon';
import { seedAnalytics } from './analytics-seed.js';
import { benchCredentials, seedFleet } from './hub-data.js';
import { startHubProcess } from './hub-process.js';
import { installCleanup, killAllSync } from './processes.js';
import { summarizeProfile } from './profile.js';

/**
 * `tsx bench/analytics-profile.ts <dir> [requests]` (after a build): where the analytics queries of
 * `--only=analytics` spend the hub's main thread. Seeds `<dir>` once (kept, so reruns start in
 * seconds), then per query: wall time per request, the main thread's busy share (the rest is
 * DuckDB's own threads or waiting) and its top functions.
 */
const dir = process.argv[2] ?? '/tmp/analytics-profile';
const requests = Number(process.argv[3] ?? 10);
const TZ = 'Asia/Shanghai';
installCleanup(() => killAllSync());
if (!fs.existsSync(`${dir}/telemetry.duckdb`)) {
  fs.mkdirSync(dir, { recursive: true });
  await seedFleet(dir, 100, await benchCredentials());
  await seedAnalytics(dir, 100, Date.now(), 7);
}
const hub = await startHubProcess(dir, { HUB_TZ: TZ });
try {
  const today = DateTime.now().setZone(TZ);
  const yearAgo = today.minus({ days: 364 }).toISODate();
  const trend = `/api/analytics/trend?range=custom&from=${yearAgo}&to=${today.toISODate()}&kpi=occupancyHours&grain=day&compare=previous`;
  const only = process.env.ONLY;
  const urls: [string, string][] = [
    ['trend-day', trend],
    ['trend-week', trend.replace('grain=day', 'grain=week')],
    ['league', '/api/analytics/league?range=last90&sort=occupancyHours'],
    ['kpis', '/api/analytics/kpis?range=last90'],
    ['heatmap', '/api/analytics/heatmap?range=last90'],
    [
      'export',
      `/api/analytics/export?table=series&grain=hour&metric=occupancy&format=csv&range=custom&from=${yearAgo}&to=${today.toISODate()}`,
    ],
  ];
  /** The export is a file, not JSON: read to its end. */
  const get = async (url: string) => {
    if (!url.includes('/export?')) return hub.get(url);
    const t0 = performance.now();
    const res = await fetch(`${hub.httpUrl}${url}`, { headers: { cookie: hub.cookie } });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - t0 };
  };
  for (const [name, url] of urls) {
    if (only && !only.split(',').includes(name)) continue;
    await get(url);
    await hub.stats(true);
    await hub.inspector.startProfiling(200);
    const ms: number[] = [];
    for (let i = 0; i < requests; i++) {
      const r = await get(url);
      if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
      ms.push(r.ms);
    }
    const p = summarizeProfile(await hub.inspector.stopProfiling(), 12);
    const loop = (await hub.stats(true)).eventLoopDelayMs;
    ms.sort((a, b) => a - b);
    console.log(
      `\n## ${name}: median ${ms[Math.floor(ms.length / 2)]!.toFixed(0)} ms, max ${ms.at(-1)!.toFixed(0)} ms, loop max ${loop.max.toFixed(0)} ms; main thread busy ${(((p.totalMs - p.idleMs) / p.totalMs) * 100).toFixed(0)} % of ${p.totalMs.toFixed(0)} ms`,
    );
    for (const f of p.functions) console.log(`  ${f.ms.toFixed(0).padStart(6)} ms ${f.name} ${f.where}`);
  }
} finally {
  await hub.stop();
}
