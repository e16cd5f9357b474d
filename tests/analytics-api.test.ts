import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { DateTime } from 'luxon';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ApiError,
  HeatmapReply,
  KpisReply,
  LeagueReply,
  ResidentBooking,
  TrendReply,
} from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import { createSession, publicJson } from './helpers/appointments.js';
import { ApiClient, connectDevice, eventually, provision, siteFixture, testHub } from './helpers/hub.js';

const TZ = 'Asia/Shanghai';
const resident = { name: '欧阳娜娜', mobile: '13712345671' };
const today = DateTime.now().setZone(TZ).toISODate()!;
const tomorrow = DateTime.now().setZone(TZ).plus({ days: 1 }).toISODate()!;
const custom = `range=custom&from=${today}&to=${tomorrow}`;

describe('analytics API over HTTP', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  let planner: ApiClient;
  let manager: ApiClient;
  let code = '';
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    // Rolled up only when the test says so: the real-time path answers meanwhile.
    hub = await testHub({ ROLLUP_EVERY_S: 3600, PUBLIC_RATE_LIMIT_MAX: 1000 });
    admin = new ApiClient(hub.httpUrl);
    await admin.login();
    await admin.json('POST', '/api/sites', siteFixture('site-a'));
    await admin.json(
      'POST',
      '/api/sites',
      siteFixture('site-b', {
        type: 'caring',
        name: { zh: '香树湾爱心驿站', en: 'Xiangshuwan Caring Station' },
        community: { zh: '香树湾', en: 'Xiangshuwan' },
      }),
    );
    for (const [username, role, siteIds] of [
      ['planner1', 'planner', []],
      ['manager-a', 'manager', ['site-a']],
    ] as const) {
      await admin.json('POST', '/api/users', { username, password: 'password-123', role, siteIds });
    }
    planner = new ApiClient(hub.httpUrl);
    await planner.login('planner1', 'password-123');
    manager = new ApiClient(hub.httpUrl);
    await manager.login('manager-a', 'password-123');

    const now = Date.now();
    for (const [site, people] of [
      ['site-a', [2, 4, 6]],
      ['site-b', [1, 1, 1]],
    ] as const) {
      const dev = await provision(admin, site, `${site}-occ`, 'occupancy_counter');
      const c = await connectDevice(hub.mqttUrl, dev.device.id, dev.secret);
      clients.push(c);
      await c.publishAsync(
        topicFor(site, dev.device.id, 'telemetry'),
        JSON.stringify({
          readings: people.map((occupancy, i) => ({
            seq: i + 1,
            ts: now - (3 - i) * 60_000,
            values: { occupancy },
          })),
        }),
        { qos: 1 },
      );
    }
    const session = await createSession(manager, 'site-a', { date: tomorrow, start: '10:00', end: '11:00' });
    const b = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
      sessionId: session.id,
      slotStartAt: session.slots[0]!.startAt,
      screening: 'blood_pressure',
      ...resident,
    });
    expect(b.status).toBe(201);
    code = b.body.code;
  });
  afterAll(async () => {
    for (const c of clients) await c.endAsync();
    await hub?.close();
  });

  const kpis = (api: ApiClient, q = custom) => api.json<KpisReply>('GET', `/api/analytics/kpis?${q}`);

  it('answers from the raw tail before any roll, and the same after it', async () => {
    const before = await eventually(async () => {
      const r = await kpis(planner);
      return r.body.sites.find((s) => s.siteId === 'site-a')?.kpis.peakOccupancy === 6 ? r.body : undefined;
    });
    expect(before.sites.map((s) => s.siteId)).toEqual(['site-a', 'site-b']);
    const a = before.sites[0]!.kpis;
    expect(a.booked).toBe(1);
    expect(a.fillRate).toBeGreaterThan(0);
    // A caring station holds no screening sessions: null, not 0.
    expect(before.sites[1]!.kpis.booked).toBeNull();
    expect(before.communities.map((c) => [c.community.zh, c.sites])).toEqual([
      ['芳华里', 1],
      ['香树湾', 1],
    ]);
    expect(before.total.peakOccupancy).toBe(6);
    await hub.rollups!.flush();
    // Uptime and open hours count the elapsed part of today, which moves between two requests.
    const steady = (r: KpisReply) =>
      r.sites.map((s) => {
        const { uptimePct, openHours, usableHours, ...rest } = s.kpis;
        return [s.siteId, rest, uptimePct !== null];
      });
    const after = (await kpis(planner)).body;
    expect(steady(after)).toEqual(steady(before));
    // Counted from when the counters began reporting minutes ago, not from the range's midnight.
    for (const r of [before, after]) expect(r.sites[0]!.kpis.uptimePct).toBeGreaterThanOrEqual(50);
  });

  it('shows a manager only their own sites, and another site as missing', async () => {
    const r = await kpis(manager);
    expect(r.status).toBe(200);
    expect(r.body.sites.map((s) => s.siteId)).toEqual(['site-a']);
    const other = await manager.json<ApiError>('GET', `/api/analytics/kpis?${custom}&sites=site-b`);
    expect([other.status, other.body.code]).toEqual([404, 'SITE_NOT_FOUND']);
    const league = await manager.json<LeagueReply>('GET', `/api/analytics/league?${custom}`);
    expect(league.body.rows.map((x) => x.siteId)).toEqual(['site-a']);
    const exported = await manager.request(
      'GET',
      `/api/analytics/export?table=series&grain=raw&metric=occupancy&${custom}`,
    );
    expect((await exported.text()).includes('site-b')).toBe(false);
  });

  it('ranks sites by any KPI with a daily sparkline, and draws trend, comparison and heatmap', async () => {
    const league = await planner.json<LeagueReply>(
      'GET',
      `/api/analytics/league?${custom}&sort=peakOccupancy&order=asc`,
    );
    expect(league.body.rows.map((r) => [r.rank, r.siteId, r.kpis.peakOccupancy])).toEqual([
      [1, 'site-b', 1],
      [2, 'site-a', 6],
    ]);
    expect(league.body.rows[0]!.spark).toHaveLength(2);
    const trend = await planner.json<TrendReply>(
      'GET',
      `/api/analytics/trend?${custom}&kpi=peakOccupancy&compare=previous`,
    );
    expect(trend.body.points.map((p) => p.label)).toEqual([today, tomorrow]);
    expect(trend.body.points[0]!.value).toBe(6);
    expect(trend.body.compare.points).toHaveLength(2);
    expect(trend.body.compare.range?.to).toBe(DateTime.fromISO(today).minus({ days: 1 }).toISODate());
    const heat = await planner.json<HeatmapReply>('GET', `/api/analytics/heatmap?${custom}`);
    expect(heat.body.cells).toHaveLength(7 * 24);
    const { weekday, hour } = DateTime.now().setZone(TZ).minus({ minutes: 2 });
    expect(heat.body.cells.find((c) => c.weekday === weekday && c.hour === hour)?.value).toBeGreaterThan(0);
  });

  it('never carries a resident name, number or booking code', async () => {
    const urls = [
      `/api/analytics/kpis?${custom}`,
      `/api/analytics/league?${custom}&sort=booked`,
      `/api/analytics/trend?${custom}&kpi=booked`,
      `/api/analytics/heatmap?${custom}`,
      ...['kpis', 'communities', 'league', 'trend', 'heatmap'].map(
        (t) => `/api/analytics/export?table=${t}&${custom}`,
      ),
      `/api/analytics/export?table=series&grain=hour&${custom}`,
    ];
    for (const api of [planner, manager, admin]) {
      for (const url of urls) {
        const res = await api.request('GET', url);
        expect(res.status, url).toBe(200);
        const text = await res.text();
        for (const secret of [resident.name, resident.mobile, resident.mobile.slice(3, 8), code]) {
          expect(text.includes(secret), `${url} carries ${secret}`).toBe(false);
        }
      }
    }
  });

  it('refuses bad parameters with 400, a code and the field paths, and changes nothing', async () => {
    const bad = async (q: string) => (await planner.json<ApiError>('GET', `/api/analytics/${q}`)).body;
    const paths = (e: ApiError) => (e.fields ?? []).map((f) => f.path).sort();
    let e = await bad('kpis?range=custom');
    expect([e.code, paths(e)]).toEqual(['VALIDATION', ['querystring.from', 'querystring.to']]);
    e = await bad(`trend?${custom}&kpi=bogus&grain=fortnight`);
    expect([e.code, paths(e)]).toEqual(['VALIDATION', ['querystring.grain', 'querystring.kpi']]);
    e = await bad('league?sites=NOT%20A%20SITE');
    expect(e.code).toBe('VALIDATION');
    expect(paths(e)[0]).toMatch(/^querystring\.sites/);
    e = await bad(`kpis?range=custom&from=${tomorrow}&to=${today}`);
    expect([e.code, paths(e)]).toEqual(['VALIDATION', ['querystring.to']]);
    e = await bad('export?table=series&grain=raw');
    expect([e.code, paths(e)]).toEqual(['VALIDATION', ['querystring.metric']]);
    e = await bad('kpis?surprise=1');
    expect(e.code).toBe('VALIDATION');
    const anonymous = await new ApiClient(hub.httpUrl).json<ApiError>('GET', '/api/analytics/kpis');
    expect(anonymous.status).toBe(401);
  });

  it('exports CSV with a BOM, a header and the right first row', async () => {
    const res = await planner.request('GET', `/api/analytics/export?table=kpis&${custom}`);
    expect(res.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers.get('content-disposition')).toMatch(/attachment; filename="kpis-.*\.csv"/);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect([...bytes.slice(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const [header, first] = new TextDecoder().decode(bytes.slice(3)).split('\r\n');
    const cols = header!.split(',');
    expect(cols.slice(0, 6)).toEqual([
      'site_id',
      'site_name_zh',
      'site_name_en',
      'community_zh',
      'community_en',
      'occupancyHours',
    ]);
    const row = Object.fromEntries(first!.split(',').map((v, i) => [cols[i], v]));
    expect([row.site_id, row.site_name_zh, row.community_zh, row.peakOccupancy, row.booked]).toEqual([
      'site-a',
      '芳华里北门健康驿站',
      '芳华里',
      '6',
      '1',
    ]);
    const series = await planner.request(
      'GET',
      `/api/analytics/export?table=series&grain=hour&metric=occupancy&${custom}`,
    );
    const lines = (await series.text())
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\n');
    expect(lines[0]).toBe('bucket_local,bucket_ms,site_id,device_id,metric,count,mean,min,max,sum,last');
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:00:00,\d+,site-a,site-a-occ,occupancy,\d,/);
    const keys = lines.slice(1).map((l) => l.split(',').slice(1, 4));
    const sorted = [...keys].sort((x, y) => Number(x[0]) - Number(y[0]) || x[1]!.localeCompare(y[1]!));
    expect(keys.length).toBeGreaterThan(1);
    expect(keys).toEqual(sorted);
  });

  it("buckets the live charts' day query from local midnight, not from 08:00 Shanghai time", async () => {
    const midnight = DateTime.fromISO(today, { zone: TZ }).toMillis();
    const r = await planner.json<{ points: { t: number; count: number }[] }>(
      'GET',
      `/api/telemetry/range?metric=occupancy&agg=count&from=${midnight - 86_400_000}&to=${midnight + 86_400_000}&bucketMs=86400000`,
    );
    expect(r.body.points.map((p) => p.t)).toEqual([midnight - 86_400_000, midnight]);
    expect(r.body.points.reduce((n, p) => n + p.count, 0)).toBe(6);
  });

  it('exports Parquet that DuckDB reads back', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-parquet-'));
    try {
      for (const [url, rows] of [
        [`table=series&grain=raw&metric=occupancy&format=parquet&${custom}`, 6],
        [`table=league&format=parquet&${custom}`, 2],
      ] as const) {
        const res = await planner.request('GET', `/api/analytics/export?${url}`);
        expect(res.headers.get('content-type')).toBe('application/vnd.apache.parquet');
        const file = path.join(dir, 'x.parquet');
        await fs.writeFile(file, new Uint8Array(await res.arrayBuffer()));
        const db = await DuckDBInstance.create(':memory:');
        const conn = await db.connect();
        const got = (await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`)).getRowObjectsJS();
        conn.closeSync();
        db.closeSync();
        expect(got).toHaveLength(rows);
        if (rows === 6) expect(got.map((r) => Number(r.value)).sort()).toEqual([1, 1, 1, 2, 4, 6]);
        else expect(got.map((r) => r.site_id).sort()).toEqual(['site-a', 'site-b']);
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
