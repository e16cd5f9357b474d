import fs from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import mqtt from 'mqtt';
import { topicFor } from '../contract/index.js';
import { seedAnalytics } from './analytics-seed.js';
import { benchCredentials, historyDevice, publisherDevice, seedFleet, siteId } from './hub-data.js';
import { type HubProcess, startHubProcess } from './hub-process.js';
import { installCleanup, killAllSync, makeTempDir, removeTempDir } from './processes.js';
import { percentiles } from './protocol.js';

/**
 * `npm run bench -- --only=analytics [--quick]` (issue 12): a year of hourly rollups for 100 sites
 * in a real hub process, asked through the HTTP API as the trends page asks it.
 * - trend (a year of days, with the previous year overlaid) and league table (100 sites × 90 days)
 *   p95, with the hub's longest event-loop stall meanwhile;
 * - the raw-scan path it replaces, side by side: 30 days of daily occupancy for all sites from 1-minute
 *   raw readings (GET /api/telemetry/range) against the same from rollups;
 * - CSV export of the year's hourly series (every site's counter), streamed: rows/s and hub RSS growth.
 */
const SITES = 100;
const TZ = 'Asia/Shanghai';

export async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const queries = quick ? 20 : 60;
  const rawDays = quick ? 7 : 30;
  const out: string[] = [];
  const say = (line: string) => {
    console.log(line);
    out.push(line);
  };
  installCleanup(() => killAllSync());
  const dir = makeTempDir('analytics');
  let hub: HubProcess | undefined;
  try {
    const t0 = performance.now();
    const cred = await benchCredentials();
    await seedFleet(dir, SITES, cred);
    const seeded = await seedAnalytics(dir, SITES, Date.now(), rawDays);
    say(
      `seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${seeded.hourRows.toLocaleString('en')} hourly + ${seeded.dayRows.toLocaleString('en')} daily rollup rows, ${seeded.rawRows.toLocaleString('en')} raw readings (${rawDays} days × 1/min × ${SITES} sites)`,
    );
    // Rolled once an hour: the live tail published below stays not rolled up while it is measured.
    hub = await startHubProcess(dir, { HUB_TZ: TZ, ROLLUP_EVERY_S: '3600' });
    const h = hub;
    const today = DateTime.now().setZone(TZ);
    const yearAgo = today.minus({ days: 364 }).toISODate();
    const series = async (url: string) => {
      const first = await h.get<unknown>(url);
      if (first.status !== 200)
        throw new Error(`${url}: ${first.status} ${JSON.stringify(first.body).slice(0, 300)}`);
      await h.stats(true);
      const ms: number[] = [];
      for (let i = 0; i < queries; i++) ms.push((await h.get(url)).ms);
      const loop = (await h.stats(true)).eventLoopDelayMs;
      return { ...percentiles(ms), loopMaxMs: loop.max, coldMs: first.ms };
    };
    const f = (x: number) => x.toFixed(1);
    const rows: [string, Awaited<ReturnType<typeof series>>, string][] = [];
    const trendYear = `/api/analytics/trend?range=custom&from=${yearAgo}&to=${today.toISODate()}&kpi=occupancyHours&grain=day&compare=previous`;
    rows.push(['trend: 365 days × 100 sites, previous year overlaid', await series(trendYear), '< 50 ms']);
    rows.push(['trend: the same by week', await series(trendYear.replace('grain=day', 'grain=week')), '']);
    rows.push([
      'league table: 100 sites × 90 days, daily sparklines',
      await series('/api/analytics/league?range=last90&sort=occupancyHours'),
      '< 100 ms',
    ]);
    rows.push(['KPIs per site and community, 90 days', await series('/api/analytics/kpis?range=last90'), '']);
    rows.push([
      'heatmap weekday × hour, 90 days (hourly rollups)',
      await series('/api/analytics/heatmap?range=last90'),
      '',
    ]);
    const from = today.minus({ days: rawDays - 1 }).startOf('day');
    const rawUrl = `/api/telemetry/range?metric=occupancy&from=${from.toMillis()}&to=${today.plus({ days: 1 }).startOf('day').toMillis()}&bucketMs=86400000&agg=avg`;
    const raw = await series(rawUrl);
    const rolled = await series(
      `/api/analytics/trend?range=custom&from=${from.toISODate()}&to=${today.toISODate()}&kpi=occupancyHours&grain=day&compare=none`,
    );
    rows.push([`raw scan (before): ${rawDays} days daily mean, all sites, from 1-min readings`, raw, '']);
    rows.push([
      `rollups (now): the same ${rawDays} days from daily rollups`,
      rolled,
      `${f(raw.p95 / rolled.p95)}× faster at p95`,
    ]);
    // A live hub always holds readings not rolled up yet (up to ROLLUP_EVERY_S, 60 s by default):
    // every range that includes today then answers through the real-time union as well.
    const tail = await publishLiveTail(h, cred.secret);
    rows.push([
      `trend: 365 days × 100 sites, previous year, with a live tail (${tail})`,
      await series(trendYear),
      '',
    ]);
    rows.push([
      'league table: 100 sites × 90 days, with the live tail',
      await series('/api/analytics/league?range=last90&sort=occupancyHours'),
      '',
    ]);
    say('');
    say(
      `| query (${queries} requests each, one at a time) | p50 ms | p95 ms | max ms | hub loop max ms | target / note |`,
    );
    say('|---|---|---|---|---|---|');
    for (const [name, r, note] of rows)
      say(`| ${name} | ${f(r.p50)} | ${f(r.p95)} | ${f(r.max)} | ${f(r.loopMaxMs)} | ${note} |`);

    say('');
    say(
      "| export (a year of hourly rollups, every site's counter) | rows | MB | seconds | rows/s | hub RSS growth MiB | hub loop max ms |",
    );
    say('|---|---|---|---|---|---|---|');
    // The first export after start also fills DuckDB's caches (its buffer pool and allocator keep
    // what a year's scan touched, once); the second shows what an export itself holds.
    const runs = [
      ['csv', 'csv (UTF-8 with BOM), first after start'],
      ['csv', 'csv again'],
      ['parquet', 'parquet'],
    ] as const;
    for (const [format, label] of runs) {
      const r = await exportRun(
        h,
        `/api/analytics/export?table=series&grain=hour&metric=occupancy&format=${format}&range=custom&from=${yearAgo}&to=${today.toISODate()}`,
        format,
      );
      say(
        `| ${label} | ${r.rows === null ? '—' : r.rows.toLocaleString('en')} | ${f(r.bytes / 1e6)} | ${f(r.seconds)} | ${r.rows === null ? '—' : Math.round(r.rows / r.seconds).toLocaleString('en')} | ${f(r.rssGrowthMiB)} | ${f(r.loopMaxMs)} |`,
      );
    }
    say('');
    say(
      `targets: trend p95 < 50 ms, league p95 < 100 ms, no event-loop stall > 50 ms, CSV ≥ 100,000 rows/s with RSS growth < 50 MiB. Machine: 2 cores shared with other engineers' jobs.`,
    );
  } finally {
    await hub?.stop();
    removeTempDir(dir);
  }
  const resultsDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(
    resultsDir,
    `analytics-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}.md`,
  );
  fs.writeFileSync(file, `${out.join('\n')}\n`);
  console.log(`written: ${file}`);
}

