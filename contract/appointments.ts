import { z } from 'zod';
import { siteId } from './device/index.js';
import { localText } from './domain.js';
import { minutesOf } from './rules/zoned-time.js';

/**
 * Appointment API bodies and replies. The dashboard and the booking page import these types; the
 * server validates requests and serialises replies with them, so a reply schema without a field
 * is a guarantee that the field never leaves the hub (planners' schemas have no names or numbers).
 */

export const screening = z.enum([
  'blood_pressure',
  'blood_glucose',
  'blood_lipids',
  'uric_acid',
  'bmi',
  'ecg',
]);
export const screenings = screening.options;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 24-hour');
/** A calendar date in the hub's time zone. */
export const localDate = z.iso.date();

/** Mainland mobile number; spaces, dashes and a +86 prefix are accepted and dropped. */
export const mobile = z
  .string()
  .max(32)
  .transform((s) => s.replace(/[\s-]/g, '').replace(/^(\+|00)?86(?=1\d{10}$)/, ''))
  .pipe(z.string().regex(/^1[3-9]\d{9}$/, 'a mainland mobile number: 11 digits starting 13–19'));

/** Confirmation codes avoid 0/O and 1/I so they survive being read out over the phone. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
export const confirmationCode = z
  .string()
  .max(16)
  .transform((s) => s.replace(/[\s-]/g, '').toUpperCase())
  .pipe(z.string().regex(/^[2-9A-HJ-NP-Z]{8}$/, '8 letters and digits'));

const sessionFields = {
  date: localDate,
  start: hhmm,
  /** An end not after the start means the session runs past midnight. */
  end: hhmm,
  slotMinutes: z.number().int().min(5).max(240),
  capacityPerSlot: z.number().int().min(1).max(100),
  screenings: z
    .array(screening)
    .min(1)
    .max(screenings.length)
    .refine((a) => new Set(a).size === a.length, 'each screening once'),
  doctorName: z.string().trim().min(1).max(40).describe("the volunteer doctor's display name"),
};

type Timing = { start?: string; end?: string; slotMinutes?: number };
function checkTiming(t: Timing, ctx: z.RefinementCtx) {
  if (t.start === undefined || t.end === undefined || t.slotMinutes === undefined) return;
  if (t.start === t.end) {
    ctx.addIssue({ code: 'custom', path: ['end'], message: 'must differ from start' });
    return;
  }
  const s = minutesOf(t.start);
  const length = (minutesOf(t.end) - s + 24 * 60) % (24 * 60);
  if (length > 12 * 60) ctx.addIssue({ code: 'custom', path: ['end'], message: 'at most 12 hours' });
  else if (length % t.slotMinutes !== 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['slotMinutes'],
      message: `the session (${length} min) must be a whole number of slots`,
    });
  }
}

export const sessionInput = z
  .strictObject({
    ...sessionFields,
    repeatWeeks: z
      .number()
      .int()
      .min(1)
      .max(26)
      .default(1)
      .describe('1 for a single session; N for the same weekday and time N weeks running'),
  })
  .superRefine(checkTiming);

