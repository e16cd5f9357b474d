import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert, ApiError, Contact, EffectiveRule } from '../contract/index.js';
import { type Hub, startHub } from '../services/hub.js';
import { alertsOf, MIN, receiver, settledAlerts, TestDevice } from './helpers/alerts.js';
import { FakeClock } from './helpers/fake-clock.js';
import { ADMIN_PASSWORD, ApiClient, eventually, siteFixture } from './helpers/hub.js';

const SITE = 'fanghuali-n1';
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** A hub on `dataDir` (kept across restarts) with alerts on `clock`. */
async function hubAt(dataDir: string, clock: FakeClock): Promise<{ hub: Hub; api: ApiClient }> {
  const hub = await startHub(
    {
      HUB_DATA_DIR: dataDir,
      HTTP_PORT: 0,
      HTTP_HOST: '127.0.0.1',
      MQTT_PORT: 0,
      MQTT_HOST: '127.0.0.1',
      HUB_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'silent',
      ALERT_RETRY_BASE_MS: 1000,
    },
    { alerts: { clock, tickMs: 1000 } },
  );
  const api = new ApiClient(hub.httpUrl);
  await api.login();
  return { hub, api };
}

async function tempDir() {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-alerts-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('lifecycle', () => {
  it('acknowledged (who, when, note), then cleared by itself keeping the acknowledgement; resolved by hand needs a note', async () => {
    const clock = new FakeClock();
    const { hub, api } = await hubAt(await tempDir(), clock);
    cleanups.push(() => hub.close());
    await api.json('POST', '/api/sites', siteFixture(SITE));
    const mw = await TestDevice.connect(hub, api, SITE, 'mw-1', 'microwave');
    cleanups.push(() => mw.end(true));
    await mw.event('fault', { code: 'E1' });
    await clock.advance(1000);
    const [a] = await settledAlerts(hub, api, 'device_fault');
    await clock.advance(4 * MIN);
    const acked = await api.json<Alert>('POST', `/api/alerts/${a!.id}/ack`, { note: '师傅在路上' });
    expect(acked.body).toMatchObject({ state: 'acknowledged', ackedBy: 'admin', ackNote: '师傅在路上' });
    expect(acked.body.ackedAt! - acked.body.raisedAt).toBe(4 * MIN + 1000);
    expect((await api.json<ApiError>('POST', `/api/alerts/${a!.id}/ack`, {})).body.code).toBe(
      'ALERT_NOT_OPEN',
    );
    await mw.event('fault_cleared');
    await clock.advance(1000);
    const [cleared] = await settledAlerts(hub, api, 'device_fault');
    expect(cleared).toMatchObject({ state: 'cleared', ackedBy: 'admin', ackNote: '师傅在路上' });

    await mw.event('fault', { code: 'E2' });
    await clock.advance(1000);
    const open = (await settledAlerts(hub, api, 'device_fault')).find((x) => x.state === 'active')!;
    const noNote = await api.json<ApiError>('POST', `/api/alerts/${open.id}/resolve`, {});
    expect(noNote.status).toBe(400);
    expect(noNote.body.fields?.map((f) => f.path)).toEqual(['body.note']);
    const resolved = await api.json<Alert>('POST', `/api/alerts/${open.id}/resolve`, {
      note: '已更换磁控管',
    });
    expect(resolved.body).toMatchObject({
      state: 'resolved',
      resolvedBy: 'admin',
      resolveNote: '已更换磁控管',
    });
    const list = await api.json<{ stats: { ackMedianMs: number; clearMedianMs: number } }>(
      'GET',
      '/api/alerts',
    );
    expect(list.body.stats.ackMedianMs).toBe(4 * MIN + 1000);
  });

  it('a restart keeps the active alert, does not raise it twice and does not send it again', async () => {
    const dir = await tempDir();
    const rx = await receiver();
    cleanups.push(rx.close);
    const clock = new FakeClock();
    let { hub, api } = await hubAt(dir, clock);
    await api.json('POST', '/api/sites', siteFixture(SITE));
    await api.json('POST', '/api/alerts/contacts', { name: 'g', type: 'wecom', url: rx.url('/g') });
    const w = await TestDevice.connect(hub, api, SITE, 'water-1', 'water_dispenser');
    await w.reading({ on: true, water_level_pct: 5 });
    await clock.advance(2 * MIN + 1000);
    await eventually(() => (rx.got.length === 1 ? true : undefined));
    const [before] = await settledAlerts(hub, api, 'water_low');
    await w.end(true);
    await hub.close();

    ({ hub, api } = await hubAt(dir, clock));
    cleanups.push(() => hub.close());
    w.mqttUrl = hub.mqttUrl;
    await w.reconnect();
    cleanups.push(() => w.end(true));
    for (let i = 0; i < 5; i++) {
      await w.reading({ on: true, water_level_pct: 4 });
      await clock.advance(MIN);
    }
    const after = await settledAlerts(hub, api, 'water_low');
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: before!.id, state: 'active' });
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.got).toHaveLength(1);
    // Evaluated afresh: the level is back, so it clears after its clear duration.
    await w.reading({ on: true, water_level_pct: 90 });
    await clock.advance(MIN + 1000);
    expect((await settledAlerts(hub, api, 'water_low'))[0]!.state).toBe('cleared');
  });

  it('the outbox sends after a restart what was pending before it', async () => {
    const dir = await tempDir();
    const rx = await receiver(503);
    cleanups.push(rx.close);
    const clock = new FakeClock();
    let { hub, api } = await hubAt(dir, clock);
    await api.json('POST', '/api/sites', siteFixture(SITE));
    await api.json<Contact>('POST', '/api/alerts/contacts', { name: 'g', type: 'wecom', url: rx.url('/g') });
    const mw = await TestDevice.connect(hub, api, SITE, 'mw-1', 'microwave');
    await mw.event('fault', { code: 'E9' });
    await clock.advance(1000);
    const [a] = await settledAlerts(hub, api, 'device_fault');
    const deliveries = async () =>
      (
        await api.json<{ deliveries: Array<{ state: string; attempts: number }> }>(
          'GET',
          `/api/alerts/${a!.id}`,
        )
      ).body.deliveries;
    await eventually(async () => ((await deliveries())[0]?.attempts === 1 ? true : undefined));
    expect((await deliveries())[0]!.state).toBe('pending');
    await mw.end(true);
    await hub.close();

    rx.state.status = 200;
    ({ hub, api } = await hubAt(dir, clock));
    cleanups.push(() => hub.close());
    await clock.advance(2000); // past the first retry's 1 s
    await eventually(() => (rx.got.length === 1 ? true : undefined));
    expect((rx.got[0]!.json.markdown as { content: string }).content).toContain('E9');
    await eventually(async () => ((await deliveries())[0]?.state === 'sent' ? true : undefined));
    expect((await alertsOf(api))[0]!.delivery).toMatchObject({ sent: 1, pending: 0 });
  });
});

