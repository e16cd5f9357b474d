import { describe, expect, it } from 'vitest';
import { ApiClient, eventually, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll, loadHubEnv, startHubProcess } from './helpers/hub-process.js';
import { devicePublisher, type Publisher, unstoredAcks } from './helpers/publisher.js';

const PASSWORD = 'shutdown-test-password';

describe('graceful shutdown', () => {
  const cleanup = cleanupAfterAll();

  it('on SIGTERM stops taking publishes, stores and acknowledges what it took, closes devices and exits', async () => {
    const { env, dataDir, mqttUrl } = await loadHubEnv('yz-stop-', PASSWORD, cleanup);
    const hub = startHubProcess(env);
    cleanup.push(async () => hub.child.kill('SIGKILL'));
    const api = new ApiClient(await hub.started);
    await api.login('admin', PASSWORD);
    await api.json('POST', '/api/sites', siteFixture('stop-1'));

    const publishers: Publisher[] = [];
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const d = await provision(api, 'stop-1', `stop-dev-${i}`, 'occupancy_counter');
      const p = await devicePublisher(mqttUrl, d, cleanup);
      closed.push(new Promise((r) => p.client.once('close', () => r())));
      publishers.push(p);
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

    const { missing } = await unstoredAcks(dataDir, publishers, (i) => `stop-dev-${i}`);
    expect(missing).toBe(0);
    console.log(`shutdown test: stopped in ${Math.round(stopMs)} ms; ${total()} acknowledged, all stored`);
  }, 60_000);
});