export const sessionPatch = z
  .strictObject({
    date: sessionFields.date.optional(),
    start: sessionFields.start.optional(),
    end: sessionFields.end.optional(),
    slotMinutes: sessionFields.slotMinutes.optional(),
    capacityPerSlot: sessionFields.capacityPerSlot.optional(),
    screenings: sessionFields.screenings.optional(),
    doctorName: sessionFields.doctorName.optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'change at least one field');

export const cancelSessionBody = z.strictObject({ reason: z.string().trim().max(200).optional() });

export const sessionStatus = z.enum(['scheduled', 'cancelled']);
export const bookingStatus = z.enum(['booked', 'checked_in', 'no_show', 'cancelled']);

/** Counts only: safe for planners and for every socket room. */
const counts = {
  capacity: z.number().int(),
  booked: z.number().int().describe('live bookings: booked, checked in or no-show'),
  checkedIn: z.number().int(),
  noShow: z.number().int(),
  cancelled: z.number().int().describe('bookings cancelled by the resident or with the session'),
};

export const slotSummary = z.object({
  start: hhmm,
  end: hhmm,
  startAt: z.number().int(),
  endAt: z.number().int(),
  ...counts,
});

export const sessionSummary = z.object({
  id: z.number().int(),
  siteId,
  seriesId: z.string().nullable(),
  date: localDate,
  start: hhmm,
  end: hhmm,
  startAt: z.number().int(),
  endAt: z.number().int(),
  slotMinutes: z.number().int(),
  capacityPerSlot: z.number().int(),
  screenings: z.array(screening),
  doctorName: z.string(),
  status: sessionStatus,
  cancelReason: z.string().nullable(),
  ...counts,
  slots: z.array(slotSummary),
});

/** A site's day: what the live socket sends and what planners may see. */
export const appointmentsDay = z.object({
  siteId,
  date: localDate,
  sessions: z.array(sessionSummary),
  totals: z.object({ sessions: z.number().int(), ...counts }),
});

/** A booking as a site's manager sees it in lists: the number masked to its last four digits. */
export const maskedBooking = z.object({
  id: z.number().int(),
  code: z.string(),
  sessionId: z.number().int(),
  siteId,
  date: localDate,
  start: hhmm,
  end: hhmm,
  slotStartAt: z.number().int(),
  slotEndAt: z.number().int(),
  screening,
  /** Null once the retention period has erased it. */
  name: z.string().nullable(),
  mobileMasked: z.string().nullable(),
  status: bookingStatus,
  cancelledBy: z.enum(['resident', 'site']).nullable(),
  checkedInAt: z.number().int().nullable(),
  createdAt: z.number().int(),
});
/** One booking opened on purpose: the full number, and an audit row for the read. */
export const openedBooking = maskedBooking.extend({ mobile: z.string().nullable() });

export const todayReply = z.object({ day: appointmentsDay, bookings: z.array(maskedBooking) });

// Public (no login): what a resident sees.
export const publicSite = z.object({
  id: siteId,
  name: z.object({ zh: z.string(), en: z.string() }),
  community: localText,
  address: localText,
  openingHours: z.object({ open: hhmm, close: hhmm }),
  /** Days (hub time) with sessions still open for booking. */
  upcomingDays: z.array(localDate),
});
export const publicSlot = z.object({
  start: hhmm,
  end: hhmm,
  startAt: z.number().int(),
  endAt: z.number().int(),
  available: z.number().int(),
  /** Not full, not past and not inside the booking cut-off. */
  bookable: z.boolean(),
});
export const publicSession = z.object({
  id: z.number().int(),
  date: localDate,
  start: hhmm,
  end: hhmm,
  doctorName: z.string(),
  screenings: z.array(screening),
  slots: z.array(publicSlot),
});
export const publicSessionsQuery = z.strictObject({ date: localDate });

export const bookingBody = z.strictObject({
  sessionId: z.number().int().min(1),
  slotStartAt: z.number().int().min(0),
  name: z.string().trim().min(1).max(40),
  mobile,
  screening,
});
export const codeAndMobile = z.strictObject({ code: confirmationCode, mobile });
export const rescheduleBody = codeAndMobile.extend({
  sessionId: z.number().int().min(1),
  slotStartAt: z.number().int().min(0),
  screening: screening.optional(),
});
/** What a resident gets back: their own booking, the number masked (they know it). */
export const residentBooking = z.object({
  code: z.string(),
  status: bookingStatus,
  siteId,
  siteName: z.object({ zh: z.string(), en: z.string() }),
  address: localText,
  sessionId: z.number().int(),
  date: localDate,
  start: hhmm,
  end: hhmm,
  slotStartAt: z.number().int(),
  doctorName: z.string(),
  screening,
  name: z.string().nullable(),
  mobileMasked: z.string().nullable(),
});

export const searchQuery = z.strictObject({
  q: z
    .string()
    .transform((s) => s.replace(/[\s-]/g, '').toUpperCase())
    .pipe(z.string().regex(/^(\d{4}|[2-9A-HJ-NP-Z]{8})$/, 'a confirmation code or the last four digits')),
  date: localDate.optional(),
});
export const openBookingQuery = z.strictObject({
  reason: z
    .string()
    .trim()
    .max(200)
    .optional()
    .describe('why the full record is opened; kept in the audit log'),
});

export const statsQuery = z
  .strictObject({
    siteId: siteId.optional(),
    from: localDate,
    to: localDate,
    groupBy: z.enum(['none', 'day', 'week', 'month']).default('none'),
  })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'not before from' });
