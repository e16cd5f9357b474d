import {
  addDays,
  COMPLAINT_MAX_RATING,
  type StatsReply,
  type WatchlistQuery,
  type WatchlistRow,
  watchlistFlags,
  zonedToEpoch,
} from '../../contract/index.js';
import type { FeedbackRepo } from './repo.js';

export interface WatchlistDeps {
  feedback: FeedbackRepo;
  sites: { list(): Promise<Array<{ id: string }>> };
  /** Screening figures per site over local dates (the appointments summaries). */
  screening: {
    stats(
      q: { from: string; to: string; groupBy: 'none' },
      sites: readonly string[] | undefined,
    ): Promise<StatsReply>;
  };
  /** Door openings of a site over [from, to) from the telemetry store; null when it cannot answer. */
  doorOpenings(siteId: string, from: number, to: number): Promise<number | null>;
  /** Milliseconds of [from, to) the site was dark (every device down); null when not known. */
  darkMs(siteId: string, from: number, to: number): Promise<number | null>;
  timeZone: string;
  now: () => number;
}

/**
 * The red and black list (issue 16) for `sites` (all when undefined) over local dates from..to:
 * one query each for ratings, screening figures and, per site, door openings.
 */
export async function buildWatchlist(
  deps: WatchlistDeps,
  q: WatchlistQuery,
  sites: readonly string[] | undefined,
): Promise<WatchlistRow[]> {
  const from = zonedToEpoch(q.from, '00:00', deps.timeZone);
  const to = zonedToEpoch(addDays(q.to, 1), '00:00', deps.timeZone);
  const now = deps.now();
  const within = q.handleWithinDays * 86_400_000;
  const ids = (await deps.sites.list()).map((s) => s.id).filter((id) => !sites || sites.includes(id));
  const [ratings, stats] = await Promise.all([
    deps.feedback.ratings(from, to),
    deps.screening.stats({ from: q.from, to: q.to, groupBy: 'none' }, sites),
  ]);
  const rows: WatchlistRow[] = [];
  for (const id of ids.sort()) {
    const mine = ratings.filter((r) => r.site_id === id);
    const complaints = mine.filter((r) => r.rating <= COMPLAINT_MAX_RATING);
    const overdue = complaints.filter((r) => {
      const due = Number(r.created_at) + within;
      return r.handled_at === null ? now > due : Number(r.handled_at) > due;
    });
    const screening = stats.rows.find((r) => r.siteId === id);
    const figures = {
      siteId: id,
      ratings: mine.length,
      average:
        mine.length > 0
          ? Math.round((mine.reduce((n, r) => n + r.rating, 0) / mine.length) * 100) / 100
          : null,
      complaints: complaints.length,
      complaintsOverdue: overdue.length,
      doorOpenings: await deps.doorOpenings(id, from, to),
      uptimePct: uptimeOf(await deps.darkMs(id, from, Math.min(to, now)), from, Math.min(to, now)),
      screeningsBooked: screening?.booked ?? 0,
      screeningsAttended: screening?.attended ?? 0,
    };
    rows.push({ ...figures, ...watchlistFlags(figures, q) });
  }
  return rows;
}

function uptimeOf(darkMs: number | null, from: number, to: number): number | null {
  if (darkMs === null || to <= from) return null;
  return Math.round(Math.max(0, 100 - (100 * darkMs) / (to - from)) * 10) / 10;
}

/** Time of [from, to) covered by the intervals [since, end ?? now), overlaps merged. */
export function coveredMs(
  intervals: Array<{ since: number; end: number | null }>,
  from: number,
  to: number,
  now: number,
) {
  const spans = intervals
    .map((i) => [Math.max(from, i.since), Math.min(to, i.end ?? now)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let reach = from;
  for (const [a, b] of spans) {
    if (b <= reach) continue;
    total += b - Math.max(a, reach);
    reach = b;
  }
  return total;
}
