import { type Kysely, sql, type Updateable } from 'kysely';
import { type BookingStatus, HubError } from '../../contract/index.js';
import { isPostgres, pgCode } from '../state/postgres.js';
import type { Database } from '../state/tables.js';
import {
  addStatus,
  type BookingRow,
  emptyCounts,
  LIVE_STATUSES,
  type SessionRow,
  type SlotCounts,
} from './rows.js';

export * from './rows.js';

type Db = Kysely<Database>;
type NewSession = Omit<Database['appointment_sessions'], 'id' | 'lock_version'>;
type NewBooking = Omit<Database['appointment_bookings'], 'id'>;

/**
 * Every query of the appointments module. Services never see the database: a transaction is a
 * repo bound to it (`transaction(async (tx) => tx.lockSession(…))`), so the rules in booking.ts
 * and sessions.ts read as rules and the SQL stays in one place for both dialects.
 */
export class AppointmentRepo {
  constructor(private readonly db: Db) {}

  transaction<T>(fn: (tx: AppointmentRepo) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(new AppointmentRepo(trx)));
  }

  /** SQLite overwrites erased names and numbers in the file too, not just unlinks them; elsewhere a no-op. */
  async enableSecureDelete(): Promise<void> {
    if (isPostgres(this.db)) return;
    await sql`pragma secure_delete = on`.execute(this.db);
  }

  /**
   * Makes erased values unreadable in the database files as far as the engine allows. SQLite (with
   * secure_delete): the old values stay in the WAL until a checkpoint, so empty it now. PostgreSQL:
   * an UPDATE leaves the old row version as a dead tuple, and a plain VACUUM frees its space without
   * overwriting it (the erasure test found the numbers still in the heap file), so VACUUM FULL
   * rewrites the table and its indexes into new files. It locks the table for the rewrite — tens of
   * ms for a district's bookings — and runs only after a sweep erased something. WAL segments and
   * backups keep the old values until they are recycled (README).
   */
  async checkpointErased(): Promise<void> {
    if (isPostgres(this.db)) await sql`vacuum full appointment_bookings`.execute(this.db);
    else await sql`pragma wal_checkpoint(TRUNCATE)`.execute(this.db);
  }

  async session(id: number): Promise<SessionRow | undefined> {
    return (await this.db
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
  async lockSession(id: number): Promise<SessionRow | undefined> {
    return (await this.db
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
  ): Promise<SessionRow[]> {
    if (sites && sites.length === 0) return [];
    let q = this.db
      .selectFrom('appointment_sessions')
      .selectAll()
      .where('local_date', '>=', from)
      .where('local_date', '<=', to)
      .orderBy('start_at');
    if (sites) q = q.where('site_id', 'in', sites);
    return (await q.execute()) as SessionRow[];
  }

  /** A scheduled session of the site overlapping [startAt, endAt), other than `except`. */
  async overlappingSession(siteId: string, startAt: number, endAt: number, except?: number) {
    let q = this.db
      .selectFrom('appointment_sessions')
      .select(['id', 'local_date', 'start_time', 'end_time'])
      .where('site_id', '=', siteId)
      .where('status', '=', 'scheduled')
      .where('start_at', '<', endAt)
      .where('end_at', '>', startAt);
    if (except !== undefined) q = q.where('id', '!=', except);
    return q.executeTakeFirst();
  }

  async insertSession(values: NewSession): Promise<SessionRow> {
    return (await this.db
      .insertInto('appointment_sessions')
      .values(values)
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(overlapRefused)) as SessionRow;
  }

  async updateSession(id: number, set: Updateable<Database['appointment_sessions']>): Promise<SessionRow> {
    return (await this.db
      .updateTable('appointment_sessions')
      .set(set)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow()
      .catch(overlapRefused)) as SessionRow;
  }

  /** Bookings holding a place in the session, counted per slot and screening. */
  async liveBookingCounts(sessionId: number) {
    const rows = await this.db
      .selectFrom('appointment_bookings')
      .select(['slot_start', 'screening', (eb) => eb.fn.countAll<number>().as('n')])
      .where('session_id', '=', sessionId)
      .where('status', 'in', LIVE_STATUSES)
      .groupBy(['slot_start', 'screening'])
      .execute();
    return rows.map((r) => ({ slotStart: Number(r.slot_start), screening: r.screening, n: Number(r.n) }));
  }

  /** Bookings by status, all sites and days (the metrics' bookings by outcome). */
  async statusCounts(): Promise<{ status: string; n: number }[]> {
    const rows = await this.db
      .selectFrom('appointment_bookings')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return rows.map((r) => ({ status: r.status, n: Number(r.n) }));
  }

  /** Cancels the bookings still waiting for a cancelled session; returns their ids. */
  async cancelWaitingBookings(sessionId: number, now: number): Promise<number[]> {
    const rows = await this.db
      .updateTable('appointment_bookings')
      .set({ status: 'cancelled', cancelled_by: 'site', updated_at: now })
      .where('session_id', '=', sessionId)
      .where('status', '=', 'booked')
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Bookings per session and slot start, by status. */
  async slotCounts(sessionIds: number[]): Promise<Map<number, Map<number, SlotCounts>>> {
    const out = new Map<number, Map<number, SlotCounts>>();
    if (sessionIds.length === 0) return out;
    const rows = await this.db
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

  /** Live bookings of one slot, leaving out `except` (a booking being moved within it). */
  async slotBookings(sessionId: number, slotStart: number, except?: number): Promise<number> {
    let q = this.db
      .selectFrom('appointment_bookings')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('session_id', '=', sessionId)
      .where('slot_start', '=', slotStart)
      .where('status', 'in', LIVE_STATUSES);
    if (except !== undefined) q = q.where('id', '!=', except);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async hasLiveBooking(sessionId: number, mobile: string): Promise<boolean> {
    const found = await this.db
      .selectFrom('appointment_bookings')
      .select('id')
      .where('session_id', '=', sessionId)
      .where('mobile', '=', mobile)
      .where('status', 'in', LIVE_STATUSES)
      .executeTakeFirst();
    return found !== undefined;
  }

  async codeTaken(code: string): Promise<boolean> {
    const found = await this.db
      .selectFrom('appointment_bookings')
      .select('id')
      .where('code', '=', code)
      .executeTakeFirst();
    return found !== undefined;
  }

  async insertBooking(values: NewBooking): Promise<BookingRow> {
    return (await this.db
      .insertInto('appointment_bookings')
      .values(values)
      .returningAll()
      .executeTakeFirstOrThrow()) as BookingRow;
  }

  /**
   * Changes a booking only while its status is one of `from`: the status test and the update are
   * one statement, so two requests racing for the same booking cannot both win.
   */
  async updateBooking(
    id: number,
    from: readonly BookingStatus[],
    set: Updateable<Database['appointment_bookings']>,
  ): Promise<BookingRow | undefined> {
    return (await this.db
      .updateTable('appointment_bookings')
      .set(set)
      .where('id', '=', id)
      .where('status', 'in', from)
      .returningAll()
      .executeTakeFirst()) as BookingRow | undefined;
  }

  async booking(id: number): Promise<BookingRow | undefined> {
    return (await this.db
      .selectFrom('appointment_bookings')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst()) as BookingRow | undefined;
  }

  /** Both must match; after the retention purge the number is gone and nothing matches. */
  async bookingByCode(code: string, mobile: string): Promise<BookingRow | undefined> {
    return (await this.db
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

  /** Bookings not checked in by the end of their slot become no-shows; returns site and slot of each. */
  async markNoShows(now: number): Promise<{ siteId: string; slotStart: number }[]> {
    const rows = await this.db
      .updateTable('appointment_bookings')
      .set({ status: 'no_show', updated_at: now })
      .where('status', '=', 'booked')
      .where('slot_end', '<=', now)
      .returning(['site_id', 'slot_start'])
      .execute();
    return rows.map((r) => ({ siteId: r.site_id, slotStart: Number(r.slot_start) }));
  }

  /** Nulls name and number (and its last four digits) of bookings of sessions that ended before `endedBefore`. */
  async erasePersonalData(endedBefore: number, now: number): Promise<number> {
    const result = await this.db
      .updateTable('appointment_bookings')
      .set({ name: null, mobile: null, mobile_last4: null, purged_at: now })
      .where('purged_at', 'is', null)
      .where('session_id', 'in', (eb) =>
        eb.selectFrom('appointment_sessions').select('id').where('end_at', '<=', endedBefore),
      )
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

/**
 * PostgreSQL's exclusion constraint (migration 004) refused a session that overlaps another one
 * committed meanwhile (23P01): the same answer as the check in sessions.ts gives. Two overlapping
 * inserts in flight at once can instead each wait for the other's row, and PostgreSQL then aborts
 * one as a deadlock (40P01, seen in CI): the same refusal, the other session stands.
 */
function overlapRefused(err: unknown): never {
  const code = pgCode(err);
  if (code === '23P01' || code === '40P01') {
    throw new HubError('SESSION_OVERLAP', 'overlaps another session created at the same time', [
      { path: 'body.start', message: 'overlaps another session' },
    ]);
  }
  throw err;
}
