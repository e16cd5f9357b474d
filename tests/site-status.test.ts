import { describe, expect, it } from 'vitest';
import { healthOf, isStale, type SiteLive, siteStatusAt } from '../contract/index.js';

/** The staleness rule is written once in contract/ and used by the hub and the dashboard (issue 9). */
const live = (over: Partial<SiteLive>): SiteLive => ({
  siteId: 'yz-001',
  open: true,
  occupancy: null,
  occupancyCounters: 0,
  seats: 4,
  doorOpen: null,
  devicesOnline: 1,
  devicesTotal: 1,
  lastUpdate: 1_000,
  health: 'ok',
  issues: [],
  devices: [],
  ...over,
});

describe('site status rule', () => {
  it('isStale: no data, or older than the limit', () => {
    expect(isStale(null, 5_000, 1_000)).toBe(true);
    expect(isStale(1_000, 2_000, 1_000)).toBe(false);
    expect(isStale(1_000, 2_001, 1_000)).toBe(true);
  });

  it('siteStatusAt turns an ok site stale as time passes, and keeps offline', () => {
    expect(siteStatusAt(live({}), 1_500, 1_000)).toBe('ok');
    expect(siteStatusAt(live({}), 2_500, 1_000)).toBe('stale');
    expect(siteStatusAt(live({ health: 'attention' }), 2_500, 1_000)).toBe('stale');
    expect(siteStatusAt(live({ health: 'offline' }), 2_500, 1_000)).toBe('offline');
    expect(siteStatusAt(live({ health: 'stale' }), 1_500, 1_000)).toBe('stale');
  });

  it('the server health and the client status agree at the same instant', () => {
    for (const now of [1_500, 2_001, 9_000]) {
      const health = healthOf([], [], 1_000, now, 1_000);
      expect(siteStatusAt(live({ health: 'ok' }), now, 1_000)).toBe(health);
    }
  });
});
