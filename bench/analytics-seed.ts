import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import { historyDevice, publisherDevice, siteId } from './hub-data.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Asia/Shanghai has no DST: its local days are fixed 24-hour spans 8 hours off UTC. */
const SHANGHAI = 8 * HOUR;

/**
 * The bench's history, written by DuckDB itself (generate_series) into the hub's telemetry file:
 * a year of hourly and daily rollups for every site (occupancy, water level, power and both
 * devices' uptime, as rolling real readings would leave them) and `rawDays` of 1-minute raw
 * occupancy readings for the raw-scan reference. Seconds instead of the hours a year through
 * ingest would take; the rollup code itself is exercised by the tests.
 */
export async function seedAnalytics(
  dataDir: string,
  sites: number,
  endMs: number,
  rawDays: number,
): Promise<{ hourRows: number; dayRows: number; rawRows: number }> {
  const file = path.join(dataDir, 'telemetry.duckdb');
  // The hub's schema first, as the hub makes it.
  await (await openDuckDbStore(file)).close();
  const db = await DuckDBInstance.create(file);
  const c = await db.connect();
  const end = Math.floor(endMs / HOUR) * HOUR;
  const start = end - 365 * DAY;
  const siteList = Array.from({ length: sites }, (_, i) => i + 1);
  const ids = (f: (i: number) => string) => `[${siteList.map((i) => `'${f(i)}'`).join(',')}]`;
  try {
    await c.run(`
      CREATE TEMP TABLE s AS SELECT unnest(${ids(siteId)}) AS site_id, unnest(${ids(historyDevice)}) AS occ,
        unnest(${ids(publisherDevice)}) AS wd, unnest(range(1, ${sites + 1})) AS i;
      CREATE TEMP TABLE h AS SELECT unnest(range(${start}::BIGINT, ${end}::BIGINT, ${HOUR}::BIGINT)) AS t;
      INSERT INTO rollup_hour SELECT * FROM (
      SELECT h.t, h.t + ${HOUR}, s.site_id, s.occ, 'occupancy', 60, 60 * o, 0, o + 3, o, h.t, o, h.t + ${HOUR - 60_000}, o, o, 12
      FROM s, h, LATERAL (SELECT greatest(0, round(4 + 4 * sin(((h.t // ${HOUR} + s.i) % 24) / 24 * 2 * pi()))) AS o)
      UNION ALL
      SELECT h.t, h.t + ${HOUR}, s.site_id, s.wd, 'water_level_pct', 60, 60 * 50, 40, 60, 60, h.t, 40, h.t + ${HOUR - 60_000}, 20, 50, 12 FROM s, h
      UNION ALL
      SELECT h.t, h.t + ${HOUR}, s.site_id, s.wd, 'power_w', 60, 60 * 30, 0, 800, 0, h.t, 0, h.t + ${HOUR - 60_000}, 0, 30, 12 FROM s, h
      UNION ALL
      SELECT h.t, h.t + ${HOUR}, s.site_id, d.dev, '_up', 60, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 12
      FROM s, h, LATERAL (SELECT unnest([s.occ, s.wd]) AS dev) d)
      -- As rolling leaves them: in time order, so a range reads only its own row groups.
      ORDER BY 1;
      INSERT INTO rollup_day
      SELECT day, day + ${DAY}, any_value(site_id), device_id, metric, sum(n), sum(sum), min(min), max(max),
        arg_min(first, first_ts), min(first_ts), arg_max(last, last_ts), max(last_ts), sum(fall), sum(area), sum(up5)
      FROM (SELECT *, ((t + ${SHANGHAI}) // ${DAY}) * ${DAY} - ${SHANGHAI} AS day FROM rollup_hour)
      GROUP BY day, device_id, metric ORDER BY day;
      INSERT INTO readings (device_id, seq, site_id, kind, ts, occupancy)
      SELECT s.occ, m, s.site_id, 'occupancy_counter', make_timestamp((${end} - ${rawDays * DAY} + m * 60000) * 1000),
        greatest(0, round(4 + 4 * sin(((m // 60 + s.i) % 24) / 24 * 2 * pi())))
      FROM s, range(${(rawDays * DAY) / 60_000}) r(m);
      CHECKPOINT;`);
    const count = async (t: string) =>
      Number((await c.runAndReadAll(`SELECT count(*) AS n FROM ${t}`)).getRowObjectsJS()[0]!.n);
    return {
      hourRows: await count('rollup_hour'),
      dayRows: await count('rollup_day'),
      rawRows: await count('readings'),
    };
  } finally {
    c.closeSync();
    db.closeSync();
  }
}
