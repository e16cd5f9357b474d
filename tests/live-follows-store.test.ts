import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestErrorCount, ProvisionedDevice, SiteLive } from '../contract/index.js';
import { topicFor } from '../contract/index.js';
import {
  type ApiClient,
  adminWithSite,
  connectDevice,
  connectRefusal,
  eventually,
  provision,
  testHub,
} from './helpers/hub.js';

const SITE = 'lianhua-w4';
const MIN = 60_000;

/**
 * The live view shows what the store holds: only readings that were new move it, a resend of a
 * stored seq with another value changes nothing, and a late backfill never moves a value back in time.
 */
describe('live state follows the store', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  let front: ProvisionedDevice;
  let back: ProvisionedDevice;
  let frontClient: MqttClient;
  let backClient: MqttClient;

  const live = async () => (await api.json<SiteLive>('GET', `/api/sites/${SITE}/live`)).body;
  const deviceValue = async (id: string) => (await live()).devices.find((d) => d.id === id)?.values.occupancy;
  const publish = (client: MqttClient, device: ProvisionedDevice, readings: object[]) =>
    client.publishAsync(topicFor(SITE, device.device.id, 'telemetry'), JSON.stringify({ readings }), {
      qos: 1,
    });
  /** Live state is coalesced every 25 ms; a marker reading on the other counter shows it has caught up. */
  let marker = 1000;
  const settled = async () => {
    marker += 1;
    const m = marker % 400;
    await publish(backClient, back, [{ seq: marker, ts: Date.now(), values: { occupancy: m } }]);
    await eventually(async () => ((await deviceValue(back.device.id)) === m ? true : undefined));
  };

  beforeAll(async () => {
    hub = await testHub();
    api = await adminWithSite(hub, SITE);
    front = await provision(api, SITE, `${SITE}-occ-front`, 'occupancy_counter');
    back = await provision(api, SITE, `${SITE}-occ-back`, 'occupancy_counter');
    frontClient = await connectDevice(hub.mqttUrl, front.device.id, front.secret);
    backClient = await connectDevice(hub.mqttUrl, back.device.id, back.secret);
  });

  afterAll(async () => {
    await frontClient?.endAsync();
    await backClient?.endAsync();
    await hub?.close();
  });

  it('ignores a resent seq that carries another value, as the store does', async () => {
    const ts = Date.now();
    await publish(frontClient, front, [{ seq: 1, ts, values: { occupancy: 4 } }]);
    await eventually(async () => ((await deviceValue(front.device.id)) === 4 ? true : undefined));
    await publish(frontClient, front, [{ seq: 1, ts: ts + 1, values: { occupancy: 9 } }]);
    await settled();
    expect(await deviceValue(front.device.id)).toBe(4);
  });

  it('never moves a value back in time when a buffered backlog arrives late', async () => {
    const now = Date.now();
    await publish(frontClient, front, [{ seq: 10, ts: now, values: { occupancy: 5 } }]);
    await eventually(async () => ((await deviceValue(front.device.id)) === 5 ? true : undefined));
    await publish(frontClient, front, [
      { seq: 2, ts: now - 30 * MIN, values: { occupancy: 1 } },
      { seq: 3, ts: now - 20 * MIN, values: { occupancy: 2 } },
    ]);
    await settled();
    expect(await deviceValue(front.device.id)).toBe(5);
  });

  it('sums the counters of a hut with two entrances and says how many it summed', async () => {
    await publish(frontClient, front, [{ seq: 20, ts: Date.now(), values: { occupancy: 3 } }]);
    await publish(backClient, back, [{ seq: 5000, ts: Date.now(), values: { occupancy: 2 } }]);
    const site = await eventually(async () => {
      const l = await live();
      return l.occupancy === 5 ? l : undefined;
    });
    expect(site.occupancyCounters).toBe(2);
  });

  it('counts wrong secrets against the device id they were tried for, and nothing for unknown ids', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await connectRefusal(hub.mqttUrl, front.device.id, `wrong-${i}`)).code).toBe(4);
    }
    expect((await connectRefusal(hub.mqttUrl, 'nobody-here', 'x')).code).toBe(4);
    const errors = (await api.json<{ errors: IngestErrorCount[] }>('GET', '/api/ingest/errors')).body.errors;
    const failed = errors.filter((e) => e.code === 'AUTH_FAILED');
    expect(failed.map((e) => [e.deviceId, e.count])).toEqual([[front.device.id, 3]]);
  });
});
