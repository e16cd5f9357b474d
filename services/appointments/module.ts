import { sql } from 'kysely';
import { isoLocal } from '../../contract/index.js';
import type { Config } from '../config.js';
import type { StateDb } from '../state/db.js';
import type { SiteRepo } from '../state/sites.js';
import { AuditLog } from './audit.js';
import { type BookingEvents, BookingService } from './booking.js';
import { AppointmentsLive } from './live.js';
import { AppointmentRepo, type BookingRow } from './repo.js';
import { AppointmentScheduler } from './scheduler.js';
import { type SessionEvents, SessionService } from './sessions.js';
import { AppointmentSummaries } from './summary.js';
import { type WebhookEvent, WebhookNotifier } from './webhook.js';

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type Appointments = Awaited<ReturnType<typeof createAppointments>>;

/**
 * Health-screening appointments, wired: sessions, bookings, summaries, audit log, webhook, live
 * feed and the scheduler. `now` is the clock of every appointment rule (tests pass their own).
 */
export async function createAppointments(deps: {
  db: StateDb;
  sites: SiteRepo;
  config: Config;
  now?: () => number;
}) {
  const { db, sites, config } = deps;
  const now = deps.now ?? Date.now;
  const timeZone = config.HUB_TZ;
  const cutoffMs = config.BOOKING_CUTOFF_MIN * 60_000;
  let log: Log = { warn: () => {}, error: () => {} };
  const onError = (err: unknown) => log.error({ err }, 'appointments');

  // Erased names and numbers are overwritten in the file too, not just unlinked from the row.
  await sql`pragma secure_delete = on`.execute(db).catch(() => {});

  const repo = new AppointmentRepo(db);
  const summaries = new AppointmentSummaries(repo, { timeZone, cutoffMs, now });
  const live = new AppointmentsLive(summaries, onError);
  const audit = new AuditLog(db, now);
  const webhook = new WebhookNotifier({
    url: config.WEBHOOK_URL,
    secret: config.WEBHOOK_SECRET,
    maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
    retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
  });

  /** Builds the notification after the change committed; never delays or fails the request. */
  const notify = (
    type: WebhookEvent,
    b: BookingRow,
    extra: { previousSlotStart?: number; reason?: string } = {},
  ) => {
    if (!webhook.enabled || b.name === null || b.mobile === null) return;
    void sites
      .get(b.site_id)
      .then((site) => {
        if (!site) return;
        webhook.send(
          type,
          {
            booking: {
              code: b.code,
              name: b.name!,
              mobile: b.mobile!,
              slotStart: isoLocal(Number(b.slot_start), timeZone),
              slotEnd: isoLocal(Number(b.slot_end), timeZone),
              ...(extra.previousSlotStart !== undefined && {
                previousSlotStart: isoLocal(extra.previousSlotStart, timeZone),
              }),
            },
            // The notice goes out in Chinese; the webhook's address stays one string.
            site: { id: site.id, name: site.name, address: site.address.zh },
            ...(extra.reason && { reason: extra.reason }),
          },
          isoLocal(now(), timeZone),
        );
      })
      .catch(onError);
  };

  const bookingEvents: BookingEvents = {
    changed: (siteId, dates) => live.changed(siteId, dates),
    booked: (b) => notify('booking.created', b),
    cancelled: (b) => notify('booking.cancelled', b),
    rescheduled: (b, previousSlotStart) => notify('booking.rescheduled', b, { previousSlotStart }),
  };
  const sessionEvents: SessionEvents = {
    changed: (siteId, dates) => live.changed(siteId, dates),
    cancelled: (session, bookingIds) => {
      void (async () => {
        for (const id of bookingIds) {
          const b = await repo.booking(id);
          if (b) notify('session.cancelled', b, { reason: session.cancel_reason ?? undefined });
        }
      })().catch(onError);
    },
  };

  const bookings = new BookingService(repo, bookingEvents, { timeZone, cutoffMs, now });
  const sessions = new SessionService(repo, sites, sessionEvents, { timeZone, now });
  const scheduler = new AppointmentScheduler(db, {
    timeZone,
    retentionDays: config.PERSONAL_DATA_RETENTION_DAYS,
    intervalMs: config.APPOINTMENT_SWEEP_S * 1000,
    now,
    changed: (siteId, dates) => live.changed(siteId, dates),
    onError,
  });

  return {
    repo,
    sessions,
    bookings,
    summaries,
    audit,
    webhook,
    live,
    scheduler,
    timeZone,
    now,
    setLogger(l: Log) {
      log = l;
      webhook.log = l;
    },
    start: () => scheduler.start(),
    async close() {
      await scheduler.stop();
      await live.close();
      webhook.close();
    },
  };
}
