import type { Kysely } from 'kysely';
import type { BookingStatus, MaskedBooking, OpenedBooking, Screening } from '../../contract/index.js';
import { localParts } from '../../contract/index.js';
import type { StateDb } from '../state/db.js';
import type { Database } from '../state/tables.js';
import { maskMobile } from './codes.js';

export type SessionRow = Database['appointment_sessions'] & { id: number; lock_version: number };
export type BookingRow = Database['appointment_bookings'] & { id: number };
/** The database or a transaction on it. */
export type Db = Kysely<Database>;

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

/** Queries shared by the session, booking, summary and scheduler modules. */
export class AppointmentRepo {
  constructor(readonly db: StateDb) {}

  async session(id: number, db: Db = this.db): Promise<SessionRow | undefined> {
    return (await db
      .selectFrom('appointment_sessions')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()) as SessionRow | undefined;
  }

  /**
   * Takes the session's row lock for the rest of the transaction: on PostgreSQL the UPDATE holds it
   * until commit (like SELECT … FOR UPDATE); on SQLite a transaction whose first statement writes
   * takes the database write lock at once (like BEGIN IMMEDIATE). Everything that changes a
   * session's bookings does this first, so their capacity checks never interleave.
   */
  async lockSession(id: number, db: Db): Promise<SessionRow | undefined> {
    return (await db
      .updateTable('appointment_sessions')
      .set((eb) => ({ lock_version: eb('lock_version', '+', 1) }))
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst()) as SessionRow | undefined;
  }

  /** Sessions of the given sites (all when undefined) whose local date is in [from, to]. */
  async sessionsBetween(
    sites: readonly string[] | undefined,
    from: string,
    to: string,
    db: Db = this.db,
  ): Promise<SessionRow[]> {
    if (sites && sites.length === 0) return [];
    let q = db
      .selectFrom('appointment_sessions')
      .selectAll()
      .where('local_date', '>=', from)
      .where('local_date', '<=', to)
      .orderBy('start_at');
    if (sites) q = q.where('site_id', 'in', sites);
    return (await q.execute()) as SessionRow[];
  }

  /** Bookings per session and slot start, by status. */
  async slotCounts(sessionIds: number[], db: Db = this.db): Promise<Map<number, Map<number, SlotCounts>>> {
    const out = new Map<number, Map<number, SlotCounts>>();
    if (sessionIds.length === 0) return out;
    const rows = await db
      .selectFrom('appointment_bookings')
      .select(['session_id', 'slot_start', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('session_id', 'in', sessionIds)
      .groupBy(['session_id', 'slot_start', 'status'])
      .execute();
    for (const r of rows) {
      const bySlot = out.get(r.session_id) ?? new Map<number, SlotCounts>();
      out.set(r.session_id, bySlot);
      const slot = Number(r.slot_start);
      const c = bySlot.get(slot) ?? emptyCounts();
      bySlot.set(slot, c);
      addStatus(c, r.status as BookingStatus, Number(r.n));
    }
    return out;
  }

  async booking(id: number, db: Db = this.db): Promise<BookingRow | undefined> {
    return (await db
      .selectFrom('appointment_bookings')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()) as BookingRow | undefined;
  }

  /** Both must match; after the retention purge the number is gone and nothing matches. */
  async bookingByCode(code: string, mobile: string, db: Db = this.db): Promise<BookingRow | undefined> {
    return (await db
      .selectFrom('appointment_bookings')
      .selectAll()
      .where('code', '=', code)
      .where('mobile', '=', mobile)
      .executeTakeFirst()) as BookingRow | undefined;
  }

  async bookingsOfSessions(sessionIds: number[]): Promise<BookingRow[]> {
    if (sessionIds.length === 0) return [];
    return (await this.db
      .selectFrom('appointment_bookings')
      .selectAll()
      .where('session_id', 'in', sessionIds)
      .orderBy('slot_start')
      .orderBy('id')
      .execute()) as BookingRow[];
  }

  /** A site's bookings by code, or by the number's last four digits within the given sessions. */
  async search(siteId: string, q: string, sessionIds: number[]): Promise<BookingRow[]> {
    let query = this.db.selectFrom('appointment_bookings').selectAll().where('site_id', '=', siteId);
    if (/^\d{4}$/.test(q)) {
      if (sessionIds.length === 0) return [];
      query = query.where('mobile_last4', '=', q).where('session_id', 'in', sessionIds);
    } else {
      query = query.where('code', '=', q);
    }
    return (await query.orderBy('slot_start').limit(50).execute()) as BookingRow[];
  }
}

export function addStatus(c: SlotCounts, status: BookingStatus, n = 1): void {
  if (status === 'cancelled') c.cancelled += n;
  else {
    c.booked += n;
    if (status === 'checked_in') c.checkedIn += n;
    if (status === 'no_show') c.noShow += n;
  }
}
