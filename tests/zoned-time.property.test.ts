import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { localParts, zoneOffsetMs } from '../contract/index.js';

// Whole-hour, half-hour and 45-minute offsets, daylight saving on both hemispheres, and a zone
// whose offset had seconds until 1972 (Monrovia, -0:44:30), which the per-minute cache must skip.
const zones = ['Asia/Shanghai', 'Europe/Berlin', 'Asia/Kathmandu', 'Australia/Lord_Howe', 'Africa/Monrovia'];

/** What the cached conversion must agree with: a fresh formatter every time. */
function reference(ms: number, timeZone: string) {
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  const p = Object.fromEntries(
    f
      .formatToParts(ms)
      .filter((x) => x.type !== 'literal')
      .map((x) => [x.type, Number(x.value)]),
  ) as Record<string, number>;
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return {
    date: `${pad(p.year!, 4)}-${pad(p.month!)}-${pad(p.day!)}`,
    time: `${pad(p.hour!)}:${pad(p.minute!)}`,
    offset: asUtc - Math.floor(ms / 1000) * 1000,
  };
}

describe('zoned time with its per-minute cache', () => {
  it('agrees with a fresh formatter for any instant, zone and order of questions', () => {
    const instant = fc.integer({ min: Date.UTC(1925, 0, 1), max: Date.UTC(2090, 0, 1) });
    // Runs of instants within one minute (the cache's case), then jumps (its misses).
    const question = fc.tuple(fc.constantFrom(...zones), instant, fc.integer({ min: 0, max: 59_999 }));
    fc.assert(
      fc.property(fc.array(question, { minLength: 1, maxLength: 30 }), (questions) => {
        for (const [zone, ms, within] of questions) {
          for (const at of [ms, Math.floor(ms / 60_000) * 60_000 + within]) {
            const want = reference(at, zone);
            const got = localParts(at, zone);
            expect({ date: got.date, time: got.time, offset: zoneOffsetMs(at, zone) }).toEqual(want);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('crosses Berlin’s spring-forward and fall-back minutes correctly', () => {
    const springGap = Date.UTC(2026, 2, 29, 1, 0); // 02:00 CET becomes 03:00 CEST
    expect(localParts(springGap - 1000, 'Europe/Berlin').time).toBe('01:59');
    expect(localParts(springGap, 'Europe/Berlin').time).toBe('03:00');
    const fallBack = Date.UTC(2026, 9, 25, 1, 0); // 03:00 CEST becomes 02:00 CET
    expect(localParts(fallBack - 1000, 'Europe/Berlin').time).toBe('02:59');
    expect(localParts(fallBack, 'Europe/Berlin').time).toBe('02:00');
  });
});
