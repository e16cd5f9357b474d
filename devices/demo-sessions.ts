import { z } from 'zod';
import {
  addDays,
  localParts,
  type Screening,
  type SessionInput,
  type SiteInput,
  screeningHappensAt,
  type User,
  user,
  zonedToEpoch,
} from '../contract/index.js';
import type { Appointments } from '../services/appointments/module.js';

/**
 * The demo's screening week: volunteer doctors' sessions (坐诊) at the health stations, so `/book`
 * has something to offer. Caring stations (爱心驿站) get none: nobody screens there.
 *
 * Sessions go through the appointments service, with its opening-hours and overlap rules. The plan
 * is deterministic and seeding skips any site and day that already has a session (scheduled or
 * cancelled by hand), so restarting the demo on the same `.demo-data/` adds only the days that have
 * come into the week since.
 */

export interface PlannedSession {
  siteId: string;
  input: SessionInput;
}

const doctors = ['王医生', '李医生', '张医生', '刘医生', '陈医生', '杨医生', '赵医生', '黄医生'];

// Fasting tests (glucose, lipids, uric acid) are taken in the morning; evenings suit residents
// coming from work, with the quick checks.
const morning: Screening[] = ['blood_pressure', 'blood_glucose', 'blood_lipids', 'uric_acid'];
const evening: Screening[] = ['blood_pressure', 'bmi'];
const saturday: Screening[] = ['blood_pressure', 'blood_glucose', 'ecg'];

/** 0 = Sunday … 6 = Saturday, of a YYYY-MM-DD date. */
function weekday(date: string): number {
  return new Date(`${date}T00:00:00Z`).getUTCDay();
}

/**
 * Who screens where and when in the `days` days from `from`. A health-only hut (08:00–20:00) has a
 * doctor three mornings a week, alternating Mon/Wed/Fri and Tue/Thu/Sat between neighbours; a hut
 * that is both (07:00–22:00) has two weekday evenings (Mon/Wed or Tue/Thu) and a Saturday morning.
 * Sundays are off.
 */
export function demoSessionPlan(sites: readonly SiteInput[], from: string, days = 7): PlannedSession[] {
  const plan: PlannedSession[] = [];
  sites.forEach((site, i) => {
    if (!screeningHappensAt(site)) return;
    const doctorName = doctors[i % doctors.length]!;
    for (let d = 0; d < days; d++) {
      const date = addDays(from, d);
      const wd = weekday(date);
      const base = { date, doctorName, repeatWeeks: 1 };
      if (site.type === 'health' && wd !== 0 && wd % 2 === i % 2) {
        plan.push({
          siteId: site.id,
          input: {
            ...base,
            start: '08:30',
            end: '11:30',
            slotMinutes: 30,
            capacityPerSlot: 3,
            screenings: morning,
          },
        });
      } else if (site.type === 'both' && (wd === 6 || wd === 1 + (i % 2) || wd === 3 + (i % 2))) {
        plan.push({
          siteId: site.id,
          input:
            wd === 6
              ? {
                  ...base,
                  start: '09:00',
                  end: '11:00',
                  slotMinutes: 20,
                  capacityPerSlot: 2,
                  screenings: saturday,
                }
              : {
                  ...base,
                  start: '18:30',
                  end: '20:30',
                  slotMinutes: 30,
                  capacityPerSlot: 4,
                  screenings: evening,
                },
        });
      }
    }
  });
  return plan;
}

/**
 * The user the demo plans as: whoever these credentials log in as, asked of the hub's own API
 * (the hub hands out no user store), so `created_by` names a real account.
 */
export async function organiser(httpUrl: string, credentials: { username: string; password: string }) {
  const login = await fetch(`${httpUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  const cookie = login.headers
    .getSetCookie()
    .find((c) => c.startsWith('yz_session='))
    ?.split(';')[0];
  if (!login.ok || !cookie) throw new Error(`log in as ${credentials.username}: HTTP ${login.status}`);
  const me = await fetch(`${httpUrl}/api/auth/me`, { headers: { cookie } });
  if (!me.ok) throw new Error(`GET /api/auth/me: HTTP ${me.status}`);
  return z.object({ user }).parse(await me.json()).user;
}

export interface SeedResult {
  created: number;
  /** Site-days that already had a session, whose session would start in the past, or that were refused. */
  skipped: number;
}

/** Creates this week's planned sessions that are still to come and not yet there. */
export async function seedDemoSessions(
  appointments: Pick<Appointments, 'sessions' | 'repo' | 'timeZone' | 'now'>,
  sites: readonly SiteInput[],
  organiser: User,
  opts: { days?: number; log?: (line: string) => void } = {},
): Promise<SeedResult> {
  const { timeZone } = appointments;
  const now = appointments.now();
  const from = localParts(now, timeZone).date;
  const plan = demoSessionPlan(sites, from, opts.days ?? 7);
  const existing = await appointments.repo.sessionsBetween(
    [...new Set(plan.map((p) => p.siteId))],
    from,
    addDays(from, (opts.days ?? 7) - 1),
  );
  const taken = new Set(existing.map((s) => `${s.site_id} ${s.local_date}`));
  let created = 0;
  for (const { siteId, input } of plan) {
    if (taken.has(`${siteId} ${input.date}`) || zonedToEpoch(input.date, input.start, timeZone) <= now)
      continue;
    try {
      await appointments.sessions.create(siteId, input, organiser);
      created++;
    } catch (err) {
      // A site whose hours were changed by hand may refuse the plan; the rest of the week still goes in.
      opts.log?.(`no demo session at ${siteId} on ${input.date}: ${(err as Error).message}`);
    }
  }
  const skipped = plan.length - created;
  opts.log?.(`screening sessions this week: ${created} added, ${skipped} already there, past or refused`);
  return { created, skipped };
}
