import { afterEach, describe, expect, it } from 'vitest';
import { localParts, type SiteLive, topicFor } from '../contract/index.js';
import type { Hub } from '../services/hub.js';
import { alertHub, MIN, settledAlerts, TestDevice } from './helpers/alerts.js';
import type { FakeClock } from './helpers/fake-clock.js';
import { type ApiClient, adminWithSite, connectRefusal, eventually, siteFixture } from './helpers/hub.js';

const SITE = 'fanghuali-n1';
const CLOSED = 'xiangshuwan-e1';
let hub: Hub & { dataDir: string };
let clock: FakeClock;
let api: ApiClient;
const devices: TestDevice[] = [];

/** Opening hours that make the hut closed now (in HUB_TZ) and for the next hour. */
function closedNow(): { open: string; close: string } {
  const h = Number(localParts(Date.now(), 'Asia/Shanghai').time.slice(0, 2));
  const hh = (n: number) => `${String(n % 24).padStart(2, '0')}:00`;
  return { open: hh(h + 3), close: hh(h + 4) };
}

async function setup() {
  ({ hub, clock } = await alertHub());
  api = await adminWithSite(hub, SITE);
  await api.json('POST', '/api/sites', siteFixture(CLOSED, { openingHours: closedNow() }));
}
/** Until the hub has seen the device's connection drop. */
async function seenOffline(deviceId: string, site = SITE) {
  await eventually(async () => {
    const live = (await api.json<SiteLive>('GET', `/api/sites/${site}/live`)).body;
    return live.devices.find((d) => d.id === deviceId)?.online === false ? true : undefined;
  });
}

async function device(id: string, kind: Parameters<typeof TestDevice.connect>[4], site = SITE) {
  const d = await TestDevice.connect(hub, api, site, id, kind);
  devices.push(d);
  return d;
}

afterEach(async () => {
  for (const d of devices.splice(0)) await d.end(true).catch(() => {});
  await hub?.close();
});

describe('device rules', () => {
  it('door open longer than 15 min while open; opened outside opening hours (critical, after 2 min)', async () => {
    await setup();
    const door = await device('door-1', 'door_sensor');
    const night = await device('door-2', 'door_sensor', CLOSED);
    await door.event('door_opened');
    await night.event('door_opened');
    await clock.advance(2 * MIN + 1000);
    expect(await settledAlerts(hub, api, 'door_after_hours')).toMatchObject([
      { siteId: CLOSED, deviceId: 'door-2', severity: 'critical', state: 'active' },
    ]);
    await door.event('door_opened'); // keeps it seen
    await clock.advance(13 * MIN);
    expect(await settledAlerts(hub, api, 'door_open_long')).toMatchObject([{ deviceId: 'door-1' }]);
    await door.event('door_closed');
    await night.event('door_closed');
    await clock.advance(2000);
    const ended = [
      ...(await settledAlerts(hub, api, 'door_open_long')),
      ...(await settledAlerts(hub, api, 'door_after_hours')),
    ];
    expect(ended.map((a) => a.state)).toEqual(['cleared', 'cleared']);
  });

  it('air conditioner on while the hut is closed, for 15 min', async () => {
    await setup();
    const ac = await device('ac-1', 'air_conditioner', CLOSED);
    const dayAc = await device('ac-2', 'air_conditioner');
    await ac.reading({ on: true, setpoint_c: 24 });
    await dayAc.reading({ on: true, setpoint_c: 24 });
    for (let i = 0; i < 16; i++) {
      await clock.advance(MIN);
      await ac.reading({ on: true, setpoint_c: 24 });
      await dayAc.reading({ on: true, setpoint_c: 24 });
    }
    expect(await settledAlerts(hub, api, 'ac_on_closed')).toMatchObject([
      { deviceId: 'ac-1', state: 'active' },
    ]);
    await ac.reading({ on: false, setpoint_c: 24 });
    await clock.advance(1000);
    expect((await settledAlerts(hub, api, 'ac_on_closed'))[0]!.state).toBe('cleared');
  });

  it('occupancy above the seats (sum of two counters) for 5 min; clears once a seat is free', async () => {
    await setup();
    const a = await device('occ-a', 'occupancy_counter');
    const b = await device('occ-b', 'occupancy_counter');
    await a.reading({ occupancy: 6 });
    await b.reading({ occupancy: 4 }); // 10 people, 8 seats
    await clock.advance(5 * MIN + 1000);
    expect(await settledAlerts(hub, api, 'over_seats')).toMatchObject([
      { siteId: SITE, deviceId: null, value: 10, detail: { seats: 8 } },
    ]);
    await b.reading({ occupancy: 2 }); // 8: not above, but no seat free — holds
    await clock.advance(3 * MIN);
    expect((await settledAlerts(hub, api, 'over_seats'))[0]!.state).toBe('active');
    await b.reading({ occupancy: 1 });
    await a.reading({ occupancy: 6 });
    await clock.advance(2 * MIN + 1000);
    expect((await settledAlerts(hub, api, 'over_seats'))[0]!.state).toBe('cleared');
  });

  it('umbrella cabinet empty for 10 min raises; one returned umbrella does not clear it', async () => {
    await setup();
    const cab = await device('cab-1', 'lending_cabinet');
    await cab.reading({ umbrellas: 0, raincoats: 5 });
    for (let i = 0; i < 10; i++) {
      await clock.advance(MIN);
      await cab.reading({ umbrellas: 0, raincoats: 5 });
    }
    await clock.advance(1000);
    expect(await settledAlerts(hub, api, 'umbrellas_empty')).toMatchObject([{ severity: 'info' }]);
    expect(await settledAlerts(hub, api, 'raincoats_empty')).toHaveLength(0);
    await cab.reading({ umbrellas: 1, raincoats: 5 });
    await clock.advance(2 * MIN);
    expect((await settledAlerts(hub, api, 'umbrellas_empty'))[0]!.state).toBe('active');
  });

  it('a fault event raises at once with its code; fault_cleared clears', async () => {
    await setup();
    const mw = await device('mw-1', 'microwave');
    await mw.event('fault', { code: 'E42', message: 'magnetron overheated' });
    await clock.advance(1000);
    expect(await settledAlerts(hub, api, 'device_fault')).toMatchObject([
      { deviceId: 'mw-1', detail: { code: 'E42' }, state: 'active' },
    ]);
    await mw.event('fault_cleared');
    await clock.advance(1000);
    expect((await settledAlerts(hub, api, 'device_fault'))[0]!.state).toBe('cleared');
  });

  it('refused messages and failed logins of one device above their rate', async () => {
    await setup();
    const bad = await device('occ-bad', 'occupancy_counter');
    for (let i = 0; i < 29; i++) {
      await bad.client.publishAsync(topicFor(SITE, 'occ-bad', 'telemetry'), 'not json', { qos: 1 });
    }
    await clock.advance(1000);
    expect(await settledAlerts(hub, api, 'refused_messages')).toHaveLength(0);
    await bad.client.publishAsync(topicFor(SITE, 'occ-bad', 'telemetry'), 'not json', { qos: 1 });
    await clock.advance(1000);
    expect(await settledAlerts(hub, api, 'refused_messages')).toMatchObject([
      { deviceId: 'occ-bad', value: 30, detail: { code: 'PAYLOAD_NOT_JSON' } },
    ]);
    for (let i = 0; i < 5; i++) await connectRefusal(hub.mqttUrl, 'occ-bad', 'wrong-secret');
    await clock.advance(1000);
    expect(await settledAlerts(hub, api, 'auth_failures')).toMatchObject([{ deviceId: 'occ-bad', value: 5 }]);
    // Quiet for the window and the clear duration: cleared.
    await bad.reading({ occupancy: 1 });
    await clock.advance(25 * MIN);
    expect((await settledAlerts(hub, api, 'refused_messages'))[0]!.state).toBe('cleared');
  });
});

