import type net from 'node:net';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { topicFor } from '../contract/index.js';
import { type ClusterHub, clusterServicesMissing, startCluster, startClusterHub } from './helpers/cluster.js';
import { type ApiClient, eventually, liveClient, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll } from './helpers/hub-process.js';
import { connackCode, connectPacket, publishPacket, rawConnection } from './helpers/raw-mqtt.js';

const missing = await clusterServicesMissing();
if (missing) console.log(`cluster resend test skipped: ${missing}`);

const SITE = 'rs-1';
const DEVICE = 'rs-count';
const SENT = 5;

/** A device as bytes on a TCP socket: it never reads its PUBACKs, as if each was lost with hub A. */
async function deviceOn(hub: ClusterHub, secret: string): Promise<net.Socket> {
  const socket = await rawConnection(Number(new URL(hub.mqttUrl).port));
  const ack = connackCode(socket);
  socket.write(connectPacket(DEVICE, secret));
  expect(await ack).toBe(0);
  return socket;
}

const t0 = Date.now() - 60_000;
const reading = (seq: number) =>
  publishPacket(
    topicFor(SITE, DEVICE, 'telemetry'),
    JSON.stringify({ readings: [{ seq, ts: t0 + seq, values: { occupancy: seq } }] }),
    seq,
  );
const fault = (seq: number) =>
  publishPacket(
    topicFor(SITE, DEVICE, 'event'),
    JSON.stringify({ events: [{ seq, ts: t0 + seq, type: 'fault', code: `rs-${seq}` }] }),
    1000 + seq,
  );

/** What one hub stored of the device, read back from its own DuckDB through its API. */
async function storedOn(api: ApiClient) {
  const window = `deviceId=${DEVICE}&from=${t0 - 60_000}&to=${Date.now() + 60_000}`;
  const events = await api.json<{ events: { code?: string }[] }>('GET', `/api/telemetry/events?${window}`);
  const range = await api.json<{ points: { count: number }[] }>(
    'GET',
    `/api/telemetry/range?${window}&metric=occupancy&bucketMs=${31 * 86_400_000}`,
  );
  return {
    faults: events.body.events.map((e) => e.code).sort(),
    readings: range.body.points.reduce((n, p) => n + p.count, 0),
  };
}

describe.skipIf(missing !== undefined)('a resend that moves from a dead hub to another', () => {
  const cleanup = cleanupAfterAll();

  it('is stored once in the cluster and shown once on the dashboards', async () => {
    // Each hub on its own DuckDB: a row stored by both hubs would be counted twice below. (On the
    // shared InfluxDB a second write overwrites the first: cluster-failover.test.ts.)
    const [a, b] = (await startCluster(cleanup)).hubs as [ClusterHub, ClusterHub];
    await a.api.json('POST', '/api/sites', siteFixture(SITE));
    const d = await provision(a.api, SITE, DEVICE, 'occupancy_counter');
    const live = liveClient(b.url, b.api.cookie);
    cleanup.push(async () => live.close());
    const shown: string[] = [];
    live.on('deviceEvent', (e) => e.deviceId === DEVICE && shown.push(e.code ?? ''));
    await new Promise((resolve) => live.once('snapshot', resolve));

    const onA = await deviceOn(a, d.secret);
    cleanup.push(async () => onA.destroy());
    for (let seq = 1; seq <= SENT; seq++) onA.write(Buffer.concat([reading(seq), fault(seq)]));
    // Hub A journaled them all: it relays what it journaled before its PUBACKs go out.
    await eventually(() => (shown.length === SENT ? true : undefined), 20_000);
    a.proc.child.kill('SIGKILL');
    await a.proc.exited;

    // The device resends all it has no PUBACK for to hub B, then sends one new reading and fault.
    const onB = await deviceOn(b, d.secret);
    cleanup.push(async () => onB.destroy());
    const acked = new Set<number>();
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    parser.on('packet', (p) => p.cmd === 'puback' && acked.add(p.messageId!));
    onB.on('data', (chunk: Buffer) => parser.parse(chunk));
    const resends = Array.from({ length: SENT }, (_, i) => [reading(i + 1), fault(i + 1)]).flat();
    for (const p of resends) p[0] = (p[0] ?? 0) | 0x08; // DUP [MQTT-3.3.1-1]
    onB.write(Buffer.concat([...resends, reading(SENT + 1)]));
    onB.write(fault(SENT + 1));
    // B handles one connection's packets in order: the new fault is shown after any resend would be.
    await eventually(() => (shown.includes(`rs-${SENT + 1}`) ? true : undefined), 20_000);
    expect(shown).toEqual(Array.from({ length: SENT + 1 }, (_, i) => `rs-${i + 1}`));
    // Known or new, each is acknowledged: the device may forget it.
    await eventually(() => (acked.size === 2 * (SENT + 1) ? true : undefined), 20_000);

    // Hub A comes back on its own disk and moves what it journaled into its store.
    const back = await startClusterHub(a.env, a.mqttUrl, cleanup);
    const codes = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => `rs-${from + i}`);
    const onHubA = await eventually(async () => {
      const s = await storedOn(back.api);
      return s.readings === SENT ? s : undefined;
    }, 20_000);
    expect(onHubA.faults).toEqual(codes(1, SENT).sort());
    expect(await storedOn(b.api)).toEqual({ faults: [`rs-${SENT + 1}`], readings: 1 });
  }, 180_000);
});
