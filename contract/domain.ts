import { z } from 'zod';
import { deviceId, deviceKind, eventType, metricName, siteId } from './device/index.js';

/** HTTP API bodies and replies. The dashboard imports these types; the server validates with them. */

export const role = z.enum(['admin', 'manager', 'planner']);
export const user = z.object({
  id: z.number().int(),
  username: z.string(),
  role,
  /** Sites a manager runs; empty for admins and planners, who see every site. */
  siteIds: z.array(siteId),
  /** Logged in with a one-time password (`npm run admin -- reset-password`): must choose a new one first. */
  mustChangePassword: z.boolean().optional(),
});
export const loginBody = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

/** User administration (admins only). Role/site rules that need the stored user are checked by the route. */
export const username = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$/, 'letters, digits, dot, dash, underscore; 2–64');
export const newPassword = z.string().min(8, 'at least 8 characters').max(256);
export const userCreateBody = z.strictObject({
  username,
  password: newPassword,
  role,
  /** Required (at least one) for a manager; must be empty for admins and planners. */
  siteIds: z.array(siteId).max(1000).default([]),
});
export const userUpdateBody = z
  .strictObject({ role: role.optional(), siteIds: z.array(siteId).max(1000).optional() })
  .refine((b) => b.role !== undefined || b.siteIds !== undefined, 'give role or siteIds');
export const passwordResetBody = z.strictObject({ password: newPassword });
/** A user changing their own password; their other sessions end. */
export const passwordChangeBody = z
  .strictObject({ currentPassword: z.string().min(1).max(256), newPassword })
  .refine((b) => b.currentPassword !== b.newPassword, {
    path: ['newPassword'],
    message: 'must differ from the current password',
  });
export const userParams = z.object({ userId: z.coerce.number().int().min(1) });

/** What the dashboard needs before it renders anything; no login required. */
export const appConfig = z.object({
  /** IANA zone every wall-clock time is shown in (HUB_TZ). */
  timeZone: z.string(),
  staleAfterMs: z.number().int(),
});

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');

/**
 * Text people type (names, communities, addresses) in both languages (issue 8 #14). Chinese
 * first; English may come later, and until then the dashboard shows the Chinese with a marker.
 */
export const localText = z.object({ zh: z.string(), en: z.string().optional() });
export type LocalText = z.infer<typeof localText>;

/**
 * What a client may send for a `localText`: both forms, or a plain string, which older API
 * clients send and which is kept as the Chinese (see `toLocalText`).
 */
function typedText(max: number, minZh: number) {
  return z.union([
    z.strictObject({
      zh: z.string().min(minZh).max(max),
      en: z
        .string()
        .min(1)
        .max(Math.round(max * 1.5))
        .optional(),
    }),
    z.string().min(minZh).max(max),
  ]);
}

/** A typed text as stored: a plain string becomes the Chinese form. */
export function toLocalText(v: string | LocalText): LocalText {
  return typeof v === 'string' ? { zh: v } : v;
}

export const siteType = z.enum(['health', 'caring', 'both']);
export const siteInput = z.strictObject({
  id: siteId,
  name: z.strictObject({ zh: z.string().min(1).max(80), en: z.string().min(1).max(120) }),
  type: siteType,
  community: typedText(80, 1).describe('community or sub-district the hut belongs to'),
  address: typedText(200, 0).default({ zh: '' }),
  lat: z.number().min(-90).max(90),
  lng: z.number().min(-180).max(180),
  openingHours: z
    .strictObject({ open: hhmm, close: hhmm })
    .describe('local time; close earlier than open means the hut is open past midnight'),
  seats: z.number().int().min(0).max(200),
});
export const site = siteInput.extend({
  community: localText,
  address: localText,
  createdAt: z.number().int(),
});

export const deviceInput = z.strictObject({
  id: deviceId,
  kind: deviceKind,
  /** Empty Chinese and no English: the device is called by its kind. */
  name: typedText(80, 0).default({ zh: '' }),
});
export const device = z.object({
  id: deviceId,
  siteId,
  kind: deviceKind,
  name: localText,
  enabled: z.boolean(),
  createdAt: z.number().int(),
});
export const provisionedDevice = z.object({
  device,
  /** Shown once; only its salted hash is kept. */
  secret: z.string(),
  mqtt: z.object({
    username: z.string(),
    topicPrefix: z.string(),
    /** Plain MQTT; null when the hub runs with MQTT_PLAIN=off. */
    port: z.number().int().nullable(),
    /** MQTT over TLS; null when the hub has no certificate. */
    tlsPort: z.number().int().nullable(),
  }),
});

