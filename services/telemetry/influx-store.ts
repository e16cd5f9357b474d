import { InfluxDB, Point } from '@influxdata/influxdb-client';
import type { EventRow, RangePoint, TelemetryBatch } from '../../contract/index.js';
import {
  bucketGrid,
  type EventCountSpec,
  type EventQuery,
  type LatestValue,
  type RangeSpec,
  type SeqRun,
  type TelemetryStore,
  type WriteResult,
} from './store.js';

export interface InfluxSettings {
  url: string;
  token: string;
  org: string;
  /** A 2.x bucket; `db/rp` reaches a 1.x database and retention policy (InfluxQL's DBRP). */
  bucket: string;
}

/**
 * Telemetry on InfluxDB 2 (issue 13), through @influxdata/influxdb-client: writes through its
 * WriteApi, reads in InfluxQL over /query (served by 1.x, by 2.x through the DBRP mapping made for
 * every bucket from 2.7, and by 3.x, where Flux is not), health from /ping.
 *
 * Schema: `readings,site,device,kind,metric value=<float>` and `events,site,device,kind,type
 * seq=<int>,code,item,ok,message`, at the device's timestamp in ms. A resent reading or event has
 * the same series key and timestamp, so InfluxDB overwrites the point with itself: duplicates are
 * harmless without a lookup. What InfluxDB cannot say is whether a point was new, so this store
 * lacks the `countsNew` capability; the hub decides what is news (news-filter.ts). Two readings of
 * one device in the same millisecond must stay two points, so the timestamp's nanoseconds within
 * the millisecond carry seq mod 10^6 (`nanos`): queries in ms see the device's time unchanged.
 */
export class InfluxStore implements TelemetryStore {
  readonly name = 'influxdb';
  readonly capabilities = { countsNew: false } as const;
  private readonly influx: InfluxDB;
  private readonly db: string;
  private closed = false;

  constructor(private readonly s: InfluxSettings) {
    this.influx = new InfluxDB({ url: s.url, token: s.token, timeout: 30_000 });
    this.db = s.bucket.split('/')[0]!;
  }

  /**
   * Resolves once InfluxDB answered 204 to the whole batch, never earlier: a WriteApi of its own
   * per call, no retries and no flush timer, so the client's in-memory retry buffer never holds
   * what a PUBACK stands on. A failure rejects, and ingest withholds the acknowledgements.
   */
  async write(batch: TelemetryBatch): Promise<WriteResult> {
    const fresh = dedupeBatch(batch);
    const points: Point[] = [];
    for (const r of fresh.readings) {
      for (const [metric, value] of Object.entries(r.values)) {
        points.push(
          new Point('readings')
            .tag('site', r.siteId)
            .tag('device', r.deviceId)
            .tag('kind', r.kind)
            .tag('metric', metric)
            .floatField('value', value)
            .timestamp(nanos(r.ts, r.seq)),
        );
      }
    }
    for (const e of fresh.events) {
      const p = new Point('events')
        .tag('site', e.siteId)
        .tag('device', e.deviceId)
        .tag('kind', e.kind)
        .tag('type', e.type)
        .intField('seq', e.seq)
        .timestamp(nanos(e.ts, e.seq));
      if (e.code !== null) p.stringField('code', e.code);
      if (e.item !== null) p.stringField('item', e.item);
      if (e.ok !== null) p.booleanField('ok', e.ok);
      if (e.message !== null) p.stringField('message', e.message);
      points.push(p);
    }
    if (points.length > 0) {
      const w = this.influx.getWriteApi(this.s.org, this.s.bucket, 'ns', {
        batchSize: points.length + 1,
        flushInterval: 0,
        maxRetries: 0,
        maxBufferLines: points.length + 1,
        // Handled here: the failure rejects close() below (the hub logs it once, through ingest),
        // instead of the client printing it to the console and queueing the lines for a retry.
        writeFailed: (err) => Promise.reject(err),
      });
      w.writePoints(points);
      await w.close();
    }
    return { readings: fresh.readings.length, events: fresh.events.length, fresh };
  }

  /**
   * None: InfluxDB keeps no (device, seq) index to load cheaply, so after a restart ingest treats
   * a resend of earlier data as new. Storing it again is harmless (same series key and time).
   */
  async seqRuns(): Promise<{ readings: SeqRun[]; events: SeqRun[] }> {
    return { readings: [], events: [] };
  }

  /** All of it, for the same reason: a resend written again overwrites itself. */
  async unstored(batch: TelemetryBatch): Promise<TelemetryBatch> {
    return batch;
  }

  async latest(deviceIds?: readonly string[]): Promise<LatestValue[]> {
    if (deviceIds && deviceIds.length === 0) return [];
    const where = deviceIds ? ` where ${anyOf('device', deviceIds)}` : '';
    const [res] = await this.query(`select last(value) from readings${where} group by device, metric`);
    return (res?.series ?? []).map((s) => ({
      deviceId: s.tags!.device!,
      metric: s.tags!.metric!,
      ts: Number(s.values[0]![0]),
      value: Number(s.values[0]![1]),
    }));
  }

  async range(spec: RangeSpec): Promise<RangePoint[]> {
    const { first, buckets } = bucketGrid(spec.from, spec.to, spec.bucketMs, spec.alignMs);
    if (spec.to <= spec.from) return [];
    const fn = spec.agg === 'avg' ? 'mean' : spec.agg;
    const cond = [`metric = ${lit(spec.metric)}`, ...filters(spec), timeCond(spec.from, spec.to)];
    const [res] = await this.query(
      `select ${fn}(value), count(value) from readings where ${cond.join(' and ')} group by ${timeGroup(spec)} fill(none)`,
    );
    const found = new Map<number, [number, number]>();
    for (const row of res?.series?.[0]?.values ?? [])
      found.set(Number(row[0]), [Number(row[1]), Number(row[2])]);
    return Array.from({ length: buckets }, (_, i) => {
      const t = first + i * spec.bucketMs;
      const hit = found.get(t);
      return hit ? { t, value: hit[0], count: hit[1] } : { t, value: null, count: 0 };
    });
  }

