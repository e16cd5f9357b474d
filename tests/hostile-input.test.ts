import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestErrorCount, ProvisionedDevice, RangePoint } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import {
  type ApiClient,
  adminWithSite,
  connectDevice,
  eventually,
  provision,
  testHub,
} from './helpers/hub.js';
import {
  closedWithin,
  connackCode,
  connectPacket,
  publishPacket,
  rawConnection,
} from './helpers/raw-mqtt.js';

const HOUR = 3_600_000;
const SITE = 'taishanlvgu-e1';

/** The hub refuses, counts and survives; a well-behaved device next to the attacker is served throughout. */
describe('hostile input', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  let good: ProvisionedDevice;
  let bad: ProvisionedDevice;
  let goodClient: MqttClient;
  let goodSeq = 0;
  const mqttPort = () => Number(new URL(hub.mqttUrl).port);

  const errorsOf = async (deviceId: string) =>
    Object.fromEntries(
      (
        await api.json<{ errors: IngestErrorCount[] }>('GET', `/api/ingest/errors?deviceId=${deviceId}`)
      ).body.errors.map((e) => [e.code, e.count]),
    );
  /** Readings stored in the whole hours that cover [from, to). */
  const stored = async (deviceId: string, metric: string, from: number, to = from + 1) => {
    const start = from - (from % HOUR);
    const end = Math.ceil(to / HOUR) * HOUR;
    const q = new URLSearchParams({
      deviceId,
      metric,
      from: String(start),
      to: String(end),
      bucketMs: String(HOUR),
      agg: 'count',
    });
    const res = await api.json<{ points: RangePoint[] }>('GET', `/api/telemetry/range?${q}`);
    return res.body.points.reduce((n, p) => n + p.count, 0);
  };
  /** The neighbour still gets its readings stored and acknowledged. */
  const goodStillServed = async () => {
    const ts = Date.now();
    const before = await stored(good.device.id, 'occupancy', ts);
    goodSeq += 1;
    await goodClient.publishAsync(
      topicFor(SITE, good.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq: goodSeq, ts, values: { occupancy: goodSeq % 10 } }] }),
      { qos: 1 },
    );
    expect(await stored(good.device.id, 'occupancy', ts)).toBe(before + 1);
  };

  beforeAll(async () => {
    hub = await testHub({ DEVICE_RATE_PER_S: 5, DEVICE_RATE_BURST: 20, MAX_PAYLOAD_BYTES: 4096 });
    api = await adminWithSite(hub, SITE);
    good = await provision(api, SITE, `${SITE}-occ`, 'occupancy_counter');
    bad = await provision(api, SITE, `${SITE}-env`, 'environment_sensor');
    goodClient = await connectDevice(hub.mqttUrl, good.device.id, good.secret);
  });
  afterAll(async () => {
    await goodClient?.endAsync();
    await hub?.close();
  });

  it('drops connections that send garbage bytes or a truncated packet', async () => {
    const garbage = await rawConnection(mqttPort());
    garbage.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await closedWithin(garbage, 2000);

    const truncated = await rawConnection(mqttPort());
    truncated.write(connectPacket(bad.device.id, bad.secret).subarray(0, 12));
    truncated.end();
    await closedWithin(truncated, 2000);
    await goodStillServed();
  });

  it('cuts a packet that announces more than the limit before buffering it', async () => {
    const socket = await rawConnection(mqttPort());
    socket.write(connectPacket(bad.device.id, bad.secret));
    expect(await connackCode(socket)).toBe(0);
    // A PUBLISH header announcing 100 MB, then a trickle: the hub must not wait for the rest.
    socket.write(Buffer.from([0x32, 0x80, 0xad, 0xe2, 0x2f]));
    socket.write(Buffer.alloc(1000, 1));
    await closedWithin(socket, 2000);
    const stats = await api.json<{ broker: { packetsTooLarge: number } }>('GET', '/api/stats');
    expect(stats.body.broker.packetsTooLarge).toBeGreaterThanOrEqual(1);
    expect((await errorsOf(bad.device.id)).PACKET_TOO_LARGE).toBe(1);
    await goodStillServed();
  });

  it('refuses ids with odd Unicode or SQL-looking text at CONNECT and in the API', async () => {
    for (const username of [
      "x' OR '1'='1",
      'ｔａｉｓｈａｎ-occ',
      `${good.device.id}\u0000`,
      `${good.device.id}\u200b`,
      '',
    ]) {
      const socket = await rawConnection(mqttPort());
      socket.write(connectPacket(username, good.secret, 'probe'));
      expect(await connackCode(socket), JSON.stringify(username)).toBe(4);
      socket.destroy();
    }
    const sql = await api.json<{ code: string }>('GET', `/api/sites/${encodeURIComponent("x' OR 1=1 --")}`);
    expect(sql).toMatchObject({ status: 400, body: { code: 'VALIDATION' } });
    const unicode = await api.json<{ code: string }>('POST', `/api/sites/${SITE}/devices`, {
      id: 'ｄｅｖ',
      kind: 'door_sensor',
    });
    expect(unicode.status).toBe(400);
    await goodStillServed();
  });

  it('refuses topic tricks: wildcards, extra and empty levels, other ids', async () => {
    for (const topic of [
      `yz/v1/${SITE}/+/telemetry`,
      `yz/v1/${SITE}/${bad.device.id}/#`,
      `yz/v1/${SITE}/${bad.device.id}/telemetry/extra`,
      `yz/v1/${SITE}//telemetry`,
      `yz/v1/${SITE}/${good.device.id}/telemetry`,
      `yz/v1/other-site/${bad.device.id}/telemetry`,
      `$SYS/broker/clients`,
    ]) {
      const socket = await rawConnection(mqttPort());
      socket.write(connectPacket(bad.device.id, bad.secret));
      expect(await connackCode(socket)).toBe(0);
      socket.write(
        publishPacket(
          topic,
          JSON.stringify({ readings: [{ seq: 1, ts: Date.now(), values: { occupancy: 1 } }] }),
        ),
      );
      await closedWithin(socket, 2000);
    }
    expect((await errorsOf(bad.device.id)).TOPIC_NOT_ALLOWED).toBeGreaterThanOrEqual(5);
    expect(await stored(good.device.id, 'occupancy', Date.now() - HOUR, Date.now() + 1)).toBe(goodSeq);
    await goodStillServed();
  });

  it('refuses payloads that are huge, deeply nested, mistyped, non-finite, out of range or out of the time window', async () => {
    const c = await connectDevice(hub.mqttUrl, bad.device.id, bad.secret);
    const topic = topicFor(SITE, bad.device.id, 'telemetry');
    const now = Date.now();
    const reading = (values: unknown, ts = now, seq = 1) =>
      JSON.stringify({ readings: [{ seq, ts, values }] });
    const payloads = [
      'x'.repeat(5000),
      `${'['.repeat(2000)}${']'.repeat(2000)}`,
      `{"readings":${'{"a":'.repeat(600)}1${'}'.repeat(600)}}`,
      reading({ temperature_c: '21', humidity_pct: 40 }),
      '{"readings":[{"seq":1,"ts":1,"values":{"temperature_c":NaN,"humidity_pct":40}}]}',
      '{"readings":[{"seq":1,"ts":1,"values":{"temperature_c":1e999,"humidity_pct":40}}]}',
      reading({ temperature_c: 500, humidity_pct: 40 }),
      reading({ temperature_c: 20, humidity_pct: 40 }, now + 2 * HOUR),
      reading({ temperature_c: 20, humidity_pct: 40 }, 0),
      reading({ temperature_c: 20, humidity_pct: 40 }, now, -1),
      `{"readings":[{"seq":1,"ts":${now},"values":{"temperature_c":20,"humidity_pct":40},"__proto__":{"x":1}}]}`,
    ];
    for (const p of payloads) await c.publishAsync(topic, p, { qos: 1 });
    expect(c.connected).toBe(true);
    const errors = await errorsOf(bad.device.id);
    expect(errors).toMatchObject({ PAYLOAD_TOO_LARGE: 1 });
    expect((errors.PAYLOAD_INVALID ?? 0) + (errors.PAYLOAD_NOT_JSON ?? 0)).toBe(payloads.length - 1);
    expect(await stored(bad.device.id, 'temperature_c', now - 40 * 24 * HOUR, now + 3 * HOUR)).toBe(0);
    await c.endAsync();
    await goodStillServed();
  });

  it('rate-limits a flooding device, counts the excess, and keeps serving the others', async () => {
    const flooder = await provision(api, SITE, `${SITE}-env2`, 'environment_sensor');
    const c = await connectDevice(hub.mqttUrl, flooder.device.id, flooder.secret);
    const topic = topicFor(SITE, flooder.device.id, 'telemetry');
    const ts = Date.now();
    const sends = Array.from({ length: 300 }, (_, i) =>
      c.publishAsync(
        topic,
        JSON.stringify({
          readings: [{ seq: 1000 + i, ts, values: { temperature_c: 20, humidity_pct: 50 } }],
        }),
        { qos: 1 },
      ),
    );
    await goodStillServed();
    await Promise.all(sends);
    const kept = await stored(flooder.device.id, 'temperature_c', ts);
    // Burst 20 plus 5/s refill while the flood lasts (well under a few seconds here).
    expect(kept).toBeGreaterThanOrEqual(20);
    expect(kept).toBeLessThan(60);
    const errors = await eventually(async () => {
      const e = await errorsOf(flooder.device.id);
      return (e.RATE_LIMITED ?? 0) === 300 - kept ? e : undefined;
    });
    expect(errors.RATE_LIMITED).toBe(300 - kept);
    await c.endAsync();
    await goodStillServed();
  });
});
