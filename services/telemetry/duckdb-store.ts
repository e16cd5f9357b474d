import { access, constants, copyFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  BIGINT,
  type DuckDBConnection,
  DuckDBInstance,
  type DuckDBType,
  type DuckDBValue,
  LIST,
  listValue,
  VARCHAR,
} from '@duckdb/node-api';
import type { EventRow, RangePoint, ReadingRow } from '../../contract/index.js';
import { metricNames } from '../../contract/index.js';
import { appendReadings } from './duckdb-append.js';
import { bulkInsert, eventColumns } from './duckdb-bulk-insert.js';
import { keyOf, keysInTable } from './duckdb-keys.js';
import { num, numOrNull } from './duckdb-numbers.js';
import { metricColumn, prepareSchema, storedSeqRuns, tableColumns } from './duckdb-schema.js';
import { DuckDbRollups } from './rollup-duckdb.js';
import { rollupMarker } from './rollup-marks.js';
import { prepareRollupSchema } from './rollup-schema.js';
import { SeqIndex } from './seq-index.js';
import { bucketGrid, type LatestValue, type RangeSpec, type TelemetryStore } from './store.js';

// 'last' breaks ties on ts by seq so that two readings in the same millisecond give a stable answer.
const AGG_SQL: Record<RangeSpec['agg'], (col: string) => string> = {
  avg: (c) => `avg(${c})`,
  min: (c) => `min(${c})`,
  max: (c) => `max(${c})`,
  sum: (c) => `sum(${c})`,
  count: () => 'count(*)',
  last: (c) => `arg_max(${c}, {'ts': ts, 'seq': seq})`,
};

type Params = Record<string, DuckDBValue>;
type Types = Record<string, DuckDBType>;

/** Runs tasks one after another; a failed task does not stop the ones queued behind it. */
function serial() {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}

