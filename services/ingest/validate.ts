import type { z } from 'zod';
import type { IngestErrorCode } from '../../contract/index.js';
import {
  type DeviceEvent,
  eventBatchSchemas,
  type Reading,
  type Status,
  statusSchema,
  telemetrySchemas,
} from '../../contract/index.js';
import type { DeviceRecord } from '../state/devices.js';
import { type Accepts, compileAccepts } from './compiled-schema.js';

/** The hot shape, telemetry, also as a compiled accept-only check; zod answers everything else. */
const fastTelemetry = Object.fromEntries(
  Object.entries(telemetrySchemas).map(([kind, schema]) => [kind, compileAccepts(schema)]),
) as Record<keyof typeof telemetrySchemas, Accepts | undefined>;

export type Checked =
  | { ok: true; channel: 'telemetry'; readings: Reading[] }
  | { ok: true; channel: 'event'; events: DeviceEvent[] }
  | { ok: true; channel: 'status'; status: Status }
  | { ok: false; code: IngestErrorCode; message: string };

export interface Limits {
  maxPayloadBytes: number;
  /** How far ahead of the hub's clock a device timestamp may be; device clocks drift. */
  maxFutureMs: number;
  /**
   * How old a reading may be: a device buffers through outages, but one that lost its clock
   * reports 1970, and that must not land in a planner's trend charts.
   */
  maxAgeMs: number;
}

/** Parses and checks one publish against the device contract for the device's kind. */
export function checkPayload(
  device: DeviceRecord,
  channel: 'telemetry' | 'event' | 'status',
  payload: Buffer,
  limits: Limits,
  now = Date.now(),
): Checked {
  if (payload.length > limits.maxPayloadBytes) {
    return fail('PAYLOAD_TOO_LARGE', `${payload.length} bytes, limit ${limits.maxPayloadBytes}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return fail('PAYLOAD_NOT_JSON', (err as Error).message);
  }
  if (channel === 'status') {
    const r = statusSchema.safeParse(json);
    return r.success ? { ok: true, channel, status: r.data } : invalid(r.error);
  }
  if (channel === 'telemetry') {
    let readings: Reading[];
    // Accepted as is: the schema has no defaults or transforms, so zod's output would equal it.
    if (fastTelemetry[device.kind]?.(json)) readings = (json as { readings: Reading[] }).readings;
    else {
      const r = telemetrySchemas[device.kind].safeParse(json);
      if (!r.success) return invalid(r.error);
      readings = r.data.readings;
    }
    const bad = outsideWindow(readings, limits, now);
    return bad ?? { ok: true, channel, readings };
  }
  const r = eventBatchSchemas[device.kind].safeParse(json);
  if (!r.success) return invalid(r.error);
  const bad = outsideWindow(r.data.events, limits, now);
  return bad ?? { ok: true, channel, events: r.data.events };
}

function fail(code: IngestErrorCode, message: string): Checked {
  return { ok: false, code, message };
}

function invalid(error: z.ZodError): Checked {
  const first = error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return fail('PAYLOAD_INVALID', first);
}

function outsideWindow(items: { ts: number }[], limits: Limits, now: number): Checked | undefined {
  for (const { ts } of items) {
    if (ts > now + limits.maxFutureMs) {
      return fail('PAYLOAD_INVALID', `timestamp ${ts} is ${Math.round((ts - now) / 1000)} s in the future`);
    }
    if (ts < now - limits.maxAgeMs) {
      return fail('PAYLOAD_INVALID', `timestamp ${ts} is ${Math.round((now - ts) / 86_400_000)} days old`);
    }
  }
  return undefined;
}
