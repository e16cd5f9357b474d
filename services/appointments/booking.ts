import type {
  AppointmentNotice,
  BookingBody,
  RescheduleBody,
  Screening,
  User,
} from '../../contract/index.js';
import { HubError, localDateOf } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import { newConfirmationCode } from './codes.js';
import { type AppointmentRepo, type BookingRow, type SessionRow, sessionScreenings } from './repo.js';
import { type Slot, slotAt, slotOpen } from './slots.js';

/**
 * Residents' bookings: book, cancel and reschedule (public, by confirmation code and number) and
 * check-in (the site's manager).
 *
 * Capacity: every change to a session's bookings runs in one transaction that first takes the
 * session's row lock (AppointmentRepo.lockSession), then counts the slot's live bookings and
 * inserts only below capacity. On SQLite the hub's single connection runs that transaction alone
 * and its first statement takes the write lock; on PostgreSQL the UPDATE row-locks the session until
 * commit, so concurrent bookings of one session queue on it (READ COMMITTED suffices: each sees the
 * rows the previous one committed). The partial unique index on (session_id, mobile) backs the
 * one-booking-per-number rule in the database itself.
 */
export class BookingService {
  constructor(
    private readonly repo: AppointmentRepo,
    private readonly bus: EventBus,
    private readonly opts: { timeZone: string; cutoffMs: number; now: () => number },
  ) {}

  async book(body: BookingBody): Promise<BookingRow> {
    const now = this.opts.now();
    const row = await this.repo
      .transaction(async (tx) => {
        const s = await tx.lockSession(body.sessionId);
        const slot = this.bookableSlot(s, body.slotStartAt, body.screening, now);
        await checkOnePerSession(tx, s!.id, body.mobile);
        await checkCapacity(tx, s!, slot);
        return tx.insertBooking({
          code: await uniqueCode(tx),
          session_id: s!.id,
          site_id: s!.site_id,
          slot_start: slot.startAt,
          slot_end: slot.endAt,
          screening: body.screening,
          name: body.name,
          mobile: body.mobile,
          mobile_last4: body.mobile.slice(-4),
          status: 'booked',
          cancelled_by: null,
          checked_in_at: null,
          checked_in_by: null,
          created_at: now,
          updated_at: now,
          purged_at: null,
        });
      })
      .catch(uniqueToAlreadyBooked);
    this.changed(row, { type: 'booking.created', bookingId: row.id });
    return row;
  }

  /** A resident's own booking: code and number must both match. */
  async find(code: string, mobile: string): Promise<BookingRow> {
    const b = await this.repo.bookingByCode(code, mobile);
    if (!b) throw new HubError('BOOKING_NOT_FOUND', 'no booking with this code and number');
    return b;
  }

  async cancel(code: string, mobile: string): Promise<BookingRow> {
    const b = await this.find(code, mobile);
    this.assertChangeable(b);
    const row = await this.repo.updateBooking(b.id, ['booked'], {
      status: 'cancelled',
      cancelled_by: 'resident',
      updated_at: this.opts.now(),
    });
    if (!row) throw new HubError('BOOKING_NOT_ACTIVE', 'the booking changed meanwhile');
    this.changed(row, { type: 'booking.cancelled', bookingId: row.id });
    return row;
  }

  /** Moves a booking to another slot, of the same session or another one, keeping its code. */
  async reschedule(body: RescheduleBody): Promise<BookingRow> {
    const before = await this.find(body.code, body.mobile);
    this.assertChangeable(before);
    const now = this.opts.now();
    const row = await this.repo
      .transaction(async (tx) => {
        // Lock both sessions in id order, so two reschedules in opposite directions cannot deadlock.
        const ids = [...new Set([before.session_id, body.sessionId])].sort((a, b) => a - b);
        const locked = new Map<number, SessionRow | undefined>();
        for (const id of ids) locked.set(id, await tx.lockSession(id));
        const current = await tx.booking(before.id);
        if (!current || current.session_id !== before.session_id || current.status !== 'booked') {
          throw new HubError('BOOKING_NOT_ACTIVE', 'the booking changed meanwhile');
        }
        const s = locked.get(body.sessionId);
        const screening = body.screening ?? (current.screening as Screening);
        const slot = this.bookableSlot(s, body.slotStartAt, screening, now);
        if (s!.id !== current.session_id) await checkOnePerSession(tx, s!.id, body.mobile);
        await checkCapacity(tx, s!, slot, current.id);
        const moved = await tx.updateBooking(current.id, ['booked'], {
          session_id: s!.id,
          site_id: s!.site_id,
          slot_start: slot.startAt,
          slot_end: slot.endAt,
          screening,
          updated_at: now,
        });
        if (!moved) throw new HubError('BOOKING_NOT_ACTIVE', 'the booking changed meanwhile');
        return moved;
      })
      .catch(uniqueToAlreadyBooked);
    const moved =
      Number(row.slot_start) !== Number(before.slot_start) || row.session_id !== before.session_id;
    if (before.site_id !== row.site_id) this.changed(before);
    this.changed(
      row,
      moved
        ? { type: 'booking.rescheduled', bookingId: row.id, previousSlotStart: Number(before.slot_start) }
        : undefined,
      [this.dateOf(before)],
    );
    return row;
  }