/**
 * Ten minutes of readings from both devices of the first LIVE_SITES sites, published over MQTT as
 * devices send them, then waited for until the store has them (and their rollup marks).
 */
const LIVE_SITES = 20;
async function publishLiveTail(hub: HubProcess, secret: string): Promise<string> {
  const now = Date.now();
  const devices = Array.from({ length: LIVE_SITES }, (_, i) => [
    [siteId(i + 1), historyDevice(i + 1), 'occupancy'],
    [siteId(i + 1), publisherDevice(i + 1), 'water_level_pct'],
  ]).flat() as [string, string, string][];
  for (const [site, device, metric] of devices) {
    const c = await mqtt.connectAsync(hub.mqttUrl, {
      username: device,
      password: secret,
      clientId: device,
      reconnectPeriod: 0,
    });
    const readings = Array.from({ length: 10 }, (_, j) => ({
      seq: 1e9 + j,
      ts: now - (10 - j) * 60_000,
      // A dispenser reports whether it is on with every reading (contract/device/kinds.ts).
      values: metric === 'occupancy' ? { occupancy: 4 + (j % 3) } : { on: true, water_level_pct: 60 - j },
    }));
    await c.publishAsync(topicFor(site, device, 'telemetry'), JSON.stringify({ readings }), { qos: 1 });
    await c.endAsync();
  }
  const [site, device] = devices.at(-1)!;
  for (let i = 0; ; i++) {
    const r = await hub.get<{ points: { count: number }[] }>(
      `/api/telemetry/range?siteId=${site}&deviceId=${device}&metric=water_level_pct&agg=count&from=${now - 3_600_000}&to=${now + 60_000}&bucketMs=3600000`,
    );
    if (r.body.points?.reduce((n, p) => n + p.count, 0) >= 10) break;
    if (i > 100)
      throw new Error(
        `the live tail never reached the store: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`,
      );
    await new Promise((res) => setTimeout(res, 100));
  }
  return `${devices.length * 10} readings of ${devices.length} devices, last 10 min, not rolled up`;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Downloads an export, counting lines as they stream, while sampling the hub's RSS. */
async function exportRun(hub: HubProcess, url: string, format: 'csv' | 'parquet') {
  await hub.stats(true);
  const before = rssMiB(hub.pid);
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, rssMiB(hub.pid));
  }, 25);
  const t0 = performance.now();
  const res = await fetch(`${hub.httpUrl}${url}`, { headers: { cookie: hub.cookie } });
  if (res.status !== 200 || !res.body) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  let bytes = 0;
  let lines = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value: b } = await reader.read();
    if (done) break;
    bytes += b.length;
    if (format === 'csv') for (let i = 0; i < b.length; i++) if (b[i] === 10) lines++;
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, rssMiB(hub.pid));
  const loop = (await hub.stats(true)).eventLoopDelayMs;
  return {
    rows: format === 'csv' ? lines - 1 : null,
    bytes,
    seconds,
    rssGrowthMiB: peak - before,
    loopMaxMs: loop.max,
  };
}
