import { describe, expect, it } from 'vitest';
import { isOpenAt, isOpenAtMinute, withinOpeningHours } from '../contract/index.js';
import { isOpen } from '../devices/simulator/patterns.js';

const TZ = 'Asia/Shanghai';
const at = (iso: string) => Date.parse(iso);

/** One opening-hours rule, shared by live status, screening sessions and the simulated huts. */
describe('opening hours', () => {
  it('reads the hub zone: 07:59 and 20:00 in Shanghai are closed for 08:00–20:00', () => {
    const day = { open: '08:00', close: '20:00' };
    expect(isOpenAt(day, at('2026-12-01T23:59:00Z'), TZ)).toBe(false);
    expect(isOpenAt(day, at('2026-12-02T00:00:00Z'), TZ)).toBe(true);
    expect(isOpenAt(day, at('2026-12-02T12:00:00Z'), TZ)).toBe(false);
  });

  it('is open across midnight when close comes before open, and all day when they are equal', () => {
    const night = { open: '18:00', close: '06:00' };
    expect(isOpenAtMinute(night, 23 * 60)).toBe(true);
    expect(isOpenAtMinute(night, 5 * 60 + 59)).toBe(true);
    expect(isOpenAtMinute(night, 6 * 60)).toBe(false);
    expect(isOpenAtMinute({ open: '00:00', close: '00:00' }, 3)).toBe(true);
    expect(withinOpeningHours(night, '23:00', '01:00')).toBe(true);
    expect(withinOpeningHours(night, '05:00', '07:00')).toBe(false);
  });

  it('gives the simulated huts the same answer as the hub', () => {
    const hours = { open: '07:30', close: '21:00' };
    for (let h = 0; h < 48; h++) {
      const t = at('2026-12-01T16:00:00Z') + h * 30 * 60_000;
      expect(isOpen(t, hours)).toBe(isOpenAt(hours, t, TZ));
    }
  });
});
