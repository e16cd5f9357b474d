import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type DeviceKind, deviceKinds, telemetrySchemas } from '../contract/index.js';
import { compileAccepts } from '../services/ingest/compiled-schema.js';

const kinds = Object.keys(deviceKinds) as DeviceKind[];
const runs = { numRuns: 400, seed: 20261201 };

/** Values near every edge the contract has: ranges, integers, types, extra and missing keys. */
const edgy = fc.oneof(
  fc.integer({ min: -2, max: 600 }),
  fc.double({ min: -50, max: 6000, noNaN: true }),
  fc.constantFrom(
    0,
    -0,
    0.5,
    100,
    100.0001,
    500,
    501,
    5000,
    5000.5,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 2,
    1e300,
  ),
  fc.boolean(),
  fc.constantFrom(null, '1', [], {}),
);
const metric = fc.constantFrom(
  'occupancy',
  'open',
  'on',
  'power_w',
  'water_level_pct',
  'setpoint_c',
  'umbrellas',
  'raincoats',
  'temperature_c',
  'humidity_pct',
  'other',
  '__proto__',
);
const reading = fc.record(
  { seq: edgy, ts: edgy, values: fc.dictionary(metric, edgy, { maxKeys: 4 }), extra: edgy },
  { requiredKeys: [] },
);
const payload = fc.oneof(
  fc.record({ readings: fc.array(reading, { maxLength: 4 }) }),
  fc.record({ readings: fc.array(reading, { maxLength: 3 }), more: edgy }),
  edgy,
);

describe('compiled accept-only check (from the zod contract)', () => {
  it('compiles every telemetry schema of the contract', () => {
    for (const kind of kinds) expect(compileAccepts(telemetrySchemas[kind])).toBeTypeOf('function');
  });

  it('accepts only what zod accepts, and then zod returns the same value', () => {
    for (const kind of kinds) {
      const accepts = compileAccepts(telemetrySchemas[kind])!;
      fc.assert(
        fc.property(payload, (p) => {
          // Through JSON, as a payload arrives.
          const value = JSON.parse(JSON.stringify(p)) as unknown;
          if (!accepts(value)) return;
          const r = telemetrySchemas[kind].safeParse(value);
          expect(r.success).toBe(true);
          expect(r.data).toEqual(value);
        }),
        runs,
      );
    }
  });

  it('accepts the valid readings devices send, so the fast path is taken', () => {
    const accepts = compileAccepts(telemetrySchemas.water_dispenser)!;
    expect(accepts({ readings: [{ seq: 1, ts: 1, values: { on: true, water_level_pct: 40 } }] })).toBe(true);
    expect(
      accepts({ readings: [{ seq: 1, ts: 1, values: { on: true, power_w: 10, water_level_pct: 40 } }] }),
    ).toBe(true);
    expect(accepts({ readings: [{ seq: 1.5, ts: 1, values: { on: true, water_level_pct: 40 } }] })).toBe(
      false,
    );
    expect(accepts({ readings: [] })).toBe(false);
  });

  it('declines a schema with rules it does not know, leaving it to zod', () => {
    expect(compileAccepts(z.object({ a: z.string() }))).toBeUndefined();
    expect(compileAccepts(z.strictObject({ a: z.number().multipleOf(2) }))).toBeUndefined();
    expect(compileAccepts(z.object({ a: z.number() }))).toBeUndefined();
  });
});
