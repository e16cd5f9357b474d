import fs from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../contract/index.js';
import { ApiClient, adminWithSite, connectDevice, eventually, provision, testHub } from './helpers/hub.js';

const TOKEN = 'metrics-token-0123456789abcdef';
const SITE = 'met-1';
const DEVICE = `${SITE}-occ`;

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * Prometheus text format 0.0.4: every line a comment (# HELP/# TYPE) or `name{labels} value`; NaN
 * and Inf in any case, as Prometheus parses them (prom-client writes an empty mean as `Nan`).
 */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|nan|[+-]inf)$/i.exec(line);
    if (!m) throw new Error(`not Prometheus text format: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

describe('/metrics', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  let device: MqttClient;

  const scrape = async (auth = `Bearer ${TOKEN}`) => {
    const res = await fetch(`${hub.httpUrl}/metrics`, { headers: { authorization: auth } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parse(await res.text());
  };

  beforeAll(async () => {
    hub = await testHub({ METRICS_TOKEN: TOKEN });
    admin = await adminWithSite(hub, SITE);
    const { secret } = await provision(admin, SITE, DEVICE, 'occupancy_counter');
    device = await connectDevice(hub.mqttUrl, DEVICE, secret);
  });

  afterAll(async () => {
    await device?.endAsync();
    await hub?.close();
  });

  it('counts readings, messages, refusals and latencies as devices publish over MQTT', async () => {
    const before = await scrape();
    expect(value(before, 'yizhan_connected_devices')).toBe(1);
    const topic = topicFor(SITE, DEVICE, 'telemetry');
    const now = Date.now();
    for (let i = 0; i < 5; i++) {
      const readings = [0, 1].map((j) => ({ seq: 10 * i + j, ts: now - 1000 + i, values: { occupancy: i } }));
      await device.publishAsync(topic, JSON.stringify({ readings }), { qos: 1 });
    }
    await device.publishAsync(topic, 'not json', { qos: 1 });
    const after = await scrape();

    const moved = (name: string, labels?: Record<string, string>) =>
      value(after, name, labels) - value(before, name, labels);
    expect(moved('yizhan_readings_total')).toBe(10);
    expect(moved('yizhan_messages_total')).toBe(6);
    expect(moved('yizhan_refusals_total', { code: 'PAYLOAD_NOT_JSON' })).toBe(1);
    expect(moved('yizhan_puback_latency_seconds_count')).toBe(5);
    expect(moved('yizhan_puback_latency_seconds_bucket', { le: '+Inf' })).toBe(5);
    expect(moved('yizhan_commit_latency_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(moved('yizhan_commit_rows_sum')).toBe(10);
    for (const part of ['state', 'telemetry', 'journal', 'store', 'broker']) {
      expect(value(after, 'yizhan_ready', { part })).toBe(1);
    }
    // The process figures a Node exporter has, event-loop lag among them.
    expect(after.some((s) => s.name === 'nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(after.some((s) => s.name === 'process_cpu_seconds_total')).toBe(true);
  });

  it('says how many buckets wait to be rolled up, and none once they are', async () => {
    // The readings above reach DuckDB with the journal's next move and mark their buckets dirty.
    await eventually(async () =>
      (await scrape()).some((s) => s.name === 'yizhan_rollup_pending_buckets' && s.value > 0)
        ? true
        : undefined,
    );
    await hub.rollups!.flush();
    expect(value(await scrape(), 'yizhan_rollup_pending_buckets')).toBe(0);
  });

  it('counts refused logins; reports dashboards and the journal', async () => {
    const before = await scrape();
    const refused = await connectDevice(hub.mqttUrl, DEVICE, 'wrong-secret').catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    const after = await scrape();
    expect(
      value(after, 'yizhan_refusals_total', { code: 'AUTH_FAILED' }) -
        value(before, 'yizhan_refusals_total', { code: 'AUTH_FAILED' }),
    ).toBe(1);
    expect(value(after, 'yizhan_broker_refusals_total', { reason: 'connect' })).toBeGreaterThanOrEqual(1);
    expect(after.some((s) => s.name === 'yizhan_connected_dashboards')).toBe(true);
    expect(after.some((s) => s.name === 'yizhan_journal_rows')).toBe(true);
  });

  it('refuses a scraper without the token, or with another; an admin session reads it', async () => {
    expect((await fetch(`${hub.httpUrl}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${hub.httpUrl}/metrics`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as { code: string }).code).toBe('UNAUTHENTICATED');

    const res = await admin.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(parse(await res.text()).length).toBeGreaterThan(10);

    await admin.json('POST', '/api/users', {
      username: 'planner-m',
      password: 'password-123',
      role: 'planner',
      siteIds: [],
    });
    const planner = new ApiClient(hub.httpUrl);
    await planner.login('planner-m', 'password-123');
    expect((await planner.request('GET', '/metrics')).status).toBe(403);
  });

  it('serves every metric the shipped Grafana dashboard reads', async () => {
    const dashboard = fs.readFileSync(new URL('../deploy/grafana/yizhan-hub.json', import.meta.url), 'utf8');
    const exprs: string[] = JSON.parse(dashboard).panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr),
    );
    const read = new Set(exprs.flatMap((e) => e.match(/\b(?:yizhan|nodejs|process)_\w+/g) ?? []));
    const res = await fetch(`${hub.httpUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await res.text();
    // A labelled gauge with nothing to count yet (no open alerts) is served as its # TYPE line.
    const typed = [...text.matchAll(/^# TYPE (\w+) /gm)].map((m) => m[1]!);
    const served = new Set([...parse(text).map((s) => s.name), ...typed]);
    // Only a hub with its own certificate has a certificate to report on.
    const missing = [...read].filter((m) => !served.has(m) && !m.startsWith('yizhan_tls_'));
    expect(missing).toEqual([]);
    expect(read.size).toBeGreaterThan(15);
  });
});
