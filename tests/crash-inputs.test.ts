import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ProvisionedDevice } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import { ApiClient, connectDevice, provision, siteFixture, testHub } from './helpers/hub.js';
import { connackCode, connectPacket, nextPacket, rawConnection } from './helpers/raw-mqtt.js';

const SITE = 'dianliu-c1';

/** Inputs found by review to bring the whole hub down; each must now be refused and survived. */
describe('inputs that must not crash the hub', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  let dev: ProvisionedDevice;

  /** The hub still answers and still stores: the proof that the process survived. */
  const stillServing = async (seq: number) => {
    const c = await connectDevice(hub.mqttUrl, dev.device.id, dev.secret);
    await c.publishAsync(
      topicFor(SITE, dev.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq, ts: Date.now(), values: { occupancy: 1 } }] }),
      { qos: 1 },
    );
    await c.endAsync();
    expect((await api.json('GET', '/healthz')).status).toBe(200);
  };

  beforeAll(async () => {
    hub = await testHub({ MAX_PAYLOAD_BYTES: 4096 });
    api = new ApiClient(hub.httpUrl);
    await api.login();
    await api.json('POST', '/api/sites', siteFixture(SITE));
    dev = await provision(api, SITE, `${SITE}-occ`, 'occupancy_counter');
  });
  afterAll(async () => hub?.close());

  it('survives a PUBACK for a message it never sent', async () => {
    const socket = await rawConnection(Number(new URL(hub.mqttUrl).port));
    socket.write(connectPacket(dev.device.id, dev.secret));
    expect(await connackCode(socket)).toBe(0);
    socket.write(mqttPacket.generate({ cmd: 'puback', messageId: 4242 }));
    // The PINGRESP comes once the PUBACK before it was handled, instead of waiting 200 ms for it.
    socket.write(mqttPacket.generate({ cmd: 'pingreq' }));
    await nextPacket(socket, 'pingresp');
    socket.destroy();
    await stillServing(1);
  });

  it('survives a socket.io handshake with a malformed session cookie', async () => {
    const res = await fetch(`${hub.httpUrl}/socket.io/?EIO=4&transport=polling`, {
      headers: { cookie: 'yz_session=%E0%A4%A' },
    });
    expect(res.status).toBe(200);
    // The namespace connect is where the session is checked.
    const sid = /"sid":"([^"]+)"/.exec(await res.text())?.[1];
    await fetch(`${hub.httpUrl}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
      method: 'POST',
      headers: { cookie: 'yz_session=%E0%A4%A', 'content-type': 'text/plain' },
      body: '40',
    });
    await new Promise((r) => setTimeout(r, 200));
    await stillServing(2);
  });

  it('cuts an oversized MQTT packet sent over WebSocket in small frames', async () => {
    const ws = new WebSocket(hub.wsUrl, 'mqtt');
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    // A CONNECT header announcing 200 MB, then data a frame at a time.
    ws.send(Buffer.from([0x10, 0x80, 0x80, 0xb0, 0x5f]));
    for (let i = 0; i < 5; i++) ws.send(Buffer.alloc(1000, 1));
    await closed;
    const stats = await api.json<{ broker: { packetsTooLarge: number } }>('GET', '/api/stats');
    expect(stats.body.broker.packetsTooLarge).toBeGreaterThanOrEqual(1);
    await stillServing(3);
  });
});
