import { randomUUID } from 'node:crypto';
import type { SessionInput, SessionPatch, Site, User } from '../../contract/index.js';
import {
  addDays,
  type FieldError,
  HubError,
  minutesOf,
  screeningHappensAt,
  sessionEndMinutes,
  withinOpeningHours,
  zonedToEpoch,
} from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { SiteRepo } from '../state/sites.js';
import type { AppointmentRepo, SessionRow } from './repo.js';

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

/**
 * Screening sessions (坐诊): created singly or weekly, edited and cancelled by the site's manager or
 * an admin. A session must lie within the site's opening hours and not overlap another scheduled
 * session at the site; the overlap check and the insert share one transaction.
 */
export class SessionService {
  constructor(
    private readonly repo: AppointmentRepo,
    private readonly sites: SiteRepo,
    private readonly bus: EventBus,
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
    const created = await this.repo.transaction(async (tx) => {
      for (const o of occurrences) await checkOverlap(tx, siteId, o);
      const rows: SessionRow[] = [];
      for (const o of occurrences) {
        const row = await tx.insertSession({
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
        });
        rows.push(row);
      }
      return rows;
    });
    this.bus.emit('appointments.changed', { siteId, dates: [...new Set(created.map((s) => s.local_date))] });
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
    const { row, before } = await this.repo.transaction(async (tx) => {
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
      const live = await tx.liveBookingCounts(id);
      if (retimed && live.length > 0) {
        throw new HubError('SESSION_HAS_BOOKINGS', 'residents are booked: cancel the session instead', [
          { path: 'body', message: 'date and times cannot change while residents are booked' },
        ]);
      }
      const perSlot = new Map<number, number>();
      for (const b of live) perSlot.set(b.slotStart, (perSlot.get(b.slotStart) ?? 0) + b.n);
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
        await checkOverlap(tx, s.site_id, o, id);
      }
      const updated = await tx.updateSession(id, {
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
      });
      return { row: updated, before: s };
    });
    this.bus.emit('appointments.changed', {
      siteId: row.site_id,
      dates: [...new Set([before.local_date, row.local_date])],
    });
    return row;
  }

  /** Cancels the session and every booking still waiting for it; those residents are notified. */
  async cancel(id: number, user: User, reason?: string): Promise<SessionRow> {
    const { row, bookingIds } = await this.repo.transaction(async (tx) => {
      await this.editable(tx, id, user);
      const now = this.opts.now();
      const bookingIds = await tx.cancelWaitingBookings(id, now);
      const updated = await tx.updateSession(id, {
        status: 'cancelled',
        cancel_reason: reason ?? null,
        updated_at: now,
      });
      return { row: updated, bookingIds };
    });
    this.bus.emit('appointments.changed', {
      siteId: row.site_id,
      dates: [row.local_date],
      notice: {
        type: 'session.cancelled',
        sessionId: row.id,
        bookingIds,
        ...(row.cancel_reason && { reason: row.cancel_reason }),
      },
    });
    return row;
  }

  /** The session, locked, if this user may change it and it is still to come. */
  private async editable(tx: AppointmentRepo, id: number, user: User): Promise<SessionRow> {
    const s = await tx.lockSession(id);
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
}

/**
 * SQLite: the hub's one connection runs this transaction alone, so check-then-insert is atomic.
 * PostgreSQL (when the hub scales out) needs the same guarantee from the database: an exclusion
 * constraint `EXCLUDE USING gist (site_id WITH =, int8range(start_at, end_at) WITH &&) WHERE
 * (status = 'scheduled')`, which this check then merely explains in a friendlier way.
 */
async function checkOverlap(
  tx: AppointmentRepo,
  siteId: string,
  o: Occurrence,
  except?: number,
): Promise<void> {
  const clash = await tx.overlappingSession(siteId, o.startAt, o.endAt, except);
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

function addMinutes(hhmm: string, n: number): string {
  const m = (minutesOf(hhmm) + n) % (24 * 60);
  return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}
