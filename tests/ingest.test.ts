import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestErrorCount, ProvisionedDevice, RangePoint, SiteLive } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import {
  ApiClient,
  connectDevice,
  connectRefusal,
  eventually,
  liveClient,
  provision,
  siteFixture,
  testHub,
} from './helpers/hub.js';

const HOUR = 3_600_000;

describe('device to dashboard: authenticated MQTT in, validated, stored, shown live', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  let occ: ProvisionedDevice;
  let env: ProvisionedDevice;
  let occClient: MqttClient;

  const range = async (deviceId: string, metric: string, from: number) => {
    const q = new URLSearchParams({
      deviceId,
      metric,
      from: String(from),
      to: String(from + HOUR),
      bucketMs: String(HOUR),
      agg: 'count',
    });
    const res = await api.json<{ points: RangePoint[] }>('GET', `/api/telemetry/range?${q}`);
    expect(res.status).toBe(200);
    return res.body.points;
  };
  const errorsOf = async (deviceId: string) =>
    (await api.json<{ errors: IngestErrorCount[] }>('GET', `/api/ingest/errors?deviceId=${deviceId}`)).body
      .errors;

  beforeAll(async () => {
    hub = await testHub();
    api = new ApiClient(hub.httpUrl);
    expect((await api.login()).status).toBe(200);
    expect((await api.json('POST', '/api/sites', siteFixture('fanghuali-n1'))).status).toBe(201);
    occ = await provision(api, 'fanghuali-n1', 'fanghuali-n1-occ', 'occupancy_counter');
    env = await provision(api, 'fanghuali-n1', 'fanghuali-n1-env', 'environment_sensor');
    occClient = await connectDevice(hub.mqttUrl, occ.device.id, occ.secret);
  });

  afterAll(async () => {
    await occClient?.endAsync();
    await hub?.close();
  });

  it('stores a QoS 1 reading before the PUBACK and pushes it to socket.io within a second', async () => {
    const socket = liveClient(hub.httpUrl, api.cookie);
    const snapshot = await new Promise<{ live: SiteLive[] }>((resolve) => socket.once('snapshot', resolve));
    expect(snapshot.live.map((l) => l.siteId)).toEqual(['fanghuali-n1']);
    const pushed = new Promise<SiteLive>((resolve) =>
      socket.on('sites', (ls) => {
        const l = ls.find((x) => x.occupancy === 7);
        if (l) resolve(l);
      }),
    );

    const ts = Date.now();
    const sentAt = performance.now();
    await occClient.publishAsync(
      topicFor('fanghuali-n1', occ.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq: 1, ts, values: { occupancy: 7 } }] }),
      { qos: 1 },
    );
    // The PUBACK has arrived: the reading must already be in the store.
    const points = await range(occ.device.id, 'occupancy', ts - (ts % HOUR));
    expect(points.reduce((n, p) => n + p.count, 0)).toBe(1);

    const live = await pushed;
    expect(performance.now() - sentAt).toBeLessThan(1000);
    expect(live.devices.find((d) => d.id === occ.device.id)?.online).toBe(true);
    socket.close();
  });

  it('stores a resent (device, seq) once', async () => {
    const ts = Date.now() - 2 * HOUR;
    const payload = JSON.stringify({ readings: [{ seq: 2, ts, values: { occupancy: 3 } }] });
    const topic = topicFor('fanghuali-n1', occ.device.id, 'telemetry');
    await occClient.publishAsync(topic, payload, { qos: 1 });
    await occClient.publishAsync(topic, payload, { qos: 1 });
    const points = await range(occ.device.id, 'occupancy', ts - (ts % HOUR));
    expect(points.reduce((n, p) => n + p.count, 0)).toBe(1);
  });

  it('ends an uplink in the hub: stored, yet not fanned out or retained by aedes (nobody may subscribe to it)', async () => {
    const fannedOut: string[] = [];
    const onPublish = (packet: { topic: string }) => fannedOut.push(packet.topic);
    hub.broker.aedes.on('publish', onPublish);
    const topic = topicFor('fanghuali-n1', occ.device.id, 'telemetry');
    const ts = Date.now() - 3 * HOUR;
    await occClient.publishAsync(
      topic,
      JSON.stringify({ readings: [{ seq: 3, ts, values: { occupancy: 4 } }] }),
      {
        qos: 1,
        retain: true,
      },
    );
    await occClient.publishAsync(
      topic,
      JSON.stringify({ readings: [{ seq: 4, ts, values: { occupancy: 5 } }] }),
    );
    const points = await eventually(async () => {
      const p = await range(occ.device.id, 'occupancy', ts - (ts % HOUR));
      return p.reduce((n, x) => n + x.count, 0) === 2 ? p : undefined;
    });
    expect(points.length).toBeGreaterThan(0);
    hub.broker.aedes.off('publish', onPublish);
    expect(fannedOut.filter((t) => t.startsWith('yz/'))).toEqual([]);
    // aedes' types leave out its persistence, where retained messages are kept.
    type Persistence = { createRetainedStreamCombi(patterns: string[]): AsyncIterable<unknown> };
    const { persistence } = hub.broker.aedes as unknown as { persistence: Persistence };
    const retained: unknown[] = [];
    for await (const packet of persistence.createRetainedStreamCombi(['yz/#'])) retained.push(packet);
    expect(retained).toEqual([]);
  });

  it('refuses a wrong secret and an unknown device at CONNECT with code 4', async () => {
    expect((await connectRefusal(hub.mqttUrl, occ.device.id, 'not-the-secret')).code).toBe(4);
    expect((await connectRefusal(hub.mqttUrl, 'no-such-device', occ.secret)).code).toBe(4);
  });

  it('refuses a disabled device with code 5 and admits it again when enabled', async () => {
    expect((await api.json('POST', `/api/devices/${env.device.id}/disable`)).status).toBe(200);
    expect((await connectRefusal(hub.mqttUrl, env.device.id, env.secret)).code).toBe(5);
    expect((await api.json('POST', `/api/devices/${env.device.id}/enable`)).status).toBe(200);
    const c = await connectDevice(hub.mqttUrl, env.device.id, env.secret);
    await c.endAsync();
  });

  it("refuses a publish to another device's topic, stores nothing and counts it", async () => {
    const door = await provision(api, 'fanghuali-n1', 'fanghuali-n1-door', 'door_sensor');
    const intruder = await connectDevice(hub.mqttUrl, door.device.id, door.secret);
    const closed = new Promise<void>((resolve) => intruder.once('close', () => resolve()));
    const ts = Date.now() - 5 * HOUR;
    intruder.publish(
      topicFor('fanghuali-n1', env.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq: 1, ts, values: { temperature_c: 21, humidity_pct: 40 } }] }),
      { qos: 1 },
    );
    await closed;
    intruder.end(true);
    expect(await range(env.device.id, 'temperature_c', ts - (ts % HOUR))).toSatisfy((p: RangePoint[]) =>
      p.every((x) => x.count === 0),
    );
    const errors = await eventually(async () =>
      (await errorsOf(door.device.id)).find((e) => e.code === 'TOPIC_NOT_ALLOWED'),
    );
    expect(errors.count).toBe(1);
  });

  it("refuses a client id other than the device's own, so one secret cannot take over another session", async () => {
    const refusal = await new Promise<Error & { code?: number }>((resolve) => {
      const c = mqtt.connect(hub.mqttUrl, {
        username: env.device.id,
        password: env.secret,
        clientId: occ.device.id,
        reconnectPeriod: 0,
      });
      c.on('error', (err) => {
        c.end(true);
        resolve(err);
      });
    });
    expect(refusal.code).toBe(2);
    expect(occClient.connected).toBe(true);
  });

  it("refuses a subscription outside the device's own command topic", async () => {
    const c = await connectDevice(hub.mqttUrl, env.device.id, env.secret);
    // mqtt.js turns a SUBACK 0x80 into a rejected promise.
    await expect(c.subscribeAsync('yz/v1/#', { qos: 1 })).rejects.toThrow(/Subscribe error/);
    expect(c.connected).toBe(true);
    const own = await c.subscribeAsync(topicFor('fanghuali-n1', env.device.id, 'cmd'), { qos: 1 });
    expect(own[0]?.qos).toBe(1);
    await c.endAsync();
  });

  it('counts malformed payloads, stores none of them, and keeps serving', async () => {
    const topic = topicFor('fanghuali-n1', occ.device.id, 'telemetry');
    const ts = Date.now() - 8 * HOUR;
    const bad = [
      'not json',
      JSON.stringify({ readings: [{ seq: 10, ts, values: { occupancy: -1 } }] }),
      JSON.stringify({ readings: [{ seq: 11, ts, values: { occupancy: 2, extra: 1 } }] }),
      JSON.stringify({ readings: [{ seq: 12, ts, values: { temperature_c: 20 } }] }),
      JSON.stringify({ readings: [] }),
      'x'.repeat(40_000),
    ];
    for (const payload of bad) await occClient.publishAsync(topic, payload, { qos: 1 });
    expect(occClient.connected).toBe(true);

    const byCode = Object.fromEntries((await errorsOf(occ.device.id)).map((e) => [e.code, e.count]));
    expect(byCode).toMatchObject({ PAYLOAD_NOT_JSON: 1, PAYLOAD_INVALID: 4, PAYLOAD_TOO_LARGE: 1 });
    expect((await range(occ.device.id, 'occupancy', ts - (ts % HOUR))).every((p) => p.count === 0)).toBe(
      true,
    );

    // A good reading right after still goes through.
    await occClient.publishAsync(
      topic,
      JSON.stringify({ readings: [{ seq: 13, ts, values: { occupancy: 2 } }] }),
      { qos: 1 },
    );
    expect((await range(occ.device.id, 'occupancy', ts - (ts % HOUR))).reduce((n, p) => n + p.count, 0)).toBe(
      1,
    );
  });

  it('takes MQTT over WebSocket on the HTTP port', async () => {
    const ws = await connectDevice(hub.wsUrl, env.device.id, env.secret);
    const ts = Date.now() - 10 * HOUR;
    await ws.publishAsync(
      topicFor('fanghuali-n1', env.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq: 100, ts, values: { temperature_c: 22.5, humidity_pct: 51 } }] }),
      { qos: 1 },
    );
    const points = await range(env.device.id, 'temperature_c', ts - (ts % HOUR));
    expect(points.reduce((n, p) => n + p.count, 0)).toBe(1);
    await ws.endAsync();
  });

  it('marks a device offline when its connection drops', async () => {
    const c = await connectDevice(hub.mqttUrl, env.device.id, env.secret, {
      will: {
        topic: topicFor('fanghuali-n1', env.device.id, 'status'),
        payload: Buffer.from('{"online":false}'),
        qos: 1,
        retain: true,
      },
    });
    const online = async () =>
      (await api.json<SiteLive>('GET', '/api/sites/fanghuali-n1/live')).body.devices.find(
        (d) => d.id === env.device.id,
      )?.online;
    await eventually(async () => ((await online()) ? true : undefined));
    c.stream.destroy();
    await eventually(async () => ((await online()) === false ? true : undefined));
  });
});