  /** The site's manager (or an admin) checks a resident in on the day; a no-show who turns up late counts. */
  async checkIn(id: number, user: User): Promise<BookingRow> {
    const b = await this.repo.booking(id);
    if (!b || (user.role === 'manager' && !user.siteIds.includes(b.site_id))) {
      throw new HubError('BOOKING_NOT_FOUND', `no booking ${id}`);
    }
    if (b.status === 'checked_in') throw new HubError('ALREADY_CHECKED_IN', 'already checked in');
    if (b.status === 'cancelled') throw new HubError('BOOKING_NOT_ACTIVE', 'the booking was cancelled');
    const now = this.opts.now();
    if (this.dateOf(b) !== localDateOf(now, this.opts.timeZone)) {
      throw new HubError('CHECK_IN_NOT_TODAY', `the booking is for ${this.dateOf(b)}`);
    }
    const row = await this.repo.updateBooking(id, ['booked', 'no_show'], {
      status: 'checked_in',
      checked_in_at: now,
      checked_in_by: user.id,
      updated_at: now,
    });
    if (!row) throw new HubError('BOOKING_NOT_ACTIVE', 'the booking changed meanwhile');
    this.changed(row);
    return row;
  }

  /** Counts at the booking's site changed; `notice` is what its resident should be told, if anything. */
  private changed(row: BookingRow, notice?: AppointmentNotice, alsoDates: string[] = []): void {
    const dates = [...new Set([...alsoDates, this.dateOf(row)])];
    this.bus.emit('appointments.changed', { siteId: row.site_id, dates, ...(notice && { notice }) });
  }

  dateOf(b: BookingRow): string {
    return localDateOf(Number(b.slot_start), this.opts.timeZone);
  }

  private assertChangeable(b: BookingRow): void {
    if (b.status !== 'booked') throw new HubError('BOOKING_NOT_ACTIVE', `the booking is ${b.status}`);
    if (Number(b.slot_start) <= this.opts.now()) throw new HubError('SLOT_CLOSED', 'the slot has started');
  }

  private bookableSlot(s: SessionRow | undefined, startAt: number, screening: Screening, now: number): Slot {
    if (!s)
      throw new HubError('SESSION_NOT_FOUND', 'no such session', [
        { path: 'body.sessionId', message: 'unknown' },
      ]);
    if (s.status === 'cancelled') throw new HubError('SESSION_CANCELLED', 'the session is cancelled');
    const slot = slotAt(s, startAt);
    if (!slot) {
      throw new HubError('SLOT_NOT_FOUND', 'no slot starts then', [
        { path: 'body.slotStartAt', message: 'not a slot start' },
      ]);
    }
    if (!slotOpen(slot, now, this.opts.cutoffMs)) {
      const minutes = Math.round(this.opts.cutoffMs / 60_000);
      throw new HubError(
        'SLOT_CLOSED',
        slot.startAt <= now ? 'the slot is in the past' : `booking closes ${minutes} min before the slot`,
        [{ path: 'body.slotStartAt', message: 'closed for booking' }],
      );
    }
    if (!sessionScreenings(s).includes(screening)) {
      throw new HubError('SCREENING_NOT_OFFERED', `${screening} is not offered in this session`, [
        { path: 'body.screening', message: 'not offered' },
      ]);
    }
    return slot;
  }
}

async function checkOnePerSession(tx: AppointmentRepo, sessionId: number, mobile: string): Promise<void> {
  if (await tx.hasLiveBooking(sessionId, mobile)) {
    throw new HubError('ALREADY_BOOKED', 'this number already has a booking in this session', [
      { path: 'body.mobile', message: 'already booked in this session' },
    ]);
  }
}

async function checkCapacity(tx: AppointmentRepo, s: SessionRow, slot: Slot, except?: number): Promise<void> {
  if ((await tx.slotBookings(s.id, slot.startAt, except)) >= s.capacity_per_slot) {
    throw new HubError('SLOT_FULL', 'the slot is fully booked');
  }
}

/** Collisions are ~1 in 10^12 per pair; checking first keeps a PostgreSQL transaction from aborting. */
async function uniqueCode(tx: AppointmentRepo): Promise<string> {
  for (;;) {
    const code = newConfirmationCode();
    if (!(await tx.codeTaken(code))) return code;
  }
}

/** The database's own one-per-number guarantee, if the check above were ever bypassed. */
function uniqueToAlreadyBooked(err: unknown): never {
  const code = (err as { code?: string }).code;
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505') {
    throw new HubError('ALREADY_BOOKED', 'this number already has a booking in this session');
  }
  throw err;
}