describe('availability', () => {
  it('a Last Will raises offline after its minute; a reconnect within it raises nothing', async () => {
    await setup();
    const keep = await device('env-1', 'environment_sensor');
    const flaky = await device('occ-1', 'occupancy_counter');
    flaky.client.stream.destroy(); // no DISCONNECT: the broker publishes the Last Will
    await seenOffline('occ-1');
    await clock.advance(30_000);
    await keep.reading({ temperature_c: 20, humidity_pct: 40 });
    await flaky.reconnect();
    await flaky.reading({ occupancy: 1 });
    await clock.advance(MIN);
    await keep.reading({ temperature_c: 20, humidity_pct: 40 });
    await flaky.reading({ occupancy: 1 });
    expect(await settledAlerts(hub, api, 'device_offline')).toHaveLength(0);
    flaky.client.stream.destroy();
    // The fake clock must not run ahead of the hub noticing the dropped link (a loaded machine is slow to).
    await seenOffline('occ-1');
    await clock.advance(30_000);
    await keep.reading({ temperature_c: 20, humidity_pct: 40 });
    expect(await settledAlerts(hub, api, 'device_offline')).toHaveLength(0);
    await clock.advance(31_000);
    expect(await settledAlerts(hub, api, 'device_offline')).toMatchObject([
      { deviceId: 'occ-1', state: 'active', parentId: null, detail: { lastWill: true } },
    ]);
  });

  it('a device silent for 3 of its intervals goes offline, and clears a minute after it is back', async () => {
    await setup();
    const keep = await device('env-1', 'environment_sensor');
    const quiet = await device('occ-1', 'occupancy_counter');
    for (let i = 0; i < 4; i++) {
      await keep.reading({ temperature_c: 20, humidity_pct: 40 });
      await clock.advance(MIN);
    }
    await clock.advance(1000);
    expect(await settledAlerts(hub, api, 'device_offline')).toMatchObject([
      { deviceId: 'occ-1', state: 'active', detail: { lastWill: false } },
    ]);
    await quiet.reading({ occupancy: 2 });
    await keep.reading({ temperature_c: 20, humidity_pct: 40 });
    await clock.advance(MIN + 1000);
    expect((await settledAlerts(hub, api, 'device_offline'))[0]!.state).toBe('cleared');
  });

  it('all devices of a site dropping raise one site alert, the device alerts folded under it', async () => {
    await setup();
    const ds = [
      await device('occ-1', 'occupancy_counter'),
      await device('door-1', 'door_sensor'),
      await device('water-1', 'water_dispenser'),
    ];
    for (const d of ds) d.client.stream.destroy();
    for (const id of ['occ-1', 'door-1', 'water-1']) await seenOffline(id);
    await clock.advance(2 * MIN);
    const [dark] = await settledAlerts(hub, api, 'site_dark');
    expect(dark).toMatchObject({ siteId: SITE, deviceId: null, severity: 'critical', state: 'active' });
    const folded = await settledAlerts(hub, api, 'device_offline');
    expect(folded).toHaveLength(3);
    for (const a of folded) expect(a.parentId).toBe(dark!.id);
  });
});
