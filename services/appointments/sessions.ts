import { randomUUID } from 'node:crypto';
import type { SessionInput, SessionPatch, Site, User } from '../../contract/index.js';
import {
  addDays,
  type FieldError,
  HubError,
  minutesOf,
  screeningHappensAt,
  zonedToEpoch,
} from '../../contract/index.js';
import type { SiteRepo } from '../state/sites.js';
import { type AppointmentRepo, type Db, LIVE_STATUSES, type SessionRow } from './repo.js';
import { sessionEndMinutes, withinOpeningHours } from './slots.js';

export interface SessionTiming {
  date: string;
  start: string;
  end: string;
  slotMinutes: number;
}

interface Occurrence extends SessionTiming {
  startAt: number;
  endAt: number;
}

export interface SessionEvents {
  /** Something about a site's sessions changed (for the live feed). */
  changed(siteId: string, dates: string[]): void;
  /** A session was cancelled; these bookings were cancelled with it. */
  cancelled(session: SessionRow, bookingIds: number[]): void;
}

/**
 * Screening sessions (坐诊): created singly or weekly, edited and cancelled by the site's manager or
 * an admin. A session must lie within the site's opening hours and not overlap another scheduled
 * session at the site; the overlap check and the insert share one transaction.
 */
export class SessionService {
  constructor(
    private readonly repo: AppointmentRepo,
    private readonly sites: SiteRepo,
    private readonly events: SessionEvents,
    private readonly opts: { timeZone: string; now: () => number },
  ) {}

