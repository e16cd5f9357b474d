import { describe, expect, it } from 'vitest';
import type { PublicStations, Site, SiteLive } from '../contract/index.js';
import { EventBus } from '../services/bus/event-bus.js';
import { FinderSnapshot } from '../services/finder/snapshot.js';

/** The finder's snapshot alone: events only mark it dirty, requests rebuild it, the clock closes huts. */
const site: Site = {
  id: 'snap-1',
  name: { zh: '一号', en: 'One' },
  type: 'health',
  community: { zh: '东湖' },
  address: { zh: '' },
  lat: 30,
  lng: 114,
  openingHours: { open: '08:00', close: '20:00' },
  seats: 4,
  createdAt: 0,
};
const live = (lastUpdate: number, occupancy: number): SiteLive => ({
  siteId: 'snap-1',
  open: true,
  occupancy,
  occupancyCounters: 1,
  seats: 4,
  doorOpen: null,
  devicesOnline: 0,
  devicesTotal: 0,
  lastUpdate,
  health: 'ok',
  issues: [],
  devices: [],
});
// 19:59:50 in Shanghai.
const T0 = Date.UTC(2026, 11, 1, 11, 59, 50);

async function snapshot() {
  let now = T0;
  const bus = new EventBus();
  const finder = new FinderSnapshot({
    bus,
    sites: { list: async () => [site] },
    live: { snapshot: () => [live(T0, 1)] },
    screening: { today: () => '2026-12-01', days: async () => [] },
    timeZone: 'Asia/Shanghai',
    staleAfterMs: 300_000,
    now: () => now,
  });
  await finder.start();
  const read = () => JSON.parse(finder.all().body) as PublicStations;
  return { finder, bus, read, tick: (ms: number) => (now += ms) };
}

describe('finder snapshot', () => {
  it('serves many requests from one build; a change is built at most once a second', async () => {
    const { finder, bus, read, tick } = await snapshot();
    for (let i = 0; i < 100; i++) read();
    expect(finder.stats.builds).toBe(1);
    bus.emit('live.sites', { sites: [live(T0, 4)] });
    expect(read().stations[0]!.answer.seatsFree).toBe(3); // not yet: under a second old
    tick(1000);
    expect(read().stations[0]!.answer).toMatchObject({ seatsFree: 0, state: 'partly', missing: ['seats'] });
    expect(finder.stats.builds).toBe(2);
    await finder.stop();
  });

  it('keeps the ETag when a rebuild changed nothing, and follows the clock past closing time', async () => {
    const { finder, bus, read, tick } = await snapshot();
    const etag = finder.all().etag;
    bus.emit('live.sites', { sites: [live(T0, 1)] }); // the same again
    tick(1_000);
    expect(read().stations[0]!.answer.state).toBe('usable');
    expect(finder.stats.builds).toBe(2);
    expect(finder.all().etag).toBe(etag);
    tick(15_000); // 20:00:06: closed, with no event at all
    expect(read().stations[0]!.answer.state).toBe('closed');
    expect(finder.all().etag).not.toBe(etag);
    expect(finder.one('snap-1')?.body).toContain('"closed"');
    expect(finder.one('nope')).toBeUndefined();
    await finder.stop();
  });

  it('a site change is picked up; stop drops its listeners', async () => {
    const { finder, bus, read, tick } = await snapshot();
    bus.emit('site.changed', { site: { ...site, seats: 10 } });
    tick(1000);
    expect(read().stations[0]!.answer.seatsFree).toBe(9);
    await finder.stop();
    expect(bus.listenerCount('live.sites')).toBe(0);
  });
});
