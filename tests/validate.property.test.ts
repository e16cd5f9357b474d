import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DeviceKind } from '../contract/index.js';
import { checkPayload, type Limits } from '../services/ingest/validate.js';
import type { DeviceRecord } from '../services/state/devices.js';

const NOW = 1_764_115_200_000;
const limits: Limits = { maxPayloadBytes: 32_768, maxFutureMs: 600_000, maxAgeMs: 30 * 86_400_000 };
const device = (kind: DeviceKind): DeviceRecord => ({
  id: 'fanghuali-n1-env',
  siteId: 'fanghuali-n1',
  kind,
  name: { zh: '' },
  enabled: true,
  createdAt: 0,
  secretHash: '',
});
const env = device('environment_sensor');
const check = (payload: unknown) =>
  checkPayload(env, 'telemetry', Buffer.from(JSON.stringify(payload)), limits, NOW);

const validReading = fc.record({
  seq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  ts: fc.integer({ min: NOW - limits.maxAgeMs, max: NOW + limits.maxFutureMs }),
  values: fc.record({
    temperature_c: fc.double({ min: -40, max: 70, noNaN: true }),
    humidity_pct: fc.double({ min: 0, max: 100, noNaN: true }),
  }),
});

// Bounded runs: enough to find shape bugs, cheap enough for every CI run.
const runs = { numRuns: 300, seed: 20261126 };

describe('payload validator (property-based)', () => {
  it('never throws on arbitrary bytes and refuses them unless they are a valid batch', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const r = checkPayload(env, 'telemetry', Buffer.from(bytes), limits, NOW);
        expect(r.ok).toBe(false);
      }),
      runs,
    );
  });

  it('never throws on arbitrary JSON, and whatever it accepts is finite and in range', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (json) => {
        const r = check(json);
        if (!r.ok || r.channel !== 'telemetry') return;
        for (const reading of r.readings) {
          const v = reading.values as { temperature_c: number; humidity_pct: number };
          expect(Number.isFinite(v.temperature_c) && v.temperature_c >= -40 && v.temperature_c <= 70).toBe(
            true,
          );
          expect(Number.isFinite(v.humidity_pct) && v.humidity_pct >= 0 && v.humidity_pct <= 100).toBe(true);
        }
      }),
      runs,
    );
  });

  it('accepts every valid batch unchanged', () => {
    fc.assert(
      fc.property(fc.array(validReading, { minLength: 1, maxLength: 50 }), (readings) => {
        const r = check({ readings });
        expect(r.ok).toBe(true);
        // What JSON carries: -0 arrives as 0.
        if (r.ok && r.channel === 'telemetry')
          expect(r.readings).toEqual(JSON.parse(JSON.stringify(readings)));
      }),
      runs,
    );
  });

  it('refuses a valid batch with one reading broken in any way', () => {
    const breakages = fc.constantFrom<[string, (r: Record<string, unknown>) => void]>(
      ['seq negative', (r) => (r.seq = -1)],
      ['seq fractional', (r) => (r.seq = 1.5)],
      ['seq as string', (r) => (r.seq = '1')],
      ['ts far future', (r) => (r.ts = NOW + 86_400_000)],
      ['ts far past', (r) => (r.ts = NOW - 365 * 86_400_000)],
      ['temperature too hot', (r) => ((r.values as Record<string, unknown>).temperature_c = 71)],
      ['humidity missing', (r) => delete (r.values as Record<string, unknown>).humidity_pct],
      ['extra metric', (r) => ((r.values as Record<string, unknown>).occupancy = 1)],
      ['extra field', (r) => (r.note = 'x')],
      ['values null', (r) => (r.values = null)],
    );
    fc.assert(
      fc.property(
        fc.array(validReading, { minLength: 1, maxLength: 20 }),
        fc.nat(),
        breakages,
        (readings, pick, [, breakIt]) => {
          const copy = structuredClone(readings) as Record<string, unknown>[];
          breakIt(copy[pick % copy.length]!);
          expect(check({ readings: copy }).ok).toBe(false);
        },
      ),
      runs,
    );
  });
});
