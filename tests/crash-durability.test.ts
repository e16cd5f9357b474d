import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { topicFor } from '../devices/contract/index.js';
import { ApiClient, eventually, provision, siteFixture } from './helpers/hub.js';
import { freePorts, type HubProcess, startHubProcess } from './helpers/hub-process.js';
import { Publisher, storedSeqs } from './helpers/publisher.js';

const DEVICES = 60;
const SITES = 6;
const PASSWORD = 'crash-test-password';

describe('durability under a crash', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });

  it('keeps every acknowledged reading exactly once across SIGKILL and restart', async () => {
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-crash-'));
    cleanup.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const [httpPort, mqttPort] = await freePorts(2);
    const env = {
      HUB_DATA_DIR: dataDir,
      HTTP_PORT: String(httpPort),
      MQTT_PORT: String(mqttPort),
      HUB_ADMIN_PASSWORD: PASSWORD,
      DEVICE_RATE_PER_S: '1000',
      DEVICE_RATE_BURST: '1000',
    };
    let hub: HubProcess = startHubProcess(env);
    cleanup.push(async () => hub.child.kill('SIGKILL'));
    const url = await hub.started;

    const api = new ApiClient(url);
    await api.login('admin', PASSWORD);
    const devices = [];
    for (let s = 0; s < SITES; s++) await api.json('POST', '/api/sites', siteFixture(`crash-${s}`));
    for (let i = 0; i < DEVICES; i++)
      devices.push(await provision(api, `crash-${i % SITES}`, `crash-dev-${i}`, 'occupancy_counter'));

    const publishers = await Promise.all(
      devices.map(async (d) => {
        const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, {
          username: d.device.id,
          password: d.secret,
          clientId: d.device.id,
          clean: false,
          reconnectPeriod: 200,
        });
        cleanup.push(() => client.endAsync(true));
        return new Publisher(client, topicFor(d.device.siteId, d.device.id, 'telemetry'));
      }),
    );
    for (const p of publishers) p.pump();

    const total = () => publishers.reduce((n, p) => n + p.acked.size, 0);
    await eventually(() => (total() > 2000 ? true : undefined), 20_000);
    hub.child.kill('SIGKILL');
    await hub.exited;
    const ackedBeforeCrash = total();

    hub = startHubProcess(env);
    await hub.started;
    await eventually(() => (total() > ackedBeforeCrash + 2000 ? true : undefined), 30_000);
    for (const p of publishers) p.stop();
    await eventually(() => (publishers.every((p) => p.settled) ? true : undefined), 30_000);
    for (const p of publishers) await p.client.endAsync();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);

    const stored = await storedSeqs(path.join(dataDir, 'telemetry.duckdb'));
    let missing = 0;
    for (const [i, p] of publishers.entries()) {
      for (const seq of p.acked) if (stored.get(`crash-dev-${i}/${seq}`) !== 1) missing += 1;
    }
    expect(missing).toBe(0);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    console.log(
      `crash test: ${total()} readings acknowledged (${ackedBeforeCrash} before SIGKILL), ${stored.size} stored, 0 lost`,
    );
  }, 120_000);
});
