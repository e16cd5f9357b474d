import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { topicFor } from '../devices/contract/index.js';
import { ApiClient, eventually, provision, siteFixture } from './helpers/hub.js';
import { freePorts, startHubProcess } from './helpers/hub-process.js';
import { Publisher, storedSeqs } from './helpers/publisher.js';

const PASSWORD = 'shutdown-test-password';

describe('graceful shutdown', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('on SIGTERM stops taking publishes, stores and acknowledges what it took, closes devices and exits', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-stop-'));
    cleanup.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const [httpPort, mqttPort] = await freePorts(2);
    const hub = startHubProcess({
      HUB_DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      HUB_ADMIN_PASSWORD: PASSWORD,
      DEVICE_RATE_PER_S: '1000',
      DEVICE_RATE_BURST: '1000',
    });
    cleanup.push(async () => hub.child.kill('SIGKILL'));
    const api = new ApiClient(await hub.started);
    await api.login('admin', PASSWORD);
    await api.json('POST', '/api/sites', siteFixture('stop-1'));

    const publishers: Publisher[] = [];
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const d = await provision(api, 'stop-1', `stop-dev-${i}`, 'occupancy_counter');
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
        username: d.device.id,
        password: d.secret,
        clientId: d.device.id,
        reconnectPeriod: 0,
      });
      cleanup.push(() => client.endAsync(true));
      closed.push(new Promise((r) => client.once('close', () => r())));
      publishers.push(new Publisher(client, topicFor('stop-1', d.device.id, 'telemetry')));
    }
    for (const p of publishers) p.pump();
    const total = () => publishers.reduce((n, p) => n + p.acked.size, 0);
    await eventually(() => (total() > 1000 ? true : undefined), 20_000);

    const t0 = performance.now();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
    const stopMs = performance.now() - t0;
    for (const p of publishers) p.stop();
    await Promise.all(closed);
    expect(stopMs).toBeLessThan(10_000);

    const stored = await storedSeqs(path.join(dataDir, 'telemetry.duckdb'));
    let missing = 0;
    for (const [i, p] of publishers.entries()) {
      for (const seq of p.acked) if (stored.get(`stop-dev-${i}/${seq}`) !== 1) missing += 1;
    }
    expect(missing).toBe(0);
    console.log(`shutdown test: stopped in ${Math.round(stopMs)} ms; ${total()} acknowledged, all stored`);
  }, 60_000);
});
