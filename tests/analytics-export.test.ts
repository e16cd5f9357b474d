import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportQuery, ReadingRow, Site } from '../contract/index.js';
import { seriesFile } from '../services/analytics/export.js';
import { type DuckDbStore, openDuckDbStore } from '../services/telemetry/duckdb-store.js';

const H = 3_600_000;
const TZ = 'Europe/Berlin';
/** Three weeks across the spring DST change (29 March 2026), so the export spans several slices. */
const START = Date.parse('2026-03-20T00:00:00+01:00');
const END = START + 21 * 24 * H;
const sites = [{ id: 's1' }, { id: 's2' }] as Site[];

let dir: string;
let store: DuckDbStore;
let readings: ReadingRow[];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-export-'));
  store = await openDuckDbStore(path.join(dir, 'telemetry.duckdb'));
  readings = [];
  let seq = 0;
  // One reading every 3 hours per site: rows in every slice, on slice edges too, some hours empty.
  for (let ts = START + 60_000; ts < END; ts += 3 * H)
    for (const s of sites)
      readings.push({
        siteId: s.id,
        deviceId: `${s.id}-occ`,
        kind: 'occupancy_counter',
        seq: seq++,
        ts,
        values: { occupancy: (seq % 7) + 1 },
      });
  await store.write({ readings, events: [] });
  // Half rolled up, half still raw tail: the export answers in real time over both.
  while ((await store.rollups.rollOnce(TZ)) > 0 && (await store.rollups.pending()) > readings.length / 2);
});
afterAll(async () => {
  await store.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function exported(q: Partial<ExportQuery>): Promise<Buffer> {
  const file = await seriesFile(
    store.rollups,
    { table: 'series', metric: 'occupancy', ...q } as ExportQuery,
    {
      sites,
      start: START,
      end: END,
      timeZone: TZ,
    },
  );
  const parts: Buffer[] = [];
  for await (const c of file.stream) parts.push(Buffer.from(c as Buffer));
  return Buffer.concat(parts);
}

const csvLines = (b: Buffer) =>
  b
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trim()
    .split('\n');

describe('series export written in slices', () => {
  it('hourly CSV: one header, every reading once, rows in time order across slices and DST', async () => {
    const lines = csvLines(await exported({ grain: 'hour', format: 'csv' }));
    expect(lines[0]).toBe('bucket_local,bucket_ms,site_id,device_id,metric,count,mean,min,max,sum,last');
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows.every((r) => r[0] !== 'bucket_local')).toBe(true);
    // One reading per hour bucket and site: as many rows as readings, each counted once.
    expect(rows).toHaveLength(readings.length);
    expect(rows.reduce((n, r) => n + Number(r[5]), 0)).toBe(readings.length);
    const keys = rows.map((r) => [Number(r[1]), r[2]!] as const);
    const sorted = [...keys].sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
    expect(keys).toEqual(sorted);
    // Berlin went from +01:00 to +02:00 on 29 March: local labels follow the wall clock.
    const after = rows.find((r) => Number(r[1]) >= Date.parse('2026-03-30T00:00:00+02:00'))!;
    expect(after[0]).toMatch(/^2026-03-30 0\d:00:00$/);
  });

  it('raw CSV in day slices: every reading once, in time order', async () => {
    const rows = csvLines(await exported({ grain: 'raw', format: 'csv' })).slice(1);
    expect(rows).toHaveLength(readings.length);
    const ts = rows.map((r) => Number(r.split(',')[1]));
    expect(ts).toEqual([...ts].sort((a, b) => a - b));
  });

  it('Parquet from the slices holds the same rows in the same order as the CSV', async () => {
    const csv = csvLines(await exported({ grain: 'hour', format: 'csv' })).slice(1);
    const file = path.join(dir, 'x.parquet');
    await fs.writeFile(file, await exported({ grain: 'hour', format: 'parquet' }));
    const conn = await (await import('@duckdb/node-api')).DuckDBInstance.create(':memory:');
    const c = await conn.connect();
    const got = (
      await c.runAndReadAll(`SELECT bucket_ms, site_id, count FROM read_parquet('${file}')`)
    ).getRowObjectsJS();
    c.closeSync();
    conn.closeSync();
    expect(got.map((r) => `${r.bucket_ms},${r.site_id},${r.count}`)).toEqual(
      csv.map((l) => l.split(',')).map((r) => `${r[1]},${r[2]},${r[5]}`),
    );
  });

  it('leaves no slice behind when the reply is cut short, or never read', async () => {
    const tmp = path.join(dir, 'tmp');
    await fs.mkdir(tmp);
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      const q = { table: 'series', metric: 'occupancy', grain: 'raw', format: 'csv' } as ExportQuery;
      const o = { sites, start: START, end: END, timeZone: TZ };
      const cut = await seriesFile(store.rollups, q, o);
      for await (const _ of cut.stream) break;
      const unread = await seriesFile(store.rollups, q, o);
      unread.stream.destroy();
      await new Promise((r) => setTimeout(r, 200));
      expect(await fs.readdir(tmp)).toEqual([]);
    } finally {
      process.env.TMPDIR = saved;
    }
  });
});