/** First occurrence wins, so a batch that repeats a key binds and inserts it once. */
function uniqueBy<T>(rows: readonly T[], key: (row: T) => string): T[] {
  const seen = new Set<string>();
  return rows.filter((row) => {
    const k = key(row);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Adds `column = $param` for each filter that is set; values stay bound parameters. */
function filter(where: string[], params: Params, types: Types, filters: [string, string | undefined][]) {
  for (const [col, v] of filters) {
    if (v === undefined) continue;
    where.push(`${col} = $${col}`);
    params[col] = v;
    types[col] = VARCHAR;
  }
}

/**
 * `threads`: DuckDB's worker threads. One is the default here: on two shared cores, extra workers
 * spun and cost a commit of 1,600 readings 21 ms of CPU instead of 13 ms (measured).
 */
export type DuckDbStore = TelemetryStore & { readonly rollups: DuckDbRollups };

export async function openDuckDbStore(path: string, opts: { threads?: number } = {}): Promise<DuckDbStore> {
  const instance = await DuckDBInstance.create(path, { threads: String(opts.threads ?? 1) });
  const conns: DuckDBConnection[] = [];
  try {
    conns.push(await instance.connect(), await instance.connect());
    await prepareSchema(conns[0]!);
    await prepareRollupSchema(conns[0]!);
  } catch (err) {
    // Connections hold the database open, so they go first or the file stays locked.
    for (const c of conns) c.closeSync();
    instance.closeSync();
    throw err;
  }
  const [w, r] = conns as [DuckDBConnection, DuckDBConnection];
  // Columns change only in prepareSchema, above.
  const readingsColumns = await tableColumns(w, 'readings');
  const events = bulkInsert<EventRow>('events', 'INSERT OR IGNORE');
  const marker = rollupMarker();
  const rollups = new DuckDbRollups(instance);
  await rollups.open();
  const stored = new SeqIndex();
  for (const [device, lo, hi] of await storedSeqRuns(w)) stored.addRun(device, lo, hi);

  /** Readings not stored yet; the index answers for nearly every device, the table for the rest. */
  const withoutStored = async (rows: ReadingRow[]): Promise<ReadingRow[]> => {
    const unknown = rows.filter((r) => stored.has(r.deviceId, r.seq) === undefined);
    const inTable = await keysInTable(w, 'readings', unknown);
    return rows.filter((r) => {
      const known = stored.has(r.deviceId, r.seq);
      return known === undefined ? !inTable.has(keyOf(r)) : !known;
    });
  };
  /** Events not stored yet: events are few, so the table answers for each batch. */
  const eventsWithoutStored = async (rows: EventRow[]): Promise<EventRow[]> => {
    const inTable = await keysInTable(w, 'events', rows);
    return rows.filter((r) => !inTable.has(keyOf(r)));
  };
  // One statement at a time per connection: a DuckDB connection is not meant for concurrent use.
  const onWriter = serial();
  const onReader = serial();
  let closing: Promise<void> | undefined;

  // Checked when a call is made, not when it runs: calls made before close() still complete.
  const guard = () => {
    if (closing) throw new Error(`telemetry store ${path} is closed`);
  };

  const read = (sql: string, params: Params = {}, types: Types = {}) => {
    guard();
    return onReader(async () => (await r.runAndReadAll(sql, params, types)).getRowObjectsJS());
  };

  return {
    name: 'duckdb',
    rollups,

    async write(batch) {
      guard();
      if (batch.readings.length === 0 && batch.events.length === 0) {
        return { readings: 0, events: 0, fresh: { readings: [], events: [] } };
      }
      const newR = uniqueBy(batch.readings, keyOf);
      const newE = uniqueBy(batch.events, keyOf);
      return onWriter(async () => {
        // Checked here, in write order, so a resend queued behind its first copy sees it stored.
        const fresh = await withoutStored(newR);
        const freshEvents = await eventsWithoutStored(newE);
        await w.run('BEGIN TRANSACTION');
        try {
          const newReadings = await appendReadings(w, readingsColumns, fresh);
          const newEvents = await events.insert(w, eventColumns, freshEvents);
          await marker.mark(w, fresh, freshEvents);
          // COMMIT appends to the WAL and fsyncs it before returning (checked with strace on 1.5.6).
          await w.run('COMMIT');
          for (const r of fresh) stored.add(r.deviceId, r.seq);
          return {
            readings: newReadings,
            events: newEvents,
            fresh: { readings: fresh, events: freshEvents },
          };
        } catch (err) {
          await w.run('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
    },

    async seqRuns() {
      guard();
      return onReader(async () => ({
        readings: await storedSeqRuns(r, 'readings'),
        events: await storedSeqRuns(r, 'events'),
      }));
    },

    async unstored(batch) {
      guard();
      return onReader(async () => {
        const readingKeys = await keysInTable(r, 'readings', batch.readings);
        const eventKeys = await keysInTable(r, 'events', batch.events);
        return {
          readings: batch.readings.filter((x) => !readingKeys.has(keyOf(x))),
          events: batch.events.filter((x) => !eventKeys.has(keyOf(x))),
        };
      });
    },

    async latest(deviceIds) {
      if (deviceIds && deviceIds.length === 0) return [];
      const filter = deviceIds ? 'WHERE list_contains($ids, device_id)' : '';
      // Per metric: the value of the newest reading that has it, and that reading's time.
      const perMetric = metricNames.map((m, i) => {
        const c = metricColumn(m);
        return `epoch_ms(max(ts) FILTER (WHERE ${c} IS NOT NULL)) AS t${i},
          arg_max(${c}, {'ts': ts, 'seq': seq}) FILTER (WHERE ${c} IS NOT NULL) AS v${i}`;
      });
      const rows = await read(
        `SELECT device_id, ${perMetric.join(', ')} FROM readings ${filter} GROUP BY device_id ORDER BY device_id`,
        deviceIds ? { ids: listValue([...deviceIds]) } : {},
        deviceIds ? { ids: LIST(VARCHAR) } : {},
      );
      return rows.flatMap((x) =>
        metricNames.flatMap((metric, i): LatestValue[] =>
          x[`v${i}`] === null || x[`v${i}`] === undefined
            ? []
            : [{ deviceId: x.device_id as string, metric, ts: num(x[`t${i}`]), value: num(x[`v${i}`]) }],
        ),
      );
    },

    async range(spec) {
      const { bucketMs, from, to } = spec;
      if (to <= from) return [];
      const shift = spec.alignMs ?? 0;
      const { first, buckets } = bucketGrid(from, to, bucketMs, shift);
      const col = metricColumn(spec.metric);
      const params: Params = { from, to, bucket: bucketMs, shift };
      const types: Types = { from: BIGINT, to: BIGINT, bucket: BIGINT, shift: BIGINT };
      const where = [`${col} IS NOT NULL`, 'ts >= epoch_ms($from)', 'ts < epoch_ms($to)'];
      filter(where, params, types, [
        ['site_id', spec.siteId],
        ['device_id', spec.deviceId],
      ]);
      const rows = await read(
        `SELECT ((epoch_ms(ts) + $shift) // $bucket) * $bucket - $shift AS t, ${AGG_SQL[spec.agg](col)} AS value, count(*) AS n
         FROM readings WHERE ${where.join(' AND ')} GROUP BY t`,
        params,
        types,
      );
      const byBucket = new Map(rows.map((x) => [num(x.t), x]));
      const points: RangePoint[] = [];
      for (let i = 0; i < buckets; i++) {
        const t = first + i * bucketMs;
        const hit = byBucket.get(t);
        points.push(
          hit ? { t, value: numOrNull(hit.value), count: num(hit.n) } : { t, value: null, count: 0 },
        );
      }
      return points;
    },

    async eventCounts(spec) {
      const { bucketMs, from, to } = spec;
      if (to <= from) return [];
      const shift = spec.alignMs ?? 0;
      const { first, buckets } = bucketGrid(from, to, bucketMs, shift);
      const params: Params = { type: spec.type, from, to, bucket: bucketMs, shift };
      const types: Types = { type: VARCHAR, from: BIGINT, to: BIGINT, bucket: BIGINT, shift: BIGINT };
      const where = ['type = $type', 'ts >= epoch_ms($from)', 'ts < epoch_ms($to)'];
      filter(where, params, types, [
        ['site_id', spec.siteId],
        ['device_id', spec.deviceId],
      ]);
      const rows = await read(
        `SELECT ((epoch_ms(ts) + $shift) // $bucket) * $bucket - $shift AS t, count(*) AS n
         FROM events WHERE ${where.join(' AND ')} GROUP BY t`,
        params,
        types,
      );
      const byBucket = new Map(rows.map((x) => [num(x.t), num(x.n)]));
      return Array.from({ length: buckets }, (_, i) => {
        const t = first + i * bucketMs;
        const n = byBucket.get(t) ?? 0;
        return { t, value: n, count: n };
      });
    },

    async events(query) {
      const limit = Math.max(0, Math.floor(query.limit));
      if (limit === 0 || query.to <= query.from) return [];
      const params: Params = { from: query.from, to: query.to, limit };
      const types: Types = { from: BIGINT, to: BIGINT, limit: BIGINT };
      const where = ['ts >= epoch_ms($from)', 'ts < epoch_ms($to)'];
      filter(where, params, types, [
        ['site_id', query.siteId],
        ['device_id', query.deviceId],
        ['type', query.type],
      ]);
      const rows = await read(
        `SELECT site_id, device_id, kind, seq, epoch_ms(ts) AS ts, type, code, item, ok, message
         FROM events WHERE ${where.join(' AND ')}
         ORDER BY ts DESC, device_id, seq DESC LIMIT $limit`,
        params,
        types,
      );
      return rows.map(
        (x): EventRow => ({
          siteId: x.site_id as string,
          deviceId: x.device_id as string,
          kind: x.kind as EventRow['kind'],
          seq: num(x.seq),
          ts: num(x.ts),
          type: x.type as string,
          code: x.code as string | null,
          item: x.item as string | null,
          ok: x.ok as boolean | null,
          message: x.message as string | null,
        }),
      );
    },

    async check() {
      guard();
      await onWriter(() => w.run('SELECT 1'));
      // A query alone passes even when the file or its directory is gone: DuckDB keeps writing to the
      // open (unlinked) file, and only fails once it must create a new WAL after a checkpoint.
      await stat(path);
      await access(dirname(path), constants.W_OK);
    },

    snapshot(file) {
      guard();
      // On the writer's queue: the journal mover's writes wait (PUBACKs do not: they stand on the
      // journal). After the checkpoint the file holds everything committed and the WAL nothing,
      // and with no writer nothing changes it while it is copied; readers go on meanwhile.
      return onWriter(async () => {
        const t0 = performance.now();
        await w.run('CHECKPOINT');
        await copyFile(path, file);
        return { heldMs: performance.now() - t0 };
      });
    },

    close() {
      // Work already queued finishes first so that no write is cut off between BEGIN and COMMIT.
      const barrier = Promise.all([onWriter(async () => {}), onReader(async () => {})]);
      closing ??= barrier.then(async () => {
        await events.destroy();
        await marker.destroy();
        rollups.close();
        r.closeSync();
        w.closeSync();
        instance.closeSync();
      });
      return closing;
    },
  };
}