describe('rules and silences', () => {
  it('a clear level on the wrong side, or a negative duration, is refused with field paths and nothing changes', async () => {
    const clock = new FakeClock();
    const { hub, api } = await hubAt(await tempDir(), clock);
    cleanups.push(() => hub.close());
    await api.json('POST', '/api/sites', siteFixture(SITE));
    const rules = async () =>
      (await api.json<{ rules: EffectiveRule[] }>('GET', `/api/alerts/rules?siteId=${SITE}`)).body.rules;
    const before = await rules();
    const water = before.find((r) => r.id === 'water_low')!;
    const wrongSide = await api.json<ApiError>('PUT', '/api/alerts/rules/water_low', {
      siteId: SITE,
      body: { ...water.body, raise: 20, clear: 10 },
    });
    expect(wrongSide.status).toBe(400);
    expect(wrongSide.body.code).toBe('VALIDATION');
    expect(wrongSide.body.fields?.map((f) => f.path)).toEqual(['body.body.clear']);
    const negative = await api.json<ApiError>('PUT', '/api/alerts/rules/water_low', {
      siteId: SITE,
      body: { ...water.body, forMs: -1 },
    });
    expect(negative.body.fields?.map((f) => f.path)).toEqual(['body.body.forMs']);
    const wrongType = await api.json<ApiError>('PUT', '/api/alerts/rules/water_low', {
      siteId: SITE,
      body: { type: 'fault', enabled: true, severity: 'info', muteWhenClosed: false, clearForMs: 0 },
    });
    expect(wrongType.body.fields?.map((f) => f.path)).toEqual(['body.type']);
    expect(await rules()).toEqual(before);

    // Logged out, an invalid body still answers 401, not 400.
    const anon = new ApiClient(hub.httpUrl);
    expect((await anon.json('PUT', '/api/alerts/rules/water_low', { nonsense: true })).status).toBe(401);

    // A valid override per site takes effect at once: 40 % is now low for this hut.
    const ok = await api.json<{ rules: EffectiveRule[] }>('PUT', '/api/alerts/rules/water_low', {
      siteId: SITE,
      body: { ...water.body, raise: 50, clear: 60, forMs: 0 },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.rules.find((r) => r.id === 'water_low')).toMatchObject({
      source: 'site',
      body: { raise: 50 },
    });
    const w = await TestDevice.connect(hub, api, SITE, 'water-1', 'water_dispenser');
    cleanups.push(() => w.end(true));
    await w.reading({ on: true, water_level_pct: 40 });
    await clock.advance(1000);
    expect(await settledAlerts(hub, api, 'water_low')).toHaveLength(1);

    // A threshold of the device's own on any metric it has: power above 1,500 W for a minute.
    const custom = {
      type: 'threshold',
      enabled: true,
      severity: 'info',
      muteWhenClosed: false,
      metric: 'power_w',
      op: 'above',
      raise: 1500,
      clear: 1200,
      forMs: 60_000,
      clearForMs: 0,
      when: 'always',
    };
    const notMeasured = await api.json<ApiError>('PUT', '/api/alerts/rules/custom_humid', {
      siteId: SITE,
      deviceId: 'water-1',
      body: { ...custom, metric: 'humidity_pct' },
    });
    expect(notMeasured.body.fields?.map((f) => f.path)).toEqual(['body.metric']);
    const added = await api.json('PUT', '/api/alerts/rules/custom_power_w_above', {
      siteId: SITE,
      deviceId: 'water-1',
      body: custom,
    });
    expect(added.status).toBe(200);
    await w.reading({ on: true, power_w: 1800, water_level_pct: 90 });
    await clock.advance(61_000);
    expect(await settledAlerts(hub, api, 'custom_power_w_above')).toMatchObject([
      { deviceId: 'water-1', value: 1800, detail: { metric: 'power_w', limit: 1500 } },
    ]);
  });

  it('a maintenance window records alerts without sending them; they are sent if still open when it ends', async () => {
    const clock = new FakeClock();
    const rx = await receiver();
    cleanups.push(rx.close);
    const { hub, api } = await hubAt(await tempDir(), clock);
    cleanups.push(() => hub.close());
    await api.json('POST', '/api/sites', siteFixture(SITE));
    await api.json('POST', '/api/alerts/contacts', { name: 'g', type: 'wecom', url: rx.url('/g') });
    const s = await api.json('POST', '/api/alerts/silences', {
      siteId: SITE,
      startsAt: clock.now(),
      endsAt: clock.now() + 10 * MIN,
      reason: '保洁',
    });
    expect(s.status).toBe(201);
    const mw = await TestDevice.connect(hub, api, SITE, 'mw-1', 'microwave');
    cleanups.push(() => mw.end(true));
    await mw.event('fault', { code: 'E3' });
    await clock.advance(2000);
    expect(await settledAlerts(hub, api, 'device_fault')).toMatchObject([{ state: 'active', muted: true }]);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.got).toHaveLength(0);
    for (let i = 0; i < 11; i++) {
      await mw.event('reboot');
      await clock.advance(MIN);
    }
    await eventually(() => (rx.got.length === 1 ? true : undefined));
    expect(await settledAlerts(hub, api, 'device_fault')).toMatchObject([{ muted: false }]);
  });
});
