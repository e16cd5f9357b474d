import { describe, expect, it } from 'vitest';
import { ApiClient, eventually, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll, type HubProcess, loadHubEnv, startHubProcess } from './helpers/hub-process.js';
import { devicePublisher, unstoredAcks } from './helpers/publisher.js';

const DEVICES = 60;
const SITES = 6;
const PASSWORD = 'crash-test-password';

describe('durability under a crash', () => {
  const cleanup = cleanupAfterAll();

  it('keeps every acknowledged reading exactly once across SIGKILL and restart', async () => {
    const { env, dataDir, mqttUrl } = await loadHubEnv('yz-crash-', PASSWORD, cleanup);
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
      devices.map((d) => devicePublisher(mqttUrl, d, cleanup, { clean: false, reconnectPeriod: 200 })),
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

    const { stored, missing } = await unstoredAcks(dataDir, publishers, (i) => `crash-dev-${i}`);
    expect(missing).toBe(0);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    console.log(
      `crash test: ${total()} readings acknowledged (${ackedBeforeCrash} before SIGKILL), ${stored.size} stored, 0 lost`,
    );
  }, 120_000);
});
