import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { localParts, type ProvisionedDevice, type PublicStations, topicFor } from '../contract/index.js';
import { createSession } from './helpers/appointments.js';
import {
  type ApiClient,
  adminWithSite,
  connectDevice,
  eventually,
  provision,
  siteFixture,
  testHub,
} from './helpers/hub.js';

/** Every call on the telemetry store, counted by method: the finder must make none. */
const storeCalls = vi.hoisted(() => new Map<string, number>());
vi.mock('../services/telemetry/duckdb-store.js', async (importOriginal) => {
  const mod = await importOriginal<typeof import('../services/telemetry/duckdb-store.js')>();
  return {
    ...mod,
    openDuckDbStore: async (...args: Parameters<typeof mod.openDuckDbStore>) => {
      const store = await mod.openDuckDbStore(...args);
      return new Proxy(store, {
        get(target, key, receiver) {
          const v = Reflect.get(target, key, receiver);
          if (typeof v !== 'function') return v;
          return (...a: unknown[]) => {
            storeCalls.set(String(key), (storeCalls.get(String(key)) ?? 0) + 1);
            return v.apply(target, a);
          };
        },
      });
    },
  };
});

const SITE = 'finder-a';
const OTHER = 'finder-b';

describe('public station finder API (issue 16)', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let api: ApiClient;
  let water: ProvisionedDevice;
  let cabinet: ProvisionedDevice;
  let waterClient: MqttClient;
  let cabinetClient: MqttClient;
  let seq = 0;

  const publish = (client: MqttClient, d: ProvisionedDevice, values: object) =>
    client.publishAsync(
      topicFor(SITE, d.device.id, 'telemetry'),
      JSON.stringify({ readings: [{ seq: ++seq, ts: Date.now(), values }] }),
      { qos: 1 },
    );
  const station = async () => {
    const res = await fetch(`${hub.httpUrl}/api/public/stations/${SITE}`);
    return ((await res.json()) as PublicStations).stations[0]!;
  };

  beforeAll(async () => {
    hub = await testHub({ PUBLIC_RATE_LIMIT_MAX: 5000 });
    api = await adminWithSite(hub, SITE);
    await api.json('POST', '/api/sites', siteFixture(OTHER, { community: { zh: '阿里', en: 'Ali' } }));
    water = await provision(api, SITE, `${SITE}-water`, 'water_dispenser');
    cabinet = await provision(api, SITE, `${SITE}-cabinet`, 'lending_cabinet');
    waterClient = await connectDevice(hub.mqttUrl, water.device.id, water.secret);
    cabinetClient = await connectDevice(hub.mqttUrl, cabinet.device.id, cabinet.secret);
  });

  afterAll(async () => {
    await waterClient?.endAsync();
    await cabinetClient?.endAsync();
    await hub?.close();
  });

  it('a site without data is unknown; with working devices it is usable', async () => {
    const other = (await (
      await fetch(`${hub.httpUrl}/api/public/stations/${OTHER}`)
    ).json()) as PublicStations;
    expect(other.stations[0]!.answer.state).toBe('unknown');
    await publish(waterClient, water, { on: true, water_level_pct: 70 });
    await publish(cabinetClient, cabinet, { umbrellas: 2, raincoats: 1 });
    await eventually(async () => ((await station()).answer.state === 'usable' ? true : undefined));
  });

  it('follows live device changes: water empty, then the cabinet empty, then refilled', async () => {
    await publish(waterClient, water, { on: true, water_level_pct: 1 });
    await eventually(async () => {
      const s = await station();
      return s.answer.missing.join() === 'water' ? true : undefined;
    });
    await publish(cabinetClient, cabinet, { umbrellas: 0, raincoats: 0 });
    await eventually(async () =>
      (await station()).answer.missing.join() === 'water,umbrellas,raincoats' ? true : undefined,
    );
    await publish(waterClient, water, { on: true, water_level_pct: 90 });
    await publish(cabinetClient, cabinet, { umbrellas: 5, raincoats: 5 });
    await eventually(async () => ((await station()).answer.state === 'usable' ? true : undefined));
  });

  it('full: the people counted inside reach the seats (8), then one leaves', async () => {
    const counter = await provision(api, SITE, `${SITE}-occ`, 'occupancy_counter');
    const client = await connectDevice(hub.mqttUrl, counter.device.id, counter.secret);
    try {
      await publish(client, counter, { occupancy: 8 });
      await eventually(async () => {
        const a = (await station()).answer;
        return a.state === 'partly' && a.missing.join() === 'seats' && a.seatsFree === 0 ? true : undefined;
      });
      await publish(client, counter, { occupancy: 7 });
      await eventually(async () => ((await station()).answer.seatsFree === 1 ? true : undefined));
    } finally {
      await client.endAsync();
    }
  });

  it('replies carry no device ids, device names or secrets (raw text)', async () => {
    const text = await (await fetch(`${hub.httpUrl}/api/public/stations`)).text();
    expect(text).toContain(SITE);
    expect(text).toContain(OTHER);
    for (const forbidden of [
      water.device.id,
      cabinet.device.id,
      water.secret,
      'devices',
      'fault',
      'rssi',
      'fw',
    ]) {
      expect(text).not.toContain(`"${forbidden}`);
    }
    expect(text).not.toContain(water.device.id);
  });

  it("carries no residents' data: a booking's name and number never appear; only 'screening today'", async () => {
    // A session an hour or two from now, today in the hub's zone, with one booking.
    const start = localParts(Date.now() + 3_600_000, 'Asia/Shanghai');
    const end = localParts(Date.now() + 2 * 3_600_000, 'Asia/Shanghai');
    const today = localParts(Date.now(), 'Asia/Shanghai').date;
    if (start.date !== today || end.date !== today) return; // near midnight: nothing to book today
    const session = await createSession(api, SITE, {
      date: today,
      start: start.time,
      end: end.time,
      slotMinutes: 60,
      repeatWeeks: 1,
    });
    const booked = await fetch(`${hub.httpUrl}/api/public/bookings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        sessionId: session.id,
        slotStartAt: session.slots[0]!.startAt,
        name: '欧阳娜娜',
        mobile: '13712345671',
        screening: session.screenings[0],
      }),
    });
    expect(booked.status).toBe(201);
    await eventually(async () => ((await station()).answer.screeningToday ? true : undefined));
    const text = await (await fetch(`${hub.httpUrl}/api/public/stations`)).text();
    for (const personal of ['欧阳娜娜', '13712345671', '5671', '王医生'])
      expect(text).not.toContain(personal);
  });

  it('answers with an ETag and 304 when nothing changed; unknown site is SITE_NOT_FOUND', async () => {
    const first = await fetch(`${hub.httpUrl}/api/public/stations`);
    const etag = first.headers.get('etag')!;
    expect(first.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const again = await fetch(`${hub.httpUrl}/api/public/stations`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const missing = await fetch(`${hub.httpUrl}/api/public/stations/nowhere-1`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('SITE_NOT_FOUND');
  });

  it('1,000 concurrent requests are served from the snapshot without touching the telemetry store', async () => {
    storeCalls.clear();
    const builds = hub.finder.stats.builds;
    const requests = hub.finder.stats.requests;
    const replies = await Promise.all(
      Array.from({ length: 1000 }, () => fetch(`${hub.httpUrl}/api/public/stations`).then((r) => r.status)),
    );
    expect(replies.every((s) => s === 200)).toBe(true);
    expect(hub.finder.stats.requests - requests).toBe(1000);
    expect(hub.finder.stats.builds - builds).toBeLessThanOrEqual(2);
    // Reads a request could make (latest, range, events); writes of ingest are not the finder's.
    for (const read of ['latest', 'range', 'eventCounts', 'events', 'check']) {
      expect(storeCalls.get(read) ?? 0).toBe(0);
    }
  });

  it("serves a site's A5 QR poster to staff, with its name and finder link", async () => {
    const res = await api.request('GET', `/api/sites/${SITE}/poster.svg`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    const svg = await res.text();
    expect(svg).toContain('width="148mm" height="210mm"');
    expect(svg).toContain('芳华里北门健康驿站');
    expect(svg).toContain(`/stations/${SITE}`);
    expect(svg).toMatch(/<path[^>]+d="M/);
    expect((await fetch(`${hub.httpUrl}/api/sites/${SITE}/poster.svg`)).status).toBe(401);
  });

  it('every device gone offline: unknown, not a guess', async () => {
    // The counter above has already disconnected; now the dispenser and the cabinet go too.
    await waterClient.endAsync();
    await cabinetClient.endAsync();
    await eventually(async () => ((await station()).answer.state === 'unknown' ? true : undefined));
  });

  it('is rate-limited like the other public routes', async () => {
    const small = await testHub({ PUBLIC_RATE_LIMIT_MAX: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${small.httpUrl}/api/public/stations`)).status);
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses[4]).toBe(429);
    } finally {
      await small.close();
    }
  });
});