  async create(siteId: string, input: SessionInput, user: User): Promise<SessionRow[]> {
    const site = await this.site(siteId);
    if (!screeningHappensAt(site)) {
      throw new HubError('SCREENING_NOT_AT_SITE', `${siteId} is a caring station: no doctors screen there`);
    }
    const occurrences = Array.from({ length: input.repeatWeeks }, (_, i) =>
      this.occurrence({ ...input, date: addDays(input.date, 7 * i) }),
    );
    this.checkTiming(site, occurrences[0]!);
    const now = this.opts.now();
    const seriesId = input.repeatWeeks > 1 ? randomUUID() : null;
    const created = await this.repo.db.transaction().execute(async (tx) => {
      for (const o of occurrences) await this.checkOverlap(tx, siteId, o);
      const rows: SessionRow[] = [];
      for (const o of occurrences) {
        const row = await tx
          .insertInto('appointment_sessions')
          .values({
            site_id: siteId,
            series_id: seriesId,
            local_date: o.date,
            start_time: o.start,
            end_time: o.end,
            start_at: o.startAt,
            end_at: o.endAt,
            slot_minutes: o.slotMinutes,
            capacity_per_slot: input.capacityPerSlot,
            screenings: JSON.stringify(input.screenings),
            doctor_name: input.doctorName,
            status: 'scheduled',
            cancel_reason: null,
            created_by: user.id,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        rows.push(row as SessionRow);
      }
      return rows;
    });
    this.events.changed(
      siteId,
      created.map((s) => s.local_date),
    );
    return created;
  }

  /**
   * Doctor, screenings offered and capacity can change while residents are booked (capacity not below
   * any slot's bookings, no screening someone booked removed); date and times only while nobody is.
   */
  async update(id: number, patch: SessionPatch, user: User): Promise<SessionRow> {
    // Read outside the transaction: SQLite has one connection, which the transaction holds.
    const found = await this.repo.session(id);
    const site = found && (await this.sites.get(found.site_id));
    const { row, before } = await this.repo.db.transaction().execute(async (tx) => {
      const s = await this.editable(tx, id, user);
      const timing: SessionTiming = {
        date: patch.date ?? s.local_date,
        start: patch.start ?? s.start_time,
        end: patch.end ?? s.end_time,
        slotMinutes: patch.slotMinutes ?? s.slot_minutes,
      };
      const retimed =
        timing.date !== s.local_date ||
        timing.start !== s.start_time ||
        timing.end !== s.end_time ||
        timing.slotMinutes !== s.slot_minutes;
      const live = await tx
        .selectFrom('appointment_bookings')
        .select(['slot_start', 'screening', (eb) => eb.fn.countAll<number>().as('n')])
        .where('session_id', '=', id)
        .where('status', 'in', LIVE_STATUSES)
        .groupBy(['slot_start', 'screening'])
        .execute();
      if (retimed && live.length > 0) {
        throw new HubError('SESSION_HAS_BOOKINGS', 'residents are booked: cancel the session instead', [
          { path: 'body', message: 'date and times cannot change while residents are booked' },
        ]);
      }
      const perSlot = new Map<number, number>();
      for (const b of live)
        perSlot.set(Number(b.slot_start), (perSlot.get(Number(b.slot_start)) ?? 0) + Number(b.n));
      const mostBooked = Math.max(0, ...perSlot.values());
      if (patch.capacityPerSlot !== undefined && patch.capacityPerSlot < mostBooked) {
        throw new HubError('CAPACITY_BELOW_BOOKED', `a slot already has ${mostBooked} bookings`, [
          { path: 'body.capacityPerSlot', message: `at least ${mostBooked}` },
        ]);
      }
      if (patch.screenings) {
        const dropped = [...new Set(live.map((b) => b.screening))].filter(
          (x) => !patch.screenings!.includes(x as never),
        );
        if (dropped.length > 0) {
          throw new HubError('SESSION_HAS_BOOKINGS', `residents booked ${dropped.join(', ')}`, [
            { path: 'body.screenings', message: `must keep ${dropped.join(', ')}` },
          ]);
        }
      }
      let o: Occurrence | undefined;
      if (retimed) {
        o = this.occurrence(timing);
        if (!site) throw new HubError('SITE_NOT_FOUND', `no site ${s.site_id}`);
        this.checkTiming(site, o);
        await this.checkOverlap(tx, s.site_id, o, id);
      }
      const updated = await tx
        .updateTable('appointment_sessions')
        .set({
          ...(o && {
            local_date: o.date,
            start_time: o.start,
            end_time: o.end,
            start_at: o.startAt,
            end_at: o.endAt,
            slot_minutes: o.slotMinutes,
          }),
          ...(patch.capacityPerSlot !== undefined && { capacity_per_slot: patch.capacityPerSlot }),
          ...(patch.screenings && { screenings: JSON.stringify(patch.screenings) }),
          ...(patch.doctorName !== undefined && { doctor_name: patch.doctorName }),
          updated_at: this.opts.now(),
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { row: updated as SessionRow, before: s };
    });
    this.events.changed(row.site_id, [...new Set([before.local_date, row.local_date])]);
    return row;
  }

  /** Cancels the session and every booking still waiting for it; those residents are notified. */
  async cancel(id: number, user: User, reason?: string): Promise<SessionRow> {
    const { row, bookingIds } = await this.repo.db.transaction().execute(async (tx) => {
      await this.editable(tx, id, user);
      const now = this.opts.now();
      const cancelled = await tx
        .updateTable('appointment_bookings')
        .set({ status: 'cancelled', cancelled_by: 'site', updated_at: now })
        .where('session_id', '=', id)
        .where('status', '=', 'booked')
        .returning('id')
        .execute();
      const updated = await tx
        .updateTable('appointment_sessions')
        .set({ status: 'cancelled', cancel_reason: reason ?? null, updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      return { row: updated as SessionRow, bookingIds: cancelled.map((b) => b.id) };
    });
    this.events.changed(row.site_id, [row.local_date]);
    this.events.cancelled(row, bookingIds);
    return row;
  }

  /** The session, locked, if this user may change it and it is still to come. */
  private async editable(tx: Db, id: number, user: User): Promise<SessionRow> {
    const s = await this.repo.lockSession(id, tx);
    if (!s || (user.role === 'manager' && !user.siteIds.includes(s.site_id))) {
      throw new HubError('SESSION_NOT_FOUND', `no session ${id}`);
    }
    if (s.status === 'cancelled') throw new HubError('SESSION_CANCELLED', 'the session is cancelled');
    if (Number(s.end_at) <= this.opts.now()) throw new HubError('SESSION_ENDED', 'the session is over');
    return s;
  }

  private async site(siteId: string): Promise<Site> {
    const site = await this.sites.get(siteId);
    if (!site) throw new HubError('SITE_NOT_FOUND', `no site ${siteId}`);
    return site;
  }

  /** Local date and times to instants in the hub's zone (HUB_TZ). */
  private occurrence(t: SessionTiming): Occurrence {
    const tz = this.opts.timeZone;
    const crossesMidnight = sessionEndMinutes(t.start, t.end) >= 24 * 60;
    return {
      ...t,
      startAt: zonedToEpoch(t.date, t.start, tz),
      endAt: zonedToEpoch(crossesMidnight ? addDays(t.date, 1) : t.date, t.end, tz),
    };
  }

  private checkTiming(site: Site, o: Occurrence): void {
    if (o.startAt <= this.opts.now()) {
      throw new HubError('SESSION_IN_PAST', 'the session must start in the future', [
        { path: 'body.date', message: 'in the past' },
        { path: 'body.start', message: 'in the past' },
      ]);
    }
    if (!withinOpeningHours(site.openingHours, o.start, o.end)) {
      const { open, close } = site.openingHours;
      const message = `outside opening hours ${open}–${close}`;
      throw new HubError('SESSION_OUTSIDE_HOURS', `the site is open ${open}–${close}`, [
        ...(withinOpeningHours(site.openingHours, o.start, addMinutes(o.start, 1))
          ? []
          : [{ path: 'body.start', message }]),
        { path: 'body.end', message },
      ]);
    }
  }

  /**
   * SQLite: the hub's one connection runs this transaction alone, so check-then-insert is atomic.
   * PostgreSQL (when the hub scales out) needs the same guarantee from the database: an exclusion
   * constraint `EXCLUDE USING gist (site_id WITH =, int8range(start_at, end_at) WITH &&) WHERE
   * (status = 'scheduled')`, which this check then merely explains in a friendlier way.
   */
  private async checkOverlap(tx: Db, siteId: string, o: Occurrence, except?: number): Promise<void> {
    let q = tx
      .selectFrom('appointment_sessions')
      .select(['id', 'local_date', 'start_time', 'end_time'])
      .where('site_id', '=', siteId)
      .where('status', '=', 'scheduled')
      .where('start_at', '<', o.endAt)
      .where('end_at', '>', o.startAt);
    if (except !== undefined) q = q.where('id', '!=', except);
    const clash = await q.executeTakeFirst();
    if (clash) {
      const fields: FieldError[] = [
        {
          path: 'body.start',
          message: `overlaps session ${clash.id} on ${clash.local_date} ${clash.start_time}–${clash.end_time}`,
        },
      ];
      throw new HubError('SESSION_OVERLAP', `overlaps another session at ${siteId} on ${o.date}`, fields);
    }
  }
}

function addMinutes(hhmm: string, n: number): string {
  const m = (minutesOf(hhmm) + n) % (24 * 60);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
