/** Appointment rows as stored, and how they are shown: pure mapping, no queries. */
import type { BookingStatus, MaskedBooking, OpenedBooking, Screening } from '../../contract/index.js';
import { localParts } from '../../contract/index.js';
import type { Database } from '../state/tables.js';
import { maskMobile } from './codes.js';

export type SessionRow = Database['appointment_sessions'] & { id: number; lock_version: number };
export type BookingRow = Database['appointment_bookings'] & { id: number };

/** Statuses that hold a place in a slot. */
export const LIVE_STATUSES = ['booked', 'checked_in', 'no_show'] as const;

export interface SlotCounts {
  booked: number;
  checkedIn: number;
  noShow: number;
  cancelled: number;
}
export const emptyCounts = (): SlotCounts => ({ booked: 0, checkedIn: 0, noShow: 0, cancelled: 0 });

export function sessionScreenings(s: SessionRow): Screening[] {
  return JSON.parse(s.screenings) as Screening[];
}

export function toMaskedBooking(b: BookingRow, timeZone: string): MaskedBooking {
  const start = localParts(Number(b.slot_start), timeZone);
  return {
    id: b.id,
    code: b.code,
    sessionId: b.session_id,
    siteId: b.site_id,
    date: start.date,
    start: start.time,
    end: localParts(Number(b.slot_end), timeZone).time,
    slotStartAt: Number(b.slot_start),
    slotEndAt: Number(b.slot_end),
    screening: b.screening as Screening,
    name: b.name,
    mobileMasked: maskMobile(b.mobile),
    status: b.status as BookingStatus,
    cancelledBy: b.cancelled_by as MaskedBooking['cancelledBy'],
    checkedInAt: b.checked_in_at === null ? null : Number(b.checked_in_at),
    createdAt: Number(b.created_at),
  };
}

export function toOpenedBooking(b: BookingRow, timeZone: string): OpenedBooking {
  return { ...toMaskedBooking(b, timeZone), mobile: b.mobile };
}

export function addStatus(c: SlotCounts, status: BookingStatus, n = 1): void {
  if (status === 'cancelled') c.cancelled += n;
  else {
    c.booked += n;
    if (status === 'checked_in') c.checkedIn += n;
    if (status === 'no_show') c.noShow += n;
  }
}