export const liveDevice = z.object({
  id: deviceId,
  kind: deviceKind,
  name: localText,
  enabled: z.boolean(),
  online: z.boolean(),
  lastSeen: z.number().int().nullable(),
  values: z.record(z.string(), z.union([z.number(), z.boolean()])),
  valuesTs: z.number().int().nullable(),
  fault: z.object({ code: z.string(), message: z.string(), ts: z.number().int() }).nullable(),
  fw: z.string().nullable(),
  rssi: z.number().nullable(),
});
/**
 * Fault codes the reference firmware and the simulator send in a `fault` event's `code`. The
 * dashboard has words for these in every language; any other code is shown as sent, and the
 * device's free-text `message` only ever as a detail.
 */
export const knownFaultCodes = [
  'E_LENS_BLOCKED',
  'E_SENSOR',
  'E_MAGNET',
  'E_LOW_BATTERY',
  'E_HEATER',
  'E_LEAK',
  'E_MAGNETRON',
  'E_DOOR_SWITCH',
  'E_COMPRESSOR',
  'E_FILTER',
  'E_LOCK_JAM',
  'E_RFID',
] as const;
export type FaultCode = (typeof knownFaultCodes)[number];

export const siteHealth = z.enum(['ok', 'attention', 'offline', 'stale']);
export const siteLive = z.object({
  siteId,
  /** Within opening hours, in the hub's time zone. */
  open: z.boolean(),
  /** People inside: the sum over the site's occupancy counters (one per entrance) that report. */
  occupancy: z.number().nullable(),
  /** How many counters that sum is made of; a hut with two doors has two. */
  occupancyCounters: z.number().int(),
  seats: z.number().int(),
  doorOpen: z.boolean().nullable(),
  devicesOnline: z.number().int(),
  devicesTotal: z.number().int(),
  /** Newest reading, event or status time from any device of the site. */
  lastUpdate: z.number().int().nullable(),
  health: siteHealth,
  /** Why the site needs attention, as stable codes the dashboard translates. */
  issues: z.array(z.string()),
  devices: z.array(liveDevice),
});

/** The hub's own condition, shown on every dashboard: a failing store means data is held back. */
export const hubStatus = z.object({
  /**
   * `filling`: the telemetry store cannot be written, and the hub keeps acknowledging readings
   * into its ingest journal until that is full; `failing`: readings cannot be made durable at all,
   * so PUBACKs are withheld.
   */
  telemetryStore: z.enum(['ok', 'filling', 'failing']),
  since: z.number().int().nullable(),
  message: z.string().nullable(),
});

export const aggregate = z.enum(['avg', 'min', 'max', 'sum', 'count', 'last']);
export const rangeQuery = z.strictObject({
  siteId: siteId.optional(),
  deviceId: deviceId.optional(),
  metric: metricName,
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0),
  bucketMs: z.coerce
    .number()
    .int()
    .min(1000)
    .max(31 * 86_400_000)
    .default(3_600_000),
  agg: aggregate.default('avg'),
});
/** Events of one type counted per bucket, e.g. door openings per hour. */
export const eventCountQuery = z.strictObject({
  siteId: siteId.optional(),
  deviceId: deviceId.optional(),
  type: eventType,
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0),
  bucketMs: z.coerce
    .number()
    .int()
    .min(60_000)
    .max(31 * 86_400_000)
    .default(3_600_000),
});
export const rangePoint = z.object({
  t: z.number().int(),
  value: z.number().nullable(),
  count: z.number().int(),
});

export const ingestErrorCount = z.object({
  deviceId: z.string(),
  code: z.string(),
  count: z.number().int(),
  lastMessage: z.string(),
  lastAt: z.number().int(),
});

export const apiError = z.object({
  code: z.string(),
  message: z.string(),
  fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});

export type Role = z.infer<typeof role>;
export type User = z.infer<typeof user>;
export type UserCreate = z.infer<typeof userCreateBody>;
export type UserUpdate = z.infer<typeof userUpdateBody>;
export type AppConfig = z.infer<typeof appConfig>;
export type Site = z.infer<typeof site>;
export type SiteInput = z.infer<typeof siteInput>;
export type Device = z.infer<typeof device>;
export type DeviceInput = z.infer<typeof deviceInput>;
export type ProvisionedDevice = z.infer<typeof provisionedDevice>;
export type LiveDevice = z.infer<typeof liveDevice>;
export type SiteLive = z.infer<typeof siteLive>;
export type SiteHealth = z.infer<typeof siteHealth>;
export type HubStatus = z.infer<typeof hubStatus>;
export type RangeQuery = z.infer<typeof rangeQuery>;
export type RangePoint = z.infer<typeof rangePoint>;
export type EventCountQuery = z.infer<typeof eventCountQuery>;
export type IngestErrorCount = z.infer<typeof ingestErrorCount>;
export type ApiError = z.infer<typeof apiError>;
