import type {
  AppointmentsDay,
  PublicSession,
  SessionSummary,
  StatsQuery,
  StatsReply,
  StatsRow,
} from '../../contract/index.js';
import { addDays, localDateOf, localParts, weekStart } from '../../contract/index.js';
import {
  type AppointmentRepo,
  emptyCounts,
  type SessionRow,
  type SlotCounts,
  sessionScreenings,
} from './repo.js';
import { slotOpen, slotsOf } from './slots.js';

/** Counts of sessions and bookings (never who booked) for the live feed, planners and residents. */
export class AppointmentSummaries {
  constructor(
    private readonly repo: AppointmentRepo,
    private readonly opts: { timeZone: string; cutoffMs: number; now: () => number },
  ) {}

  today(): string {
    return localDateOf(this.opts.now(), this.opts.timeZone);
  }

  /** Every site's day that has sessions, for the given sites (all when undefined). */
  async days(sites: readonly string[] | undefined, date: string): Promise<AppointmentsDay[]> {
    const sessions = await this.repo.sessionsBetween(sites, date, date);
    const counts = await this.repo.slotCounts(sessions.map((s) => s.id));
    const bySite = new Map<string, SessionSummary[]>();
    for (const s of sessions) {
      const list = bySite.get(s.site_id) ?? [];
      list.push(this.session(s, counts.get(s.id)));
      bySite.set(s.site_id, list);
    }
    return [...bySite].map(([siteId, list]) => day(siteId, date, list));
  }

  async day(siteId: string, date: string): Promise<AppointmentsDay> {
    return (await this.days([siteId], date))[0] ?? day(siteId, date, []);
  }

  session(s: SessionRow, counts: Map<number, SlotCounts> | undefined): SessionSummary {
    const tz = this.opts.timeZone;
    const slots = slotsOf(s).map((slot) => ({
      start: localParts(slot.startAt, tz).time,
      end: localParts(slot.endAt, tz).time,
      startAt: slot.startAt,
      endAt: slot.endAt,
      capacity: s.capacity_per_slot,
      ...(counts?.get(slot.startAt) ?? emptyCounts()),
    }));
    const total = sumCounts(slots);
    return {
      id: s.id,
      siteId: s.site_id,
      seriesId: s.series_id,
      date: s.local_date,
      start: s.start_time,
      end: s.end_time,
      startAt: Number(s.start_at),
      endAt: Number(s.end_at),
      slotMinutes: s.slot_minutes,
      capacityPerSlot: s.capacity_per_slot,
      screenings: sessionScreenings(s),
      doctorName: s.doctor_name,
      status: s.status as SessionSummary['status'],
      cancelReason: s.cancel_reason,
      capacity: s.status === 'cancelled' ? 0 : s.capacity_per_slot * slots.length,
      ...total,
      slots,
    };
  }

  /** A site's sessions on a date, as a resident picking a slot sees them. */
  async publicSessions(siteId: string, date: string): Promise<PublicSession[]> {
    const now = this.opts.now();
    const sessions = (await this.repo.sessionsBetween([siteId], date, date)).filter(
      (s) => s.status === 'scheduled',
    );
    const counts = await this.repo.slotCounts(sessions.map((s) => s.id));
    return sessions.map((s) => {
      const summary = this.session(s, counts.get(s.id));
      return {
        id: s.id,
        date: s.local_date,
        start: s.start_time,
        end: s.end_time,
        doctorName: s.doctor_name,
        screenings: summary.screenings,
        slots: summary.slots.map((sl) => {
          const available = Math.max(0, sl.capacity - sl.booked);
          return {
            start: sl.start,
            end: sl.end,
            startAt: sl.startAt,
            endAt: sl.endAt,
            available,
            bookable: available > 0 && slotOpen(sl, now, this.opts.cutoffMs),
          };
        }),
      };
    });
  }