  async eventCounts(spec: EventCountSpec): Promise<RangePoint[]> {
    const { first, buckets } = bucketGrid(spec.from, spec.to, spec.bucketMs, spec.alignMs);
    if (spec.to <= spec.from) return [];
    const cond = [`type = ${lit(spec.type)}`, ...filters(spec), timeCond(spec.from, spec.to)];
    const [res] = await this.query(
      `select count(seq) from events where ${cond.join(' and ')} group by ${timeGroup(spec)} fill(none)`,
    );
    const found = new Map<number, number>();
    for (const row of res?.series?.[0]?.values ?? []) found.set(Number(row[0]), Number(row[1]));
    return Array.from({ length: buckets }, (_, i) => {
      const t = first + i * spec.bucketMs;
      const n = found.get(t) ?? 0;
      return { t, value: n, count: n };
    });
  }

  async events(q: EventQuery): Promise<EventRow[]> {
    const cond = [...filters(q), timeCond(q.from, q.to)];
    if (q.type !== undefined) cond.push(`type = ${lit(q.type)}`);
    const [res] = await this.query(
      `select seq, code, item, ok, message, site, device, kind, type from events where ${cond.join(' and ')} order by time desc limit ${Math.max(0, Math.floor(q.limit))}`,
    );
    const s = res?.series?.[0];
    if (!s) return [];
    const col = (name: string) => s.columns.indexOf(name);
    const [ti, seq, code, item, ok, message, site, device, kind, type] = [
      'time',
      'seq',
      'code',
      'item',
      'ok',
      'message',
      'site',
      'device',
      'kind',
      'type',
    ].map(col) as number[];
    return s.values.map((v) => ({
      siteId: String(v[site!]),
      deviceId: String(v[device!]),
      kind: v[kind!] as EventRow['kind'],
      seq: Number(v[seq!]),
      ts: Number(v[ti!]),
      type: String(v[type!]),
      code: (v[code!] as string | null) ?? null,
      item: (v[item!] as string | null) ?? null,
      ok: (v[ok!] as boolean | null) ?? null,
      message: (v[message!] as string | null) ?? null,
    }));
  }

  /** InfluxDB's /ping: 204 from 1.x and 2.x alike. */
  async check(): Promise<void> {
    if (this.closed) throw new Error('influx store closed');
    await this.influx.transport.request('/ping', '', { method: 'GET' });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** InfluxQL over /query, through the client's transport (its token, its timeouts). */
  private async query(q: string): Promise<InfluxResult[]> {
    const params = new URLSearchParams({ db: this.db, epoch: 'ms' });
    const rp = this.s.bucket.split('/')[1];
    if (rp) params.set('rp', rp);
    const body = (await this.influx.transport.request(
      `/query?${params}`,
      new URLSearchParams({ q }).toString(),
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
    )) as { results?: InfluxResult[]; error?: string };
    if (body.error) throw new Error(`influxql: ${body.error}`);
    const failed = body.results?.find((r) => r.error);
    if (failed) throw new Error(`influxql: ${failed.error}`);
    return body.results ?? [];
  }
}

interface InfluxResult {
  error?: string;
  series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[];
}

/** Within one batch, the first copy of a (device, seq) reading or event; across batches, InfluxDB's series key. */
function dedupeBatch(batch: TelemetryBatch): TelemetryBatch {
  const seen = new Set<string>();
  const first = <T extends { deviceId: string; seq: number }>(rows: readonly T[]) =>
    rows.filter((r) => {
      const k = `${r.deviceId}\u0000${r.seq}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  const readings = first(batch.readings);
  seen.clear();
  return { readings, events: first(batch.events) };
}

/**
 * The point's time: the device's ms, plus seq mod 10^6 in the sub-millisecond nanoseconds. A resend
 * lands on the same instant (and overwrites itself); another reading of the same millisecond does
 * not, unless its seq differs by a multiple of a million.
 */
export function nanos(ts: number, seq: number): string {
  return (BigInt(ts) * 1_000_000n + BigInt(seq % 1_000_000)).toString();
}

function lit(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function anyOf(tag: string, values: readonly string[]): string {
  return `(${values.map((v) => `${tag} = ${lit(v)}`).join(' or ')})`;
}

function filters(f: { siteId?: string; deviceId?: string }): string[] {
  const out: string[] = [];
  if (f.siteId !== undefined) out.push(`site = ${lit(f.siteId)}`);
  if (f.deviceId !== undefined) out.push(`device = ${lit(f.deviceId)}`);
  return out;
}

/** InfluxQL's buckets start at multiples of the interval plus the offset: local ones, as bucketGrid(). */
function timeGroup(spec: { bucketMs: number; alignMs?: number }): string {
  const offset = ((-(spec.alignMs ?? 0) % spec.bucketMs) + spec.bucketMs) % spec.bucketMs;
  return `time(${spec.bucketMs}ms, ${offset}ms)`;
}

function timeCond(from: number, to: number): string {
  return `time >= ${Math.floor(from)}ms and time < ${Math.floor(to)}ms`;
}

export async function openInfluxStore(s: InfluxSettings): Promise<InfluxStore> {
  const store = new InfluxStore(s);
  await store.check();
  return store;
}
