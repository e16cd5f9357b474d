import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicFor } from '../contract/index.js';
import { type ClusterHub, clusterServicesMissing, startCluster, startClusterHub } from './helpers/cluster.js';
import { connectDevice, eventually, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll } from './helpers/hub-process.js';
import { type Influxd, influxdAvailable, startInfluxd, storedSeqs } from './helpers/influxd.js';
import { Publisher } from './helpers/publisher.js';

const DEVICES = 10;
const SITE = 'fo-1';
const missing = influxdAvailable() ?? (await clusterServicesMissing());
if (missing) console.log(`cluster failover test skipped: ${missing}`);

describe.skipIf(missing !== undefined)('a hub of two killed mid-stream', () => {
  const cleanup = cleanupAfterAll();
  let influxd: Influxd;
  beforeAll(async () => {
    influxd = await startInfluxd();
  });
  afterAll(async () => influxd?.stop());

  it('its devices go on at the other hub with their sessions and queued commands; no acknowledged reading is lost or stored twice', async () => {
    const s = influxd.settings;
    const env = {
      INFLUX_URL: s.url,
      INFLUX_TOKEN: s.token,
      INFLUX_ORG: s.org,
      INFLUX_BUCKET: s.bucket,
      DEVICE_RATE_PER_S: '1000',
      DEVICE_RATE_BURST: '1000',
    };
    const [a, b] = (await startCluster(cleanup, { env })).hubs as [ClusterHub, ClusterHub];
    await a.api.json('POST', '/api/sites', siteFixture(SITE));
    // Each device knows both hubs, as behind the load balancer, and starts on hub A.
    const servers = [a, b].map((h) => ({ host: '127.0.0.1', port: Number(new URL(h.mqttUrl).port) }));
    const connect = async (id: string, secret: string) => {
      const client = await connectDevice(a.mqttUrl, id, secret, {
        clean: false,
        reconnectPeriod: 200,
        servers,
      });
      cleanup.push(() => client.endAsync(true));
      return client;
    };
    const publishers: Publisher[] = [];
    for (let i = 0; i < DEVICES; i++) {
      const d = await provision(a.api, SITE, `fo-dev-${i}`, 'occupancy_counter');
      publishers.push(
        new Publisher(await connect(d.device.id, d.secret), topicFor(SITE, d.device.id, 'telemetry')),
      );
    }
    const ac = await provision(a.api, SITE, 'fo-ac', 'air_conditioner');
    const acClient = await connect('fo-ac', ac.secret);
    await acClient.subscribeAsync(topicFor(SITE, 'fo-ac', 'cmd'), { qos: 1 });
    const commands: string[] = [];
    acClient.on('message', (_t, p) => commands.push((JSON.parse(p.toString()) as { id: string }).id));

    for (const p of publishers) p.pump();
    const total = () => publishers.reduce((n, p) => n + p.acked.size, 0);
    await eventually(() => (total() > 1000 ? true : undefined), 60_000);
    a.proc.child.kill('SIGKILL');
    await a.proc.exited;
    const ackedBeforeCrash = total();
    // Sent while the device is between hubs: its session on Redis keeps it.
    expect(
      (await b.api.json('POST', '/api/devices/fo-ac/commands', { id: 'fo-1', action: 'reboot' })).status,
    ).toBe(202);

    await eventually(() => (total() > ackedBeforeCrash + 1000 ? true : undefined), 60_000);
    await eventually(() => (commands.includes('fo-1') ? true : undefined), 30_000);
    for (const p of publishers) p.stop();
    await eventually(() => (publishers.every((p) => p.settled) ? true : undefined), 60_000);

    // Hub A comes back on its own disk, as a restarted container does, and moves what its journal
    // had acknowledged before it died into the shared store.
    await startClusterHub(a.env, a.mqttUrl, cleanup);
    const lost = async () => {
      const stored = await storedSeqs(influxd);
      let n = 0;
      for (const [i, p] of publishers.entries()) {
        for (const seq of p.acked) if (stored.get(`fo-dev-${i}/${seq}`) !== 1) n += 1;
      }
      return n;
    };
    await eventually(async () => ((await lost()) === 0 ? true : undefined), 60_000);
    console.log(
      `cluster failover: ${total()} acknowledged (${ackedBeforeCrash} on hub A before SIGKILL), 0 lost`,
    );
  }, 300_000);
});
