import { afterEach, describe, expect, it } from 'vitest';
import type { Hub } from '../services/hub.js';
import { alertHub, MIN, settledAlerts, TestDevice } from './helpers/alerts.js';
import type { FakeClock } from './helpers/fake-clock.js';
import { type ApiClient, adminWithSite } from './helpers/hub.js';

const SITE = 'fanghuali-n1';
let hub: Hub & { dataDir: string };
let clock: FakeClock;
let api: ApiClient;
const devices: TestDevice[] = [];

async function setup() {
  ({ hub, clock } = await alertHub());
  api = await adminWithSite(hub, SITE);
}
async function device(id: string, kind: Parameters<typeof TestDevice.connect>[4]) {
  const d = await TestDevice.connect(hub, api, SITE, id, kind);
  devices.push(d);
  return d;
}

afterEach(async () => {
  for (const d of devices.splice(0)) await d.end(true).catch(() => {});
  await hub?.close();
});

describe('threshold rules: duration and hysteresis', () => {
  it('water level low raises after its 2 min and clears only above 25 % held for 1 min', async () => {
    await setup();
    const w = await device('water-1', 'water_dispenser');
    await w.reading({ on: true, water_level_pct: 10 });
    await clock.advance(1 * MIN);
    expect(await settledAlerts(hub, api, 'water_low')).toHaveLength(0);
    await clock.advance(1 * MIN + 1000);
    const [raised] = await settledAlerts(hub, api, 'water_low');
    expect(raised).toMatchObject({ state: 'active', severity: 'warning', deviceId: 'water-1', value: 10 });

    // Back to 20 %: above the raise level but below the clear level — still open.
    await w.reading({ on: true, water_level_pct: 20 });
    await clock.advance(5 * MIN);
    expect((await settledAlerts(hub, api, 'water_low'))[0]!.state).toBe('active');

    await w.reading({ on: true, water_level_pct: 80 });
    await clock.advance(30_000);
    expect((await settledAlerts(hub, api, 'water_low'))[0]!.state).toBe('active');
    await clock.advance(31_000);
    const [cleared] = await settledAlerts(hub, api, 'water_low');
    expect(cleared).toMatchObject({ state: 'cleared', id: raised!.id });
    expect(cleared!.endedAt).not.toBeNull();
  });

  it('a value oscillating around the threshold raises once and does not flap', async () => {
    await setup();
    const w = await device('water-1', 'water_dispenser');
    // Below for 1 min, just above for a bit: the pending wait restarts, nothing is raised.
    for (let i = 0; i < 4; i++) {
      await w.reading({ on: true, water_level_pct: 14 });
      await clock.advance(MIN);
      await w.reading({ on: true, water_level_pct: 16 });
      await clock.advance(10_000);
    }
    expect(await settledAlerts(hub, api, 'water_low')).toHaveLength(0);
    await w.reading({ on: true, water_level_pct: 14 });
    await clock.advance(2 * MIN + 1000);
    expect(await settledAlerts(hub, api, 'water_low')).toHaveLength(1);
    // Oscillating between 14 and 16 (both below the clear level of 25) for 20 minutes: one alert.
    for (let i = 0; i < 20; i++) {
      await w.reading({ on: true, water_level_pct: i % 2 ? 14 : 16 });
      await clock.advance(MIN);
    }
    const all = await settledAlerts(hub, api, 'water_low');
    expect(all).toHaveLength(1);
    expect(all[0]!.state).toBe('active');
  });

  it('an indoor temperature of −3.5 °C raises the freezing alert (critical) and the low one', async () => {
    await setup();
    const env = await device('env-1', 'environment_sensor');
    await env.reading({ temperature_c: -3.5, humidity_pct: 40 });
    await clock.advance(5 * MIN + 1000);
    expect(await settledAlerts(hub, api, 'temperature_freezing')).toMatchObject([
      { state: 'active', severity: 'critical', value: -3.5 },
    ]);
    await clock.advance(5 * MIN);
    expect(await settledAlerts(hub, api, 'temperature_low')).toMatchObject([{ state: 'active' }]);
    await env.reading({ temperature_c: 1, humidity_pct: 40 });
    await clock.advance(10 * MIN);
    expect((await settledAlerts(hub, api, 'temperature_freezing'))[0]!.state).toBe('active');
    await env.reading({ temperature_c: 3, humidity_pct: 40 });
    await clock.advance(5 * MIN + 1000);
    expect((await settledAlerts(hub, api, 'temperature_freezing'))[0]!.state).toBe('cleared');
  });
});
