import { describe, expect, it } from 'vitest';
import {
  deviceKinds,
  eventBatchSchemas,
  parseTopic,
  statusSchema,
  telemetrySchemas,
  topicFor,
} from '../contract/index.js';

describe('device contract', () => {
  it('round-trips topics and refuses anything outside the scheme', () => {
    expect(parseTopic(topicFor('taishan-g2', 'taishan-g2-door', 'event'))).toEqual({
      siteId: 'taishan-g2',
      deviceId: 'taishan-g2-door',
      channel: 'event',
    });
    for (const bad of [
      'yz/v1/taishan-g2/taishan-g2-door',
      'yz/v1/taishan-g2/taishan-g2-door/event/extra',
      'yz/v1/taishan-g2/+/event',
      'yz/v1/Taishan/door/event',
      'yz/v1//door/event',
      'yz/v2/taishan-g2/door/event',
      'yz/v1/taishan-g2/door/cmd2',
      "yz/v1/x'--/door/event",
      'yz/v1/ｔａｉｓｈａｎ/door/event',
    ]) {
      expect(parseTopic(bad), bad).toBeNull();
    }
  });

  it('checks reading values against the kind', () => {
    const ok = {
      readings: [{ seq: 1, ts: 1_764_115_200_000, values: { temperature_c: 21.5, humidity_pct: 40 } }],
    };
    expect(telemetrySchemas.environment_sensor.safeParse(ok).success).toBe(true);
    expect(telemetrySchemas.occupancy_counter.safeParse(ok).success).toBe(false);
    const nan = { readings: [{ seq: 1, ts: 1, values: { temperature_c: Number.NaN, humidity_pct: 40 } }] };
    expect(telemetrySchemas.environment_sensor.safeParse(nan).success).toBe(false);
    const fractionalSeq = { readings: [{ seq: 1.5, ts: 1, values: { occupancy: 1 } }] };
    expect(telemetrySchemas.occupancy_counter.safeParse(fractionalSeq).success).toBe(false);
  });

  it('allows each kind only its own event types', () => {
    const door = { events: [{ seq: 3, ts: 1, type: 'door_opened' }] };
    expect(eventBatchSchemas.door_sensor.safeParse(door).success).toBe(true);
    expect(eventBatchSchemas.microwave.safeParse(door).success).toBe(false);
  });

  it('accepts the Last Will payload as a status', () => {
    expect(statusSchema.parse({ online: false })).toEqual({ online: false });
  });

  it('has a label in both languages for every kind', () => {
    for (const k of Object.values(deviceKinds)) {
      expect(k.label.zh.length).toBeGreaterThan(0);
      expect(k.label.en.length).toBeGreaterThan(0);
    }
  });
});
