import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { BIGINT, type DuckDBType, type DuckDBValue, LIST, listValue, VARCHAR } from '@duckdb/node-api';
import type { ExportQuery, Site } from '../../contract/index.js';
import { metricColumn } from '../telemetry/duckdb-schema.js';
import { bucketsBetween, FIVE_MIN, wallOffset } from '../telemetry/rollup-calendar.js';
import type { DuckDbRollups, SourceBucket } from '../telemetry/rollup-duckdb.js';

/** UTF-8 byte order mark: Excel then reads Chinese names as UTF-8, not as the local code page. */
export const BOM = '\uFEFF';

export type Cell = string | number | null;

export interface ExportFile {
  stream: Readable;
  contentType: string;
  filename: string;
}

const TYPES = { csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet' } as const;

function csvCell(v: Cell): string {
  if (v === null) return '';
  if (typeof v === 'number') return String(v);
  return /[",\r\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/** A temporary file read out once, then removed. */
function streamOnce(file: string, prefix?: string): Readable {
  const out = new PassThrough();
  if (prefix) out.write(prefix);
  const src = createReadStream(file);
  const done = () => void unlink(file).catch(() => undefined);
  src.on('close', done);
  src.on('error', (err) => out.destroy(err));
  out.on('close', () => src.destroy());
  src.pipe(out);
  return out;
}

const tmpFile = (ext: string) => path.join(tmpdir(), `yizhan-export-${randomUUID()}.${ext}`);

/**
 * A small table built in memory (KPIs, league, trend, heatmap) as CSV with a BOM, or as Parquet
 * through DuckDB (the CSV read back with its header, types detected).
 */
export async function tableFile(
  rollups: DuckDbRollups,
  format: ExportQuery['format'],
  name: string,
  header: string[],
  rows: Cell[][],
): Promise<ExportFile> {
  const csv = [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n');
  if (format === 'csv') {
    const stream = new PassThrough();
    stream.end(`${BOM}${csv}\r\n`);
    return { stream, contentType: TYPES.csv, filename: `${name}.csv` };
  }
  const src = tmpFile('csv');
  const dst = tmpFile('parquet');
  await writeFile(src, `${csv}\r\n`);
  try {
    await rollups.runAlone(
      `COPY (FROM read_csv($src, header = true, delim = ',', quote = '"')) TO '${dst}' (FORMAT parquet)`,
      { src },
      { src: VARCHAR },
    );
  } finally {
    await unlink(src).catch(() => undefined);
  }
  return { stream: streamOnce(dst), contentType: TYPES.parquet, filename: `${name}.parquet` };
}

/**
 * A device metric's raw readings, or its rollups per bucket and device, over [start, end) for the
 * given sites. DuckDB writes the file (COPY: bounded memory, its own thread) and the reply streams
 * it from disk, so a year of hourly rows for a hundred sites never sits in the hub's heap.
 */
export async function seriesFile(
  rollups: DuckDbRollups,
  q: ExportQuery,
  o: { sites: Site[]; start: number; end: number; timeZone: string },
): Promise<ExportFile> {
  const ext = q.format;
  const file = tmpFile(ext);
  const sites = o.sites.map((s) => s.id);
  const local = (ms: string) =>
    `strftime(timezone($tz, make_timestamptz(${ms} * 1000)), '%Y-%m-%d %H:%M:%S')`;
  let sql: string;
  let params: Record<string, DuckDBValue>;
  let types: Record<string, DuckDBType>;
  if (q.grain === 'raw') {
    const metric = metricColumn(q.metric ?? 'occupancy');
    sql = `SELECT ${local('epoch_ms(ts)')} AS time_local, epoch_ms(ts) AS t_ms, site_id, device_id, seq,
        ${metric} AS value
      FROM readings WHERE ${metric} IS NOT NULL AND ts >= make_timestamp($start * 1000)
        AND ts < make_timestamp($end * 1000) AND list_contains($sites, site_id)
      ORDER BY t_ms, device_id, seq`;
    params = { tz: o.timeZone, start: o.start, end: o.end, sites: listValue(sites) };
    types = { tz: VARCHAR, start: BIGINT, end: BIGINT, sites: LIST(VARCHAR) };
  } else if (q.grain === '5m' || q.grain === 'hour' || q.grain === 'day') {
    const buckets =
      q.grain === '5m'
        ? fiveMinuteBuckets(o.start, o.end)
        : bucketsBetween(o.start, o.end, q.grain, o.timeZone, false);
    const stored = await rollups.storedSeriesSql({
      grain: q.grain,
      buckets: buckets.map((b) => ({ t: b.t, tEnd: b.tEnd, k: b.t })),
      offsets: buckets.map((b) => wallOffset(b.t, o.timeZone)),
      sites,
      metrics: q.metric ? [q.metric] : undefined,
    });
    ({ sql, params, types } = stored);
  } else {
    const agg = await rollups.aggregateSql({
      grain: 'day',
      buckets: weekOrMonthBuckets(q.grain, o.start, o.end, o.timeZone),
      sites,
      metrics: q.metric ? [q.metric] : undefined,
      by: 'device',
    });
    sql = `SELECT ${local('k')} AS bucket_local, k AS bucket_ms, site_id, device_id, metric, n AS count,
        sum / nullif(n, 0) AS mean, min, max, sum, last
      FROM (${agg.sql})`;
    params = { ...agg.params, tz: o.timeZone };
    types = { ...agg.types, tz: VARCHAR };
  }
  // Rows in time order whatever plan DuckDB picks: a planner reads a file top to bottom.
  if (q.grain !== 'raw') sql = `SELECT * FROM (${sql}) ORDER BY bucket_ms, site_id, device_id, metric`;
  const options = ext === 'csv' ? "(FORMAT csv, HEADER true, DELIMITER ',')" : '(FORMAT parquet)';
  await rollups.runAlone(`COPY (${sql}) TO '${file}' ${options}`, params, types);
  return {
    stream: streamOnce(file, ext === 'csv' ? BOM : undefined),
    contentType: TYPES[ext],
    filename: `series-${q.metric ?? 'all'}-${q.grain}.${ext}`,
  };
}

function fiveMinuteBuckets(start: number, end: number): { t: number; tEnd: number }[] {
  const out: { t: number; tEnd: number }[] = [];
  for (let t = start; t < end; t += FIVE_MIN) out.push({ t, tEnd: t + FIVE_MIN });
  return out;
}

/** Day rollups keyed by the start of the week or month they belong to. */
function weekOrMonthBuckets(grain: 'week' | 'month', start: number, end: number, tz: string): SourceBucket[] {
  return bucketsBetween(start, end, grain, tz, false).flatMap((b) =>
    bucketsBetween(Math.max(b.t, start), Math.min(b.tEnd, end), 'day', tz, false).map((d) => ({
      t: d.t,
      tEnd: d.tEnd,
      k: b.t,
    })),
  );
}
