import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
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
 * given sites. DuckDB writes the file (COPY: its own thread) and the reply streams it from disk, so
 * a year of hourly rows for a hundred sites never sits in the hub's heap. A CSV is written a slice
 * of time at a time (a day of raw or 5-minute rows, a week of hourly or daily ones), each slice
 * sorted on its own and streamed while the next is written: one COPY of the whole year sorted all
 * 874,400 rows at once and grew the RSS by 320–370 MiB, month slices by ~100 MiB, week slices by
 * ~65 MiB (measured; a lower memory_limit or allocator_flush_threshold did not help). A Parquet
 * file is written from its slices' parts (Parquet cannot be concatenated as CSV can).
 */
export async function seriesFile(
  rollups: DuckDbRollups,
  q: ExportQuery,
  o: { sites: Site[]; start: number; end: number; timeZone: string },
): Promise<ExportFile> {
  const ext = q.format;
  const spans = slices(q.grain, o.start, o.end, o.timeZone);
  const write = async ([start, end]: readonly [number, number], header: boolean): Promise<string> => {
    const { sql, params, types } = await seriesSql(rollups, q, { ...o, start, end });
    const file = tmpFile(ext);
    const options = ext === 'csv' ? `(FORMAT csv, HEADER ${header}, DELIMITER ',')` : '(FORMAT parquet)';
    // A COPY that fails (a full disk) may leave part of its file: it goes with the error.
    await rollups.runAlone(`COPY (${sql}) TO '${file}' ${options}`, params, types).catch(async (err) => {
      await unlink(file).catch(() => undefined);
      throw err;
    });
    return file;
  };
  const filename = `series-${q.metric ?? 'all'}-${q.grain}.${ext}`;
  if (ext === 'parquet')
    return {
      stream: streamOnce(await parquetOf(rollups, spans, write)),
      contentType: TYPES.parquet,
      filename,
    };
  // The first slice before the reply starts, so a failing query is an error status, not a cut file.
  const first = await write(spans[0]!, true);
  let started = false;
  async function* chunks(): AsyncGenerator<Buffer | string> {
    started = true;
    let file: string | null = first;
    let next: Promise<string> | null = null;
    try {
      yield BOM;
      for (let i = 1; file !== null; i++) {
        // The next slice is written while this one streams out.
        next = i < spans.length ? write(spans[i]!, false) : null;
        next?.catch(() => undefined);
        try {
          for await (const chunk of createReadStream(file)) yield chunk as Buffer;
        } finally {
          await unlink(file).catch(() => undefined);
        }
        file = null;
        const pending = next;
        next = null;
        file = pending ? await pending : null;
      }
    } finally {
      // A reply cut short: the slice being written goes too, once written.
      if (next) await next.then((f) => unlink(f)).catch(() => undefined);
      if (file !== null) await unlink(file).catch(() => undefined);
    }
  }
  const stream = Readable.from(chunks(), { objectMode: false });
  // Destroyed before its first read, the generator never runs its cleanup.
  stream.on('close', () => {
    if (!started) void unlink(first).catch(() => undefined);
  });
  return { stream, contentType: TYPES.csv, filename };
}

/**
 * One Parquet file from slices written one by one: DuckDB reads the parts in order (insertion
 * order is kept) and writes them out a row group at a time.
 */
async function parquetOf(
  rollups: DuckDbRollups,
  spans: readonly (readonly [number, number])[],
  write: (span: readonly [number, number], header: boolean) => Promise<string>,
): Promise<string> {
  const parts: string[] = [];
  try {
    for (const span of spans) parts.push(await write(span, false));
    if (parts.length === 1) return parts.pop()!;
    const out = tmpFile('parquet');
    const list = parts.map((p) => `'${p}'`).join(', ');
    await rollups
      .runAlone(`COPY (FROM read_parquet([${list}])) TO '${out}' (FORMAT parquet)`)
      .catch(async (err) => {
        await unlink(out).catch(() => undefined);
        throw err;
      });
    return out;
  } finally {
    await Promise.all(parts.map((p) => unlink(p).catch(() => undefined)));
  }
}

/** Slices of [start, end) a CSV export is written in, each whole buckets of the export's grain. */
function slices(grain: ExportQuery['grain'], start: number, end: number, tz: string): [number, number][] {
  // Weeks and months are few rows and do not fit in month slices: one slice.
  if (grain === 'week' || grain === 'month') return [[start, end]];
  const by = grain === 'raw' || grain === '5m' ? 'day' : 'week';
  const out = bucketsBetween(start, end, by, tz, false).map((b): [number, number] => [
    Math.max(b.t, start),
    Math.min(b.tEnd, end),
  ]);
  return out.length ? out : [[start, end]];
}

/** The SELECT of a series export over [start, end), rows in time order. */
async function seriesSql(
  rollups: DuckDbRollups,
  q: ExportQuery,
  o: { sites: Site[]; start: number; end: number; timeZone: string },
): Promise<{ sql: string; params: Record<string, DuckDBValue>; types: Record<string, DuckDBType> }> {
  const sites = o.sites.map((s) => s.id);
  const local = (ms: string) =>
    `strftime(timezone($tz, make_timestamptz(${ms} * 1000)), '%Y-%m-%d %H:%M:%S')`;
  if (q.grain === 'raw') {
    const metric = metricColumn(q.metric ?? 'occupancy');
    return {
      sql: `SELECT ${local('epoch_ms(ts)')} AS time_local, epoch_ms(ts) AS t_ms, site_id, device_id, seq,
        ${metric} AS value
      FROM readings WHERE ${metric} IS NOT NULL AND ts >= make_timestamp($start * 1000)
        AND ts < make_timestamp($end * 1000) AND list_contains($sites, site_id)
      ORDER BY t_ms, device_id, seq`,
      params: { tz: o.timeZone, start: o.start, end: o.end, sites: listValue(sites) },
      types: { tz: VARCHAR, start: BIGINT, end: BIGINT, sites: LIST(VARCHAR) },
    };
  }
  // Rows in time order whatever plan DuckDB picks: a planner reads a file top to bottom.
  const ordered = (sql: string) => `SELECT * FROM (${sql}) ORDER BY bucket_ms, site_id, device_id, metric`;
  if (q.grain === '5m' || q.grain === 'hour' || q.grain === 'day') {
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
    return { ...stored, sql: ordered(stored.sql) };
  }
  const agg = await rollups.aggregateSql({
    grain: 'day',
    buckets: weekOrMonthBuckets(q.grain, o.start, o.end, o.timeZone),
    sites,
    metrics: q.metric ? [q.metric] : undefined,
    by: 'device',
  });
  return {
    sql: ordered(`SELECT ${local('k')} AS bucket_local, k AS bucket_ms, site_id, device_id, metric, n AS count,
        sum / nullif(n, 0) AS mean, min, max, sum, last
      FROM (${agg.sql})`),
    params: { ...agg.params, tz: o.timeZone },
    types: { ...agg.types, tz: VARCHAR },
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
