import type { AuditAction, AuditEntry, User } from '../../contract/index.js';
import type { StateDb } from '../state/db.js';

export interface AuditRecord {
  /** Undefined for a resident reading their own booking with code and number. */
  user?: User;
  action: AuditAction;
  siteId: string | null;
  bookingIds: number[];
  /** Method and route pattern, e.g. `GET /api/bookings/:bookingId`. */
  route: string;
  reason?: string;
}

/**
 * Who read which resident's personal data, when and through which route. Rows hold ids, never the
 * data itself, so the log may outlive the retention purge. One row per request: a single booking
 * opened unmasked fills `booking_id`; a list or search keeps the ids it returned in `booking_ids`.
 */
export class AuditLog {
  constructor(
    private readonly db: StateDb,
    private readonly now: () => number,
  ) {}

  async record(r: AuditRecord): Promise<void> {
    await this.db
      .insertInto('appointment_audit')
      .values({
        at: this.now(),
        user_id: r.user?.id ?? null,
        username: r.user?.username ?? null,
        role: r.user?.role ?? (r.action === 'resident_lookup' ? 'resident' : null),
        action: r.action,
        site_id: r.siteId,
        booking_id: r.bookingIds.length === 1 ? r.bookingIds[0]! : null,
        booking_ids: r.bookingIds.length > 1 ? r.bookingIds.join(',') : null,
        route: r.route,
        reason: r.reason ?? null,
      })
      .execute();
  }

  /** Newest first. `bookingId` finds single reads and the lists that included the booking. */
  async list(q: {
    bookingId?: number;
    userId?: number;
    before?: number;
    limit: number;
  }): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('appointment_audit').selectAll().orderBy('id', 'desc').limit(q.limit);
    if (q.before !== undefined) query = query.where('id', '<', q.before);
    if (q.userId !== undefined) query = query.where('user_id', '=', q.userId);
    const id = q.bookingId;
    if (id !== undefined) {
      query = query.where((eb) =>
        eb.or([
          eb('booking_id', '=', id),
          // Typed: PostgreSQL cannot infer an untyped parameter's type inside concat (42P18).
          eb(
            eb.fn('concat', [eb.cast(eb.val(','), 'text'), 'booking_ids', eb.cast(eb.val(','), 'text')]),
            'like',
            `%,${id},%`,
          ),
        ]),
      );
    }
    return (await query.execute()).map((r) => ({
      id: r.id,
      at: Number(r.at),
      userId: r.user_id,
      username: r.username,
      role: r.role,
      action: r.action as AuditAction,
      siteId: r.site_id,
      bookingIds:
        r.booking_id !== null ? [r.booking_id] : r.booking_ids ? r.booking_ids.split(',').map(Number) : [],
      route: r.route,
      reason: r.reason,
    }));
  }
}
