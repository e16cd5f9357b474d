import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HubStatus, ProvisionedDevice, RangePoint } from '../contract/index.js';
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
import { fillDisk, mountSmallDisk } from './helpers/small-disk.js';

const SITE = 'xiangshuwan-s1';
const HOUR = 3_600_000;

const disk = mountSmallDisk('store-outage');

describe.skipIf(!disk)('telemetry store outage', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  let dev: ProvisionedDevice;
  let client: MqttClient;

  beforeAll(async () => {
    hub = await testHub({ HUB_DATA_DIR: path.join(disk!, 'data') });
    api = await adminWithSite(hub, SITE);
    dev = await provision(api, SITE, `${SITE}-occ`, 'occupancy_counter');
    client = await connectDevice(hub.mqttUrl, dev.device.id, dev.secret, { clean: false });
  });
  afterAll(async () => {
    await client?.endAsync();
    await hub?.close();
    if (disk) {
      execFileSync('umount', [disk]);
      fs.rmdirSync(disk);
    }
  });

  it('withholds PUBACKs while the disk is full, reports not ready, and catches up without loss', async () => {
    const topic = topicFor(SITE, dev.device.id, 'telemetry');
    const t0 = Date.now();
    const reading = (seq: number) =>
      JSON.stringify({ readings: [{ seq, ts: t0 + seq, values: { occupancy: seq % 9 } }] });
    await client.publishAsync(topic, reading(1), { qos: 1 });

    const socket = liveClient(hub.httpUrl, api.cookie);
    const statuses: HubStatus[] = [];
    socket.on('hub', (s) => statuses.push(s));
    await eventually(() => (statuses.length > 0 ? true : undefined));

    const filler = fillDisk(disk!);
    const acked = new Set<number>();
    const N = 40;
    for (let seq = 2; seq <= N + 1; seq++) {
      client.publish(topic, reading(seq), { qos: 1 }, (err) => !err && acked.add(seq));
    }
    await eventually(async () => ((await api.json('GET', '/readyz')).status === 503 ? true : undefined));
    const ready = await api.json<{ parts: Record<string, boolean> }>('GET', '/readyz');
    expect(ready.body.parts.telemetry).toBe(false);
    await eventually(() => (statuses.at(-1)?.telemetryStore === 'failing' ? true : undefined));
    await new Promise((r) => setTimeout(r, 1000));
    expect(acked.size).toBe(0);

    fs.rmSync(filler);
    await eventually(() => (acked.size === N ? true : undefined), 15_000);
    expect((await api.json('GET', '/readyz')).status).toBe(200);
    await eventually(() => (statuses.at(-1)?.telemetryStore === 'ok' ? true : undefined));

    const from = t0 - (t0 % HOUR);
    const q = new URLSearchParams({
      deviceId: dev.device.id,
      metric: 'occupancy',
      from: String(from),
      to: String(from + 2 * HOUR),
      bucketMs: String(HOUR),
      agg: 'count',
    });
    const points = (await api.json<{ points: RangePoint[] }>('GET', `/api/telemetry/range?${q}`)).body.points;
    expect(points.reduce((n, p) => n + p.count, 0)).toBe(N + 1);
    socket.close();
  });
});
