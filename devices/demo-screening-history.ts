import { addDays, localParts, type SiteInput, type User, zonedToEpoch } from '../contract/index.js';
import type { AppointmentRepo } from '../services/appointments/repo.js';
import { slotsOf } from '../services/appointments/slots.js';
import { demoSessionPlan } from './demo-sessions.js';
import { mulberry32 } from './simulator/patterns.js';

/**
 * The demo's past screening sessions, beside its eight weeks of telemetry, so planners' screening
 * figures (sessions held, bookings, attended, no-shows, fill rate) have something to show at once.
 *
 * Written straight into the appointments tables (the service refuses sessions in the past, as it
 * should for people). The bookings carry no names or numbers: they stand for counts only, as a
 * past booking does once its personal data is erased, so the demo invents no residents.
 * Deterministic for a seed, and written once: nothing is written if the window already holds a session.
 */

export interface ScreeningHistoryOptions {
  sites: readonly SiteInput[];
  organiser: User;
  timeZone: string;
  /** The window, ms: days from the one holding `from` up to the day before the one holding `to`. */
  from: number;
  to: number;
  now: number;
  seed?: number;
}

export async function seedScreeningHistory(
  repo: AppointmentRepo,
  o: ScreeningHistoryOptions,
): Promise<{ sessions: number; bookings: number }> {
  const first = localParts(o.from, o.timeZone).date;
  const today = localParts(o.to, o.timeZone).date;
  const days = daysBetween(first, today);
  const plan = demoSessionPlan(o.sites, first, days);
  if (plan.length === 0) return { sessions: 0, bookings: 0 };
  const there = await repo.sessionsBetween(
    o.sites.map((s) => s.id),
    first,
    addDays(today, -1),
  );
  if (there.length > 0) return { sessions: 0, bookings: 0 };
  const random = mulberry32(o.seed ?? 1);
  let bookings = 0;
  await repo.transaction(async (tx) => {
    for (const { siteId, input } of plan) {
      const startAt = zonedToEpoch(input.date, input.start, o.timeZone);
      const endAt = zonedToEpoch(input.date, input.end, o.timeZone);
      const session = await tx.insertSession({
        site_id: siteId,
        series_id: null,
        local_date: input.date,
        start_time: input.start,
        end_time: input.end,
        start_at: startAt,
        end_at: endAt,
        slot_minutes: input.slotMinutes,
        capacity_per_slot: input.capacityPerSlot,
        screenings: JSON.stringify(input.screenings),
        doctor_name: input.doctorName,
        status: 'scheduled',
        cancel_reason: null,
        created_by: o.organiser.id,
        created_at: startAt - 7 * 86_400_000,
        updated_at: startAt - 7 * 86_400_000,
      });
      // Evening and Saturday sessions fill better than weekday mornings.
      const demand = input.start >= '18:00' || input.start === '09:00' ? 0.85 : 0.6;
      for (const slot of slotsOf(session)) {
        for (let seat = 0; seat < input.capacityPerSlot; seat++) {
          if (random() > demand) continue;
          const r = random();
          const status = r < 0.8 ? 'checked_in' : r < 0.92 ? 'no_show' : 'cancelled';
          await tx.insertBooking({
            code: demoCode(session.id, slot.index, seat),
            session_id: session.id,
            site_id: siteId,
            slot_start: slot.startAt,
            slot_end: slot.endAt,
            screening: input.screenings[Math.floor(random() * input.screenings.length)]!,
            name: null,
            mobile: null,
            mobile_last4: null,
            status,
            cancelled_by: status === 'cancelled' ? 'resident' : null,
            checked_in_at: status === 'checked_in' ? slot.startAt + Math.floor(random() * 600_000) : null,
            checked_in_by: status === 'checked_in' ? o.organiser.id : null,
            created_at: startAt - Math.floor((1 + random() * 6) * 86_400_000),
            updated_at: status === 'checked_in' ? slot.startAt : slot.endAt,
            purged_at: o.now,
          });
          bookings++;
        }
      }
    }
  });
  return { sessions: plan.length, bookings };
}

function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);
}

/**
 * Unique per (session, slot, seat), and never one a resident is given or could type: real codes
 * are eight letters of CODE_ALPHABET, with no dash, 0 or 1.
 */
function demoCode(session: number, slot: number, seat: number): string {
  return `D${session.toString(36)}-${slot}-${seat}`.toUpperCase();
}