  /** Per site, the days of the coming `days` with a slot still open for booking. */
  async upcomingDays(days = 28): Promise<Map<string, string[]>> {
    const now = this.opts.now();
    const from = localDateOf(now, this.opts.timeZone);
    const sessions = (await this.repo.sessionsBetween(undefined, from, addDays(from, days))).filter(
      (s) =>
        s.status === 'scheduled' && Number(s.end_at) - s.slot_minutes * 60_000 > now + this.opts.cutoffMs,
    );
    const out = new Map<string, string[]>();
    for (const s of sessions) {
      const list = out.get(s.site_id) ?? [];
      if (!list.includes(s.local_date)) list.push(s.local_date);
      out.set(s.site_id, list);
    }
    return out;
  }

  /** Planner figures per site (and period), counts only. */
  async stats(q: StatsQuery, sites: readonly string[] | undefined): Promise<StatsReply> {
    const now = this.opts.now();
    const only = q.siteId ? (sites && !sites.includes(q.siteId) ? [] : [q.siteId]) : sites;
    const sessions = await this.repo.sessionsBetween(only, q.from, q.to);
    const counts = await this.repo.slotCounts(sessions.map((s) => s.id));
    const rows = new Map<string, StatsRow>();
    const totals = emptyFigures();
    for (const s of sessions) {
      const period = periodOf(s.local_date, q.groupBy);
      const key = `${s.site_id}|${period}`;
      const row = rows.get(key) ?? { siteId: s.site_id, period, ...emptyFigures() };
      rows.set(key, row);
      const c = sumCounts(counts.get(s.id)?.values() ?? []);
      for (const f of [row, totals]) {
        if (s.status === 'cancelled') f.sessionsCancelled++;
        else {
          f.sessions++;
          if (Number(s.end_at) <= now) f.sessionsHeld++;
          f.slotsOffered += slotsOf(s).length * s.capacity_per_slot;
        }
        f.booked += c.booked;
        f.attended += c.checkedIn;
        f.noShows += c.noShow;
        f.cancelled += c.cancelled;
      }
    }
    const list = [...rows.values()].map(withRates);
    list.sort((a, b) => a.siteId.localeCompare(b.siteId) || (a.period ?? '').localeCompare(b.period ?? ''));
    return { from: q.from, to: q.to, groupBy: q.groupBy, rows: list, totals: withRates(totals) };
  }
}

function sumCounts(list: Iterable<SlotCounts>): SlotCounts {
  const total = emptyCounts();
  for (const c of list) {
    total.booked += c.booked;
    total.checkedIn += c.checkedIn;
    total.noShow += c.noShow;
    total.cancelled += c.cancelled;
  }
  return total;
}

function day(siteId: string, date: string, sessions: SessionSummary[]): AppointmentsDay {
  const totals = { sessions: 0, capacity: 0, ...emptyCounts() };
  for (const s of sessions) {
    if (s.status === 'scheduled') totals.sessions++;
    totals.capacity += s.capacity;
    totals.booked += s.booked;
    totals.checkedIn += s.checkedIn;
    totals.noShow += s.noShow;
    totals.cancelled += s.cancelled;
  }
  return { siteId, date, sessions, totals };
}

type Figures = Omit<StatsRow, 'siteId' | 'period'>;

function emptyFigures(): Figures {
  return {
    sessions: 0,
    sessionsHeld: 0,
    sessionsCancelled: 0,
    slotsOffered: 0,
    booked: 0,
    attended: 0,
    noShows: 0,
    cancelled: 0,
    fillRate: null,
    noShowRate: null,
  };
}

function withRates<T extends Figures>(f: T): T {
  const round = (x: number) => Math.round(x * 10_000) / 10_000;
  const resolved = f.attended + f.noShows;
  return {
    ...f,
    fillRate: f.slotsOffered > 0 ? round(f.booked / f.slotsOffered) : null,
    noShowRate: resolved > 0 ? round(f.noShows / resolved) : null,
  };
}

function periodOf(date: string, groupBy: StatsQuery['groupBy']): string | null {
  if (groupBy === 'day') return date;
  if (groupBy === 'week') return weekStart(date);
  if (groupBy === 'month') return `${date.slice(0, 7)}-01`;
  return null;
}
