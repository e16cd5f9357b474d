import { type AppointmentNotice, isoLocal } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Config } from '../config.js';
import { OutboxRepo } from '../outbox/repo.js';
import { type Part, part } from '../parts.js';
import type { StateDb } from '../state/db.js';
import type { SiteRepo } from '../state/sites.js';
import { AuditLog } from './audit.js';
import { BookingService } from './booking.js';
import { AppointmentsLive } from './live.js';
import { AppointmentRepo, type BookingRow } from './repo.js';
import { AppointmentScheduler } from './scheduler.js';
import { SessionService } from './sessions.js';
import { AppointmentSummaries } from './summary.js';
import { WebhookNotifier } from './webhook.js';

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type Appointments = Awaited<ReturnType<typeof createAppointments>>;

/**
 * Health-screening appointments, wired: sessions, bookings, summaries, audit log, webhook, live
 * feed and the scheduler. Bookings and sessions tell the bus what changed; the live feed and the
 * webhook listen. `now` is the clock of every appointment rule (tests pass their own).
 */
export async function createAppointments(deps: {
  db: StateDb;
  sites: SiteRepo;
  bus: EventBus;
  config: Config;
  log: Log;
  now?: () => number;
  /** Several hubs: runs the scheduler on one of them at a time (services/cluster/lease.ts). */
  runOnce?: (name: string, inner: Part) => Part;
}) {
  const { db, sites, config, bus, log } = deps;
  const now = deps.now ?? Date.now;
  const timeZone = config.HUB_TZ;
  const cutoffMs = config.BOOKING_CUTOFF_MIN * 60_000;
  const onError = (err: unknown) => log.error({ err }, 'appointments');

  const repo = new AppointmentRepo(db);
  // Erased names and numbers are overwritten in the file too, not just unlinked from the row.
  await repo.enableSecureDelete();
  const summaries = new AppointmentSummaries(repo, { timeZone, cutoffMs, now });
  const live = new AppointmentsLive(summaries, bus, onError);
  const audit = new AuditLog(db, now);
  const webhook = new WebhookNotifier(
    new OutboxRepo(db),
    {
      url: config.WEBHOOK_URL,
      secret: config.WEBHOOK_SECRET,
      maxAttempts: config.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: config.WEBHOOK_RETRY_BASE_MS,
    },
    log,
  );

  /** Builds the notification after the change committed; never delays or fails the request. */
  const notifyOne = async (notice: AppointmentNotice, b: BookingRow) => {
    if (b.name === null || b.mobile === null) return;
    const site = await sites.get(b.site_id);
    if (!site) return;
    await webhook.send(
      notice.type,
      {
        booking: {
          code: b.code,
          name: b.name,
          mobile: b.mobile,
          slotStart: isoLocal(Number(b.slot_start), timeZone),
          slotEnd: isoLocal(Number(b.slot_end), timeZone),
          ...(notice.type === 'booking.rescheduled' && {
            previousSlotStart: isoLocal(notice.previousSlotStart, timeZone),
          }),
        },
        // The notice goes out in Chinese; the webhook's address stays one string.
        site: { id: site.id, name: site.name, address: site.address.zh },
        ...(notice.type === 'session.cancelled' && notice.reason && { reason: notice.reason }),
      },
      isoLocal(now(), timeZone),
      { bookingId: b.id, at: Number(b.updated_at) },
    );
  };
  const notify = async (notice: AppointmentNotice) => {
    const ids = notice.type === 'session.cancelled' ? notice.bookingIds : [notice.bookingId];
    for (const id of ids) {
      const b = await repo.booking(id);
      if (b) await notifyOne(notice, b);
    }
  };

  const bookings = new BookingService(repo, bus, { timeZone, cutoffMs, now });
  const sessions = new SessionService(repo, sites, bus, { timeZone, now });
  const scheduler = new AppointmentScheduler(repo, {
    timeZone,
    retentionDays: config.PERSONAL_DATA_RETENTION_DAYS,
    intervalMs: config.APPOINTMENT_SWEEP_S * 1000,
    now,
    changed: (siteId, dates) => bus.emit('appointments.changed', { siteId, dates }),
    onError,
  });

  const sweeping = part(
    'appointment sweep',
    () => scheduler.start(),
    () => scheduler.stop(),
  );
  const sweeper = deps.runOnce ? deps.runOnce('appointment-sweep', sweeping) : sweeping;

  let unsubscribe: () => void = () => {};
  return {
    name: 'appointments',
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
    async start() {
      unsubscribe = bus.on('appointments.changed', ({ notice }) => {
        if (notice && webhook.enabled) notify(notice).catch(onError);
      });
      live.start();
      await sweeper.start();
      await webhook.start();
    },
    async stop() {
      unsubscribe();
      await sweeper.stop();
      await live.stop();
      await webhook.stop();
    },
  };
}