const statFigures = {
  sessions: z.number().int().describe('scheduled sessions (not cancelled)'),
  sessionsHeld: z.number().int().describe('scheduled sessions that have ended'),
  sessionsCancelled: z.number().int(),
  slotsOffered: z.number().int().describe('places offered: slots × capacity, scheduled sessions'),
  booked: z.number().int(),
  attended: z.number().int(),
  noShows: z.number().int(),
  cancelled: z.number().int(),
  fillRate: z.number().nullable().describe('booked / slotsOffered'),
  noShowRate: z.number().nullable().describe('noShows / (attended + noShows)'),
};
export const statsRow = z.object({
  siteId,
  /** The period's first day: the date, the Monday of the week, or the first of the month. */
  period: z.string().nullable(),
  ...statFigures,
});
export const statsReply = z.object({
  from: localDate,
  to: localDate,
  groupBy: z.enum(['none', 'day', 'week', 'month']),
  rows: z.array(statsRow),
  totals: z.object(statFigures),
});

export const auditQuery = z.strictObject({
  bookingId: z.coerce.number().int().min(1).optional(),
  userId: z.coerce.number().int().min(1).optional(),
  before: z.coerce.number().int().optional().describe('entries with a smaller id, for paging'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const auditAction = z.enum(['list', 'search', 'open', 'check_in', 'resident_lookup']);
export const auditEntry = z.object({
  id: z.number().int(),
  at: z.number().int(),
  userId: z.number().int().nullable(),
  username: z.string().nullable(),
  role: z.string().nullable(),
  action: auditAction,
  siteId: z.string().nullable(),
  bookingIds: z.array(z.number().int()),
  route: z.string(),
  reason: z.string().nullable(),
});

export type Screening = z.infer<typeof screening>;
export type SessionInput = z.infer<typeof sessionInput>;
export type SessionPatch = z.infer<typeof sessionPatch>;
export type SessionSummary = z.infer<typeof sessionSummary>;
export type SlotSummary = z.infer<typeof slotSummary>;
export type AppointmentsDay = z.infer<typeof appointmentsDay>;
export type MaskedBooking = z.infer<typeof maskedBooking>;
export type OpenedBooking = z.infer<typeof openedBooking>;
export type TodayReply = z.infer<typeof todayReply>;
export type PublicSite = z.infer<typeof publicSite>;
export type PublicSession = z.infer<typeof publicSession>;
export type PublicSlot = z.infer<typeof publicSlot>;
export type BookingBody = z.infer<typeof bookingBody>;
export type RescheduleBody = z.infer<typeof rescheduleBody>;
export type ResidentBooking = z.infer<typeof residentBooking>;
export type StatsQuery = z.infer<typeof statsQuery>;
export type StatsReply = z.infer<typeof statsReply>;
export type StatsRow = z.infer<typeof statsRow>;
export type AuditEntry = z.infer<typeof auditEntry>;
export type AuditAction = z.infer<typeof auditAction>;
export type BookingStatus = z.infer<typeof bookingStatus>;
