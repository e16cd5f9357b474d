import type { Socket as NetSocket } from 'node:net';
import type mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProvisionedDevice } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import {
  type ApiClient,
  adminWithSite,
  connectDevice,
  eventually,
  liveClient,
  provision,
  testHub,
} from './helpers/hub.js';
import { connackCode, connectPacket, nextPacket, rawConnection } from './helpers/raw-mqtt.js';

const SITE = 'fanghuali-s2';

describe('slow consumers', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  let door: ProvisionedDevice;
  let occ: ProvisionedDevice;
  let mw: ProvisionedDevice;

  /** PUBACK time of a neighbouring device: ingest must not stall behind a slow consumer. */
  const pubackMs = async (client: mqtt.MqttClient, seq: number) => {
    const t = performance.now();
    await client.publishAsync(
      topicFor(SITE, occ.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq, ts: Date.now(), values: { occupancy: seq % 5 } }] }),
      { qos: 1 },
    );
    return performance.now() - t;
  };

  beforeAll(async () => {
    hub = await testHub({ LIVE_CLIENT_MAX_QUEUE: 50, DEVICE_RATE_PER_S: 1000, DEVICE_RATE_BURST: 1000 });
    api = await adminWithSite(hub, SITE);
    door = await provision(api, SITE, `${SITE}-door`, 'door_sensor');
    occ = await provision(api, SITE, `${SITE}-occ`, 'occupancy_counter');
    mw = await provision(api, SITE, `${SITE}-mw`, 'microwave');
  });
  afterAll(async () => hub?.close());

  it('drops a dashboard that stopped reading, while other dashboards and ingest carry on', async () => {
    const slow = liveClient(hub.httpUrl, api.cookie);
    const healthy = liveClient(hub.httpUrl, api.cookie);
    await Promise.all([slow, healthy].map((s) => new Promise((r) => s.once('snapshot', r))));
    let received = 0;
    healthy.on('deviceEvent', () => received++);
    // Stop reading at the TCP level, as a phone in a lift does.
    const engine = slow.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } };
    engine.transport.ws._socket.pause();

    const device = await connectDevice(hub.mqttUrl, door.device.id, door.secret);
    const neighbour = await connectDevice(hub.mqttUrl, occ.device.id, occ.secret);
    const note = 'x'.repeat(300);
    const MESSAGES = 250;
    // ~22 KiB a message, under the payload limit; ~5 MB in all, more than the kernel buffers hold.
    const PER = 60;
    let seq = 0;
    const latencies: number[] = [];
    for (let m = 0; m < MESSAGES; m++) {
      const events = Array.from({ length: PER }, () => {
        seq += 1;
        return { seq, ts: Date.now(), type: seq % 2 ? 'door_opened' : 'door_closed', message: note };
      });
      await device.publishAsync(topicFor(SITE, door.device.id, 'event'), JSON.stringify({ events }), {
        qos: 1,
      });
      if (m % 10 === 0) latencies.push(await pubackMs(neighbour, m + 1));
    }

    const stats = await eventually(async () => {
      const s = await api.json<{ live: { slowClientsDropped: number } }>('GET', '/api/stats');
      return s.body.live.slowClientsDropped >= 1 ? s.body : undefined;
    }, 15_000);
    expect(stats.live.slowClientsDropped).toBe(1);
    await eventually(() => (received === MESSAGES * PER ? true : undefined), 15_000);
    expect(healthy.connected).toBe(true);
    // Generous bound for a shared 2-core machine; a stall would be the drain timeout (30 s).
    expect(Math.max(...latencies)).toBeLessThan(2000);

    // The phone leaves for good: without this its paused socket would hold the hub's close for the
    // WebSocket close handshake timeout (30 s in ws), since it never reads the server's close frame.
    engine.transport.ws._socket.destroy();
    slow.close();
    healthy.close();
    await device.endAsync();
    await neighbour.endAsync();
  }, 60_000);

  it('refuses commands to a device that never acknowledges them, and keeps ingest going', async () => {
    // A subscriber that takes its command topic and then never reads or acknowledges anything.
    const raw = await rawConnection(Number(new URL(hub.mqttUrl).port));
    raw.write(connectPacket(mw.device.id, mw.secret));
    expect(await connackCode(raw)).toBe(0);
    const mqttPacket = (await import('mqtt-packet')).default;
    const subscribed = nextPacket(raw, 'suback');
    raw.write(
      mqttPacket.generate({
        cmd: 'subscribe',
        messageId: 1,
        subscriptions: [{ topic: topicFor(SITE, mw.device.id, 'cmd'), qos: 1 }],
      }),
    );
    await subscribed;
    raw.pause();

    const neighbour = await connectDevice(hub.mqttUrl, occ.device.id, occ.secret);
    const codes: number[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await api.json<{ code?: string }>('POST', `/api/devices/${mw.device.id}/commands`, {
        id: `c${i}`,
        action: 'set_power',
        on: i % 2 === 0,
      });
      codes.push(res.status);
    }
    const accepted = codes.filter((c) => c === 202).length;
    expect(accepted).toBe(20);
    expect(codes.slice(accepted).every((c) => c === 429)).toBe(true);
    expect(await pubackMs(neighbour, 1000)).toBeLessThan(1000);
    await neighbour.endAsync();
    raw.destroy();

    // Once it has reconnected, the device may be sent commands again.
    const back = await connectDevice(hub.mqttUrl, mw.device.id, mw.secret);
    const res = await api.json('POST', `/api/devices/${mw.device.id}/commands`, {
      id: 'after',
      action: 'reboot',
    });
    expect(res.status).toBe(202);
    await back.endAsync();
  });
});
