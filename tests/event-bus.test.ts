import { describe, expect, it } from 'vitest';
import { type BusEventName, busEvents } from '../contract/index.js';
import { EventBus } from '../services/bus/event-bus.js';
import { DeviceRateLimit } from '../services/ingest/rate-limit.js';

const stored = {
  readings: [
    {
      siteId: 'a',
      deviceId: 'a-occ',
      kind: 'occupancy_counter' as const,
      seq: 1,
      ts: 1,
      values: { occupancy: 2 },
    },
  ],
};

describe('event bus', () => {
  it('delivers to every listener in order, and a throwing one breaks neither the emitter nor the others', () => {
    const logged: object[] = [];
    const bus = new EventBus({ error: (obj) => logged.push(obj) });
    const seen: string[] = [];
    bus.on('readings.stored', () => seen.push('first'));
    bus.on('readings.stored', () => {
      throw new Error('a dashboard bug');
    });
    bus.on('readings.stored', (e) => seen.push(`third:${e.readings.length}`));
    expect(() => bus.emit('readings.stored', stored)).not.toThrow();
    expect(seen).toEqual(['first', 'third:1']);
    expect(bus.stats.listenerErrors).toBe(1);
    expect(logged).toHaveLength(1);
  });

  it('removes the listeners a part added when it stops', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.onMany({
      'readings.stored': () => seen.push('r'),
      'device.connected': () => seen.push('c'),
    });
    off();
    bus.emit('readings.stored', stored);
    bus.emit('device.connected', { siteId: 'a', deviceId: 'a-occ' });
    expect(seen).toEqual([]);
    expect(bus.listenerCount('readings.stored')).toBe(0);
  });

  it('carries only payloads that survive JSON, as described by the contract', () => {
    const payloads: { [K in BusEventName]?: unknown } = {
      'readings.stored': stored,
      'device.changed': {
        change: 'disabled',
        device: {
          id: 'a-occ',
          siteId: 'a',
          kind: 'occupancy_counter',
          name: { zh: '计数器' },
          enabled: false,
          createdAt: 1,
        },
      },
      'appointments.changed': {
        siteId: 'a',
        dates: ['2026-12-01'],
        notice: { type: 'booking.created', bookingId: 3 },
      },
      'store.health': { telemetryStore: 'failing', since: 5, message: 'disk full' },
    };
    for (const [name, payload] of Object.entries(payloads)) {
      const roundTrip = JSON.parse(JSON.stringify(payload));
      expect(busEvents[name as BusEventName].parse(roundTrip)).toEqual(payload);
    }
  });
});

describe('device rate limit', () => {
  it('keeps a bounded map when 100,000 distinct device ids each send once', () => {
    const limit = new DeviceRateLimit(20, 200);
    // One new id every millisecond for 100 s; a bucket refills in 200 / 20 = 10 s.
    for (let i = 0; i < 100_000; i++) limit.take(`dev-${i}`, i);
    expect(limit.size).toBeLessThanOrEqual(2 * 10_000 + 1);
  });

  it('drops a full bucket when its device disconnects, and keeps one still draining', () => {
    const limit = new DeviceRateLimit(1, 5);
    limit.take('calm', 0);
    for (let i = 0; i < 10; i++) limit.take('flood', 0);
    limit.release('calm', 2000);
    limit.release('flood', 2000);
    expect(limit.size).toBe(1);
    // Reconnecting does not refill the flooding device's bucket.
    expect(limit.take('flood', 2000)).toBe(true);
    expect(limit.take('flood', 2000)).toBe(true);
    expect(limit.take('flood', 2000)).toBe(false);
  });
});
