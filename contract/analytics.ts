import { z } from 'zod';
import { localDate } from './appointments.js';
import { metricName, siteId } from './device/index.js';
import { localText } from './domain.js';

/**
 * Planners' usage trends (issue 12): what the analytics API takes and answers, under
 * /api/analytics. Figures only: no reply carries a resident's name, phone number or booking code.
 * Times are instants (ms); days, weeks (from Monday) and months are the hub's zone (HUB_TZ).
 */

/** A date range as planners pick it; `custom` takes `from` and `to` (local dates, both inclusive). */
export const rangePreset = z.enum(['last7', 'last30', 'last90', 'thisMonth', 'lastMonth', 'custom']);

/** Comma-separated site ids in a query string, e.g. `sites=a,b`. */
const siteList = z
  .string()
  .max(10_000)
  .transform((s) => s.split(',').filter((x) => x !== ''))
  .pipe(z.array(siteId).max(1000));

/** The scope of every analytics query: a range, and optionally some sites or one community. */
export const analyticsScope = z.strictObject({
  range: rangePreset.default('last30'),
  from: localDate.optional(),
  to: localDate.optional(),
  sites: siteList.optional(),
  /** A community by its Chinese name, as sites carry it. */
  community: z.string().min(1).max(80).optional(),
});

/** Derived figures planners ask about, per site (summed over the range unless a rate). */
export const kpiKey = z.enum([
  'occupancyHours',
  'peakOccupancy',
  'doorOpenings',
  'waterDispensedPct',
  'umbrellasLent',
  'umbrellasReturned',
  'raincoatsLent',
  'raincoatsReturned',
  'energyKwh',
  'uptimePct',
  'openHours',
  'usableHours',
  'sessionsHeld',
  'booked',
  'attended',
  'noShows',
  'fillRate',
]);

const figure = z.number().nullable();
/** One value per kpiKey; null where the site has no device (or no session) that could tell. */
export const kpis = z.object(
  Object.fromEntries(kpiKey.options.map((k) => [k, figure])) as Record<z.infer<typeof kpiKey>, typeof figure>,
);

export const resolvedRange = z.object({
  preset: rangePreset,
  /** Local dates, both inclusive. */
  from: localDate,
  to: localDate,
  /** Instants: local midnight of `from` and of the day after `to`. */
  start: z.number().int(),
  end: z.number().int(),
  timeZone: z.string(),
});

export const siteKpis = z.object({ siteId, name: localText, community: localText, kpis });
export const communityKpis = z.object({ community: localText, sites: z.number().int(), kpis });

export const kpisReply = z.object({
  range: resolvedRange,
  sites: z.array(siteKpis),
  communities: z.array(communityKpis),
  total: kpis,
});

export const grain = z.enum(['hour', 'day', 'week', 'month']);
export const compareWith = z.enum(['none', 'previous', 'lastYear']);

export const trendQuery = analyticsScope.extend({
  kpi: kpiKey.default('occupancyHours'),
  grain: grain.default('day'),
  compare: compareWith.default('previous'),
});

export const trendPoint = z.object({
  /** Bucket start (local midnight for days, Monday for weeks, the 1st for months). */
  t: z.number().int(),
  /** Local date of the bucket start (YYYY-MM-DD), or date and hour for hours (YYYY-MM-DDTHH). */
  label: z.string(),
  value: figure,
});

export const trendReply = z.object({
  range: resolvedRange,
  kpi: kpiKey,
  grain,
  points: z.array(trendPoint),
  /** The same number of buckets of the compared period, aligned by position with `points`. */
  compare: z.object({ kind: compareWith, range: resolvedRange.nullable(), points: z.array(trendPoint) }),
});

export const heatmapQuery = analyticsScope.extend({
  kpi: z
    .enum(['occupancyHours', 'doorOpenings', 'waterDispensedPct', 'umbrellasLent'])
    .default('occupancyHours'),
});
export const heatmapCell = z.object({
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  weekday: z.number().int().min(1).max(7),
  hour: z.number().int().min(0).max(23),
  /** Mean per such hour in the range (sum over matching hours / number of them). */
  value: figure,
});
export const heatmapReply = z.object({ range: resolvedRange, kpi: kpiKey, cells: z.array(heatmapCell) });

export const leagueQuery = analyticsScope.extend({
  sort: kpiKey.default('occupancyHours'),
  order: z.enum(['asc', 'desc']).default('desc'),
  /** The KPI drawn as the sparkline (one value per day of the range). */
  spark: kpiKey.default('occupancyHours'),
  limit: z.coerce.number().int().min(1).max(1000).default(1000),
});
export const leagueRow = siteKpis.extend({
  rank: z.number().int(),
  spark: z.array(figure),
});
export const leagueReply = z.object({
  range: resolvedRange,
  sort: kpiKey,
  order: z.enum(['asc', 'desc']),
  spark: kpiKey,
  rows: z.array(leagueRow),
});

/** Statistics a rollup keeps for a device metric per bucket. */
export const seriesAgg = z.enum(['count', 'mean', 'min', 'max', 'sum', 'last']);
export const seriesGrain = z.enum(['raw', '5m', 'hour', 'day', 'week', 'month']);

export const exportTable = z.enum(['kpis', 'communities', 'league', 'trend', 'heatmap', 'series']);
export const exportFormat = z.enum(['csv', 'parquet']);

/**
 * Any table above, or a device metric's raw or rolled-up series, as a streamed file. `series`
 * takes `metric` and `grain` (raw: every reading; otherwise count, mean, min, max, sum, last per
 * bucket and device).
 */
export const exportQuery = analyticsScope.extend({
  table: exportTable,
  format: exportFormat.default('csv'),
  kpi: kpiKey.default('occupancyHours'),
  grain: seriesGrain.default('day'),
  metric: metricName.optional(),
  compare: compareWith.default('none'),
  sort: kpiKey.default('occupancyHours'),
  order: z.enum(['asc', 'desc']).default('desc'),
});

export type RangePreset = z.infer<typeof rangePreset>;
export type AnalyticsScope = z.infer<typeof analyticsScope>;
export type KpiKey = z.infer<typeof kpiKey>;
export type Kpis = z.infer<typeof kpis>;
export type ResolvedRange = z.infer<typeof resolvedRange>;
export type SiteKpis = z.infer<typeof siteKpis>;
export type CommunityKpis = z.infer<typeof communityKpis>;
export type KpisReply = z.infer<typeof kpisReply>;
export type Grain = z.infer<typeof grain>;
export type CompareWith = z.infer<typeof compareWith>;
export type TrendQuery = z.infer<typeof trendQuery>;
export type TrendPoint = z.infer<typeof trendPoint>;
export type TrendReply = z.infer<typeof trendReply>;
export type HeatmapQuery = z.infer<typeof heatmapQuery>;
export type HeatmapCell = z.infer<typeof heatmapCell>;
export type HeatmapReply = z.infer<typeof heatmapReply>;
export type LeagueQuery = z.infer<typeof leagueQuery>;
export type LeagueRow = z.infer<typeof leagueRow>;
export type LeagueReply = z.infer<typeof leagueReply>;
export type SeriesAgg = z.infer<typeof seriesAgg>;
export type SeriesGrain = z.infer<typeof seriesGrain>;
export type ExportQuery = z.infer<typeof exportQuery>;
