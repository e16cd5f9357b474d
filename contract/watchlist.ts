import { z } from 'zod';
import { localDate } from './appointments.js';
import { siteId } from './device/index.js';

/**
 * The planners' red and black list (issue 16): per site and period, satisfaction and complaints
 * beside usage and screening attendance. Red: residents are unhappy (a low average over enough
 * ratings, or a high share of complaints). Black: complaints left unhandled longer than the
 * allowed days, repeatedly. One pure rule; the thresholds are query parameters with defaults.
 */
export const watchlistQuery = z
  .strictObject({
    from: localDate,
    to: localDate,
    /** Red when the average rating is below this… */
    redBelowAverage: z.coerce.number().min(1).max(5).default(3),
    /** …or when this share of the ratings are complaints… */
    redComplaintShare: z.coerce.number().min(0).max(1).default(0.3),
    /** …counting only sites with at least this many ratings. */
    minRatings: z.coerce.number().int().min(1).default(5),
    /** Black: complaints not handled within this many days… */
    handleWithinDays: z.coerce.number().int().min(1).max(90).default(7),
    /** …at least this many times. */
    blackAfter: z.coerce.number().int().min(1).default(2),
    format: z.enum(['json', 'csv']).default('json'),
  })
  .refine((q) => q.from <= q.to, { path: ['to'], message: 'not before from' });

export const watchlistRow = z.object({
  siteId,
  ratings: z.number().int(),
  average: z.number().nullable(),
  complaints: z.number().int(),
  /** Complaints not handled within `handleWithinDays` (still open, or handled late). */
  complaintsOverdue: z.number().int(),
  /** Door openings in the period: how much the hut is used. */
  doorOpenings: z.number().int().nullable(),
  /**
   * Share of the period the hut was reachable, % (100 − time under a `site_dark` alert, every
   * enabled device down); null when alerts are off.
   */
  uptimePct: z.number().nullable(),
  screeningsAttended: z.number().int(),
  screeningsBooked: z.number().int(),
  red: z.boolean(),
  black: z.boolean(),
});

export const watchlistReply = z.object({
  from: localDate,
  to: localDate,
  rows: z.array(watchlistRow),
});

export type WatchlistQuery = z.infer<typeof watchlistQuery>;
export type WatchlistRow = z.infer<typeof watchlistRow>;

export type WatchlistFigures = Omit<WatchlistRow, 'red' | 'black'>;

export function watchlistFlags(
  f: WatchlistFigures,
  q: Pick<WatchlistQuery, 'redBelowAverage' | 'redComplaintShare' | 'minRatings' | 'blackAfter'>,
): { red: boolean; black: boolean } {
  const enough = f.ratings >= q.minRatings;
  const red =
    enough &&
    ((f.average !== null && f.average < q.redBelowAverage) ||
      f.complaints / f.ratings >= q.redComplaintShare);
  return { red, black: f.complaintsOverdue >= q.blackAfter };
}

const CSV_COLUMNS: Array<keyof WatchlistRow> = [
  'siteId',
  'ratings',
  'average',
  'complaints',
  'complaintsOverdue',
  'doorOpenings',
  'uptimePct',
  'screeningsBooked',
  'screeningsAttended',
  'red',
  'black',
];

/** CSV (RFC 4180) with a header row; a cell starting with = + - @ is quoted with a leading ' (CSV injection). */
export function watchlistCsv(rows: WatchlistRow[]): string {
  const cell = (v: unknown) => {
    let s = v === null || v === undefined ? '' : String(v);
    if (/^[=+\-@]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return (
    [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') +
    '\r\n'
  );
}
