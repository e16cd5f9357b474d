import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, eventually, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll, type HubProcess, loadHubEnv, startHubProcess } from './helpers/hub-process.js';
import { type Influxd, influxdAvailable, startInfluxd, storedSeqs } from './helpers/influxd.js';
import { devicePublisher } from './helpers/publisher.js';

const DEVICES = 30;
const PASSWORD = 'crash-test-password';
const missing = influxdAvailable();
if (missing) console.log(`InfluxDB crash test skipped: ${missing}`);

describe.skipIf(missing !== undefined)('durability under a crash, telemetry on InfluxDB', () => {
  const cleanup = cleanupAfterAll();
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => influxd?.stop());

  it('keeps every acknowledged reading across SIGKILL and restart', async () => {
    const { env, mqttUrl } = await loadHubEnv('yz-crash-influx-', PASSWORD, cleanup);
    const s = influxd.settings;
    const hubEnv = {
      ...env,
      INFLUX_URL: s.url,
      INFLUX_TOKEN: s.token,
      INFLUX_ORG: s.org,
      INFLUX_BUCKET: s.bucket,
    };
    let hub: HubProcess = startHubProcess(hubEnv);
    cleanup.push(async () => hub.child.kill('SIGKILL'));
    const url = await hub.started;

    const api = new ApiClient(url);
    await api.login('admin', PASSWORD);
    await api.json('POST', '/api/sites', siteFixture('crash-0'));
    const devices = [];
    for (let i = 0; i < DEVICES; i++)
      devices.push(await provision(api, 'crash-0', `crash-dev-${i}`, 'occupancy_counter'));
    const publishers = await Promise.all(
      devices.map((d) => devicePublisher(mqttUrl, d, cleanup, { clean: false, reconnectPeriod: 200 })),
    );
    for (const p of publishers) p.pump();
    const total = () => publishers.reduce((n, p) => n + p.acked.size, 0);
    await eventually(() => (total() > 1000 ? true : undefined), 20_000);
    hub.child.kill('SIGKILL');
    await hub.exited;
    const ackedBeforeCrash = total();

    hub = startHubProcess(hubEnv);
    await hub.started;
    await eventually(() => (total() > ackedBeforeCrash + 1000 ? true : undefined), 30_000);
    for (const p of publishers) p.stop();
    await eventually(() => (publishers.every((p) => p.settled) ? true : undefined), 30_000);
    for (const p of publishers) await p.client.endAsync();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);

    const stored = await storedSeqs(influxd);
    let lost = 0;
    for (const [i, p] of publishers.entries()) {
      for (const seq of p.acked) if (stored.get(`crash-dev-${i}/${seq}`) !== 1) lost += 1;
    }
    expect(lost).toBe(0);
    console.log(`influx crash test: ${total()} acknowledged (${ackedBeforeCrash} before SIGKILL), 0 lost`);
  }, 120_000);
});
