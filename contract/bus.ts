import { z } from 'zod';
import { alert } from './alerts.js';
import { appointmentsDay } from './appointments.js';
import { deviceId, siteId } from './device/index.js';
import { device, hubStatus, site, siteLive, user } from './domain.js';
import { ingestErrorCodes } from './errors.js';
import { feedbackItem } from './feedback.js';
import { eventRow, readingRow, statusReport } from './telemetry.js';

/**
 * What happens in a hub, as the parts tell each other through the event bus. Every payload is
 * plain data (zod-described, JSON-safe), so a listener may be in this process today and behind a
 * cross-hub relay tomorrow. Events are past tense: a listener learns what already happened.
 */
export const deviceChangeType = z.enum(['provisioned', 'enabled', 'disabled', 'secret-rotated', 'deleted']);

export const userChange = z.discriminatedUnion('type', [
  z.object({ type: z.literal('updated'), user }),
  z.object({ type: z.literal('deleted'), userId: z.number().int() }),
  z.object({ type: z.literal('sessions-closed'), userId: z.number().int(), except: z.string().optional() }),
  z.object({ type: z.literal('session-closed'), sessionId: z.string() }),
]);

/** A booking or session change worth telling a resident about; the listener loads the rest by id. */
export const appointmentNotice = z.discriminatedUnion('type', [
  z.object({ type: z.literal('booking.created'), bookingId: z.number().int() }),
  z.object({ type: z.literal('booking.cancelled'), bookingId: z.number().int() }),
  z.object({
    type: z.literal('booking.rescheduled'),
    bookingId: z.number().int(),
    previousSlotStart: z.number().int(),
  }),
  z.object({
    type: z.literal('session.cancelled'),
    sessionId: z.number().int(),
    bookingIds: z.array(z.number().int()),
    reason: z.string().optional(),
  }),
]);

const deviceRef = z.object({ siteId, deviceId });
/** In a cluster, the hub whose broker holds the connection: a device may move between hubs. */
const connection = deviceRef.extend({ hub: z.string().optional() });

export const busEvents = {
  /** After the commit; only readings that were new (a resend of a stored seq is not here). */
  'readings.stored': z.object({ readings: z.array(readingRow) }),
  /** After the commit; only events that were new. */
  'events.stored': z.object({ events: z.array(eventRow) }),
  'status.reported': statusReport,
  'device.connected': connection,
  'device.disconnected': connection,
  /** A message refused by the broker or ingest, or a failed login with a known device id. */
  'device.refused': deviceRef.extend({
    code: z.enum(ingestErrorCodes),
    message: z.string(),
  }),
  'device.changed': z.object({ change: deviceChangeType, device }),
  'site.changed': z.object({ site }),
  'user.changed': userChange,
  /** A site's screening day(s) changed: counts to refresh, and what to tell a resident if anything. */
  'appointments.changed': z.object({
    siteId,
    dates: z.array(z.string()),
    notice: appointmentNotice.optional(),
  }),
  'store.health': hubStatus,
  /** Live state's coalesced output: sites whose live view changed. */
  'live.sites': z.object({ sites: z.array(siteLive) }),
  /** A site's screening day as the dashboards show it (counts only), after appointments changed. */
  'live.appointments': appointmentsDay,
  /** Feedback given or answered at a site (issue 16); carries the comment: managers and admins only. */
  'feedback.changed': z.object({ item: feedbackItem }),
  /**
   * Alert rules, silences or contacts were changed (and stored); in a cluster the hub that runs the
   * alerts engine reloads them.
   */
  'alerts.settings': z.object({ changed: z.enum(['rules', 'silences', 'contacts']) }),
  /** An alert was raised or changed, after it was written to the state store. */
  'alert.changed': z.object({ alert }),
} as const;

export type BusEvents = { [K in keyof typeof busEvents]: z.infer<(typeof busEvents)[K]> };
export type BusEventName = keyof BusEvents;
export type UserChange = z.infer<typeof userChange>;
export type DeviceChangeType = z.infer<typeof deviceChangeType>;
export type AppointmentNotice = z.infer<typeof appointmentNotice>;
