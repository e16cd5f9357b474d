import { z } from 'zod';
import { deviceId, deviceKind, siteId, statusSchema } from './device/index.js';

/**
 * Telemetry as the hub keeps it: one row per reading or event, keyed by (device, seq). Booleans
 * from the device contract are stored as 0/1, so every reading value is a number.
 */
export const readingRow = z.object({
  siteId,
  deviceId,
  kind: deviceKind,
  seq: z.number().int(),
  ts: z.number().int(),
  values: z.record(z.string(), z.number()),
});

export const eventRow = z.object({
  siteId,
  deviceId,
  kind: deviceKind,
  seq: z.number().int(),
  ts: z.number().int(),
  type: z.string(),
  code: z.string().nullable(),
  item: z.string().nullable(),
  ok: z.boolean().nullable(),
  message: z.string().nullable(),
});

export const telemetryBatch = z.object({ readings: z.array(readingRow), events: z.array(eventRow) });

export const statusReport = z.object({ siteId, deviceId, kind: deviceKind, status: statusSchema });

export type ReadingRow = z.infer<typeof readingRow>;
export type EventRow = z.infer<typeof eventRow>;
export type TelemetryBatch = z.infer<typeof telemetryBatch>;
export type StatusReport = z.infer<typeof statusReport>;
