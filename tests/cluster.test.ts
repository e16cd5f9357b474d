import type { MqttClient } from 'mqtt';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SiteLive } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import { createSession, mobile, publicJson } from './helpers/appointments.js';
import { type ClusterHub, clusterServicesMissing, startCluster } from './helpers/cluster.js';
import { connectDevice, eventually, liveClient, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll } from './helpers/hub-process.js';

const missing = await clusterServicesMissing();
if (missing) console.log(`cluster tests skipped: ${missing}`);

const SITE = 'clu-1';
const snapshotOf = (live: ReturnType<typeof liveClient>) =>
  new Promise<{ live: SiteLive[] }>((resolve) => live.once('snapshot', resolve));

describe.skipIf(missing !== undefined)('two hubs linked by Redis', () => {
  const cleanup = cleanupAfterAll();
  let a: ClusterHub;
  let b: ClusterHub;

  beforeAll(async () => {
    const env = { APPOINTMENT_SWEEP_S: '1', PUBLIC_RATE_LIMIT_MAX: '1000' };
    [a, b] = (await startCluster(cleanup, { env })).hubs as [ClusterHub, ClusterHub];
    expect((await a.api.json('POST', '/api/sites', siteFixture(SITE))).status).toBe(201);
  }, 180_000);

  const device = async (hub: ClusterHub, id: string, kind: Parameters<typeof provision>[3]) => {
    const d = await provision(a.api, SITE, id, kind);
    const client = await connectDevice(hub.mqttUrl, d.device.id, d.secret, { clean: false, clientId: id });
    cleanup.push(() => client.endAsync(true));
    return { ...d, client };
  };

  it('a dashboard on hub B sees the readings of a device on hub A live, in a snapshot merged from both', async () => {
    const live = liveClient(b.url, b.api.cookie);
    cleanup.push(async () => live.close());
    const sites: SiteLive[] = [];
    live.on('sites', (ls) => sites.push(...ls));
    await snapshotOf(live);

    const onA = await device(a, 'clu-count-a', 'occupancy_counter');
    const onB = await device(b, 'clu-count-b', 'occupancy_counter');
    const send = (c: MqttClient, id: string, seq: number, occupancy: number) =>
      c.publishAsync(
        topicFor(SITE, id, 'telemetry'),
        JSON.stringify({ readings: [{ seq, ts: Date.now(), values: { occupancy } }] }),
        { qos: 1 },
      );
    await send(onA.client, 'clu-count-a', 1, 5);
    await send(onB.client, 'clu-count-b', 1, 3);
    // Both counters of the hut, one on each hub: the people inside are their sum on either hub.
    const merged = await eventually(
      () => sites.find((s) => s.siteId === SITE && s.occupancy === 8 && s.devicesOnline === 2),
      20_000,
    );
    expect(merged.occupancyCounters).toBe(2);

    const fresh = liveClient(a.url, a.api.cookie);
    cleanup.push(async () => fresh.close());
    const snapshot = await snapshotOf(fresh);
    expect(snapshot.live.find((s) => s.siteId === SITE)).toMatchObject({ occupancy: 8, devicesOnline: 2 });
  });

  it("a command sent through hub B's API reaches the device on hub A, and its result comes back to B", async () => {
    const ac = await device(a, 'clu-ac', 'air_conditioner');
    await ac.client.subscribeAsync(topicFor(SITE, 'clu-ac', 'cmd'), { qos: 1 });
    ac.client.on('message', (_topic, payload) => {
      const cmd = JSON.parse(payload.toString()) as { id: string };
      const result = { events: [{ seq: 1, ts: Date.now(), type: 'cmd_result', code: cmd.id, ok: true }] };
      ac.client.publish(topicFor(SITE, 'clu-ac', 'event'), JSON.stringify(result), { qos: 1 });
    });
    const live = liveClient(b.url, b.api.cookie);
    cleanup.push(async () => live.close());
    await snapshotOf(live);
    const results: { type: string; code?: string }[] = [];
    live.on('deviceEvent', (e) => results.push(e));

    const sent = await b.api.json('POST', '/api/devices/clu-ac/commands', {
      id: 'c-1',
      action: 'set_power',
      on: true,
    });
    expect(sent.status).toBe(202);
    await eventually(() => results.find((e) => e.type === 'cmd_result' && e.code === 'c-1'), 20_000);
  });

  it('commands a device has not acknowledged are counted across hubs', async () => {
    // Subscribed, never connected again: its persistent session queues what it is sent.
    const quiet = await device(a, 'clu-quiet', 'microwave');
    await quiet.client.subscribeAsync(topicFor(SITE, 'clu-quiet', 'cmd'), { qos: 1 });
    await quiet.client.endAsync();
    // Hub A forgets a device's count when it goes; wait for that, or it could land amid the sends.
    await eventually(async () => {
      const r = await a.api.json<SiteLive>('GET', `/api/sites/${SITE}/live`);
      return r.body.devices.find((d) => d.id === 'clu-quiet')?.online === false ? true : undefined;
    }, 20_000);
    const send = (hub: ClusterHub, i: number) =>
      hub.api.json('POST', '/api/devices/clu-quiet/commands', { id: `q-${i}`, action: 'reboot' });
    for (let i = 0; i < 20; i++) expect((await send(i % 2 ? a : b, i)).status).toBe(202);
    const refused = await send(b, 20);
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'DEVICE_BUSY' });

    // It comes back on hub B and finds the commands queued on hub A's side of its session.
    const received: string[] = [];
    const back = await connectDevice(b.mqttUrl, 'clu-quiet', quiet.secret, {
      clean: false,
      clientId: 'clu-quiet',
    });
    cleanup.push(() => back.endAsync(true));
    back.on('message', (_t, p) => received.push((JSON.parse(p.toString()) as { id: string }).id));
    await eventually(() => (received.length === 20 ? true : undefined), 20_000);
    expect(new Set(received).size).toBe(20);
    expect((await send(a, 21)).status).toBe(202);
  });

  it('disabling a device on hub B disconnects it from hub A', async () => {
    const door = await device(a, 'clu-door', 'door_sensor');
    const closed = new Promise<void>((resolve) => door.client.once('close', () => resolve()));
    expect((await b.api.json('POST', '/api/devices/clu-door/disable')).status).toBe(200);
    await closed;
    const again = await connectDevice(a.mqttUrl, 'clu-door', door.secret).catch((err: Error) => err);
    expect(again).toBeInstanceOf(Error);
  });

  it('bookings for one slot made on both hubs at once never exceed its capacity', async () => {
    const session = await createSession(a.api, SITE, { capacityPerSlot: 4 });
    const slot = session.slots[0]!.startAt;
    const tries = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        publicJson((i % 2 ? a : b).url, 'POST', '/api/public/bookings', {
          sessionId: session.id,
          slotStartAt: slot,
          name: `居民${i}`,
          mobile: mobile(7000 + i),
          screening: 'blood_pressure',
        }),
      ),
    );
    const statuses = tries.map((t) => t.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(4);
    expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
  });

  it('the no-show sweep runs on one hub only, and does its work', async () => {
    const session = await createSession(a.api, SITE, { date: '2031-03-04', capacityPerSlot: 2 });
    const booked = await publicJson<{ code: string }>(b.url, 'POST', '/api/public/bookings', {
      sessionId: session.id,
      slotStartAt: session.slots[0]!.startAt,
      name: '赵六',
      mobile: mobile(8001),
      screening: 'blood_glucose',
    });
    expect(booked.status).toBe(201);
    // Its slot ended long ago, as if the resident never came.
    const db = new pg.Client({ connectionString: a.env.DATABASE_URL });
    await db.connect();
    cleanup.push(() => db.end());
    await db.query('update appointment_bookings set slot_start = 0, slot_end = 1 where code = $1', [
      booked.body.code,
    ]);
    await eventually(async () => {
      const r = await db.query('select status from appointment_bookings where code = $1', [booked.body.code]);
      return r.rows[0]?.status === 'no_show' ? true : undefined;
    }, 20_000);
    const leases = await Promise.all(
      [a, b].map(async (h) => {
        const stats = await h.api.json<{
          cluster: { leases: Record<string, { held: boolean; starts: number }> };
        }>('GET', '/api/stats');
        return stats.body.cluster.leases['appointment-sweep']!;
      }),
    );
    expect(leases.filter((l) => l.held)).toHaveLength(1);
    expect(leases.map((l) => l.starts).sort()).toEqual([0, 1]);
  });
});
