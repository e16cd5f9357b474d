import { z } from 'zod';
import { type DeviceKind, deviceKinds } from './kinds.js';

/** Milliseconds since the Unix epoch, as the device's own clock saw it. */
const timestamp = z.number().int().min(0).describe('device time, ms since the Unix epoch (UTC)');
/**
 * Per-device sequence number, shared by telemetry and events. A resent reading keeps its seq, so
 * stores keep (device, seq) once however often a flaky link delivers it.
 */
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).describe('per-device sequence number');

export const MAX_BATCH = 500;

export function readingSchema(kind: DeviceKind) {
  return z.strictObject({ seq, ts: timestamp, values: deviceKinds[kind].values });
}

export function telemetrySchema(kind: DeviceKind) {
  return z.strictObject({ readings: z.array(readingSchema(kind)).min(1).max(MAX_BATCH) });
}

export function eventSchema(kind: DeviceKind) {
  const types = deviceKinds[kind].events as readonly string[];
  return z.strictObject({
    seq,
    ts: timestamp,
    type: z.enum(types as [string, ...string[]]),
    code: z.string().max(64).optional().describe('fault code or command id'),
    item: z.enum(['umbrella', 'raincoat']).optional().describe('lending cabinet item'),
    ok: z.boolean().optional().describe('command result'),
    message: z.string().max(500).optional(),
  });
}

export function eventBatchSchema(kind: DeviceKind) {
  return z.strictObject({ events: z.array(eventSchema(kind)).min(1).max(MAX_BATCH) });
}

/** Retained on the status topic; the device's Last Will is `{"online":false}` on the same topic. */
export const statusSchema = z.strictObject({
  online: z.boolean(),
  fw: z.string().max(40).optional().describe('firmware version'),
  rssi: z.number().int().min(-150).max(0).optional().describe('signal strength, dBm'),
  ts: timestamp.optional(),
});

export const commandSchema = z.strictObject({
  id: z.string().min(1).max(64).describe('echoed back in the cmd_result event'),
  action: z.enum(['reboot', 'set_power', 'set_setpoint']),
  on: z.boolean().optional(),
  setpoint_c: z.number().min(16).max(30).optional(),
});

/** Built once per kind: ingest checks every message against these. */
export const telemetrySchemas = mapKinds(telemetrySchema);
export const eventBatchSchemas = mapKinds(eventBatchSchema);

function mapKinds<T>(build: (kind: DeviceKind) => T): Record<DeviceKind, T> {
  return Object.fromEntries(Object.keys(deviceKinds).map((k) => [k, build(k as DeviceKind)])) as Record<
    DeviceKind,
    T
  >;
}

export type Reading = z.infer<ReturnType<typeof readingSchema>>;
export type Telemetry = z.infer<ReturnType<typeof telemetrySchema>>;
export type DeviceEvent = z.infer<ReturnType<typeof eventSchema>>;
export type EventBatch = z.infer<ReturnType<typeof eventBatchSchema>>;
export type Status = z.infer<typeof statusSchema>;
export type Command = z.infer<typeof commandSchema>;
