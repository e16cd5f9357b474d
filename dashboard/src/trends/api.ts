import type {
  CompareWith,
  ExportQuery,
  Grain,
  HeatmapReply,
  KpiKey,
  KpisReply,
  LeagueReply,
  RangePreset,
  TrendReply,
} from '../../../contract/index.js';
import { request } from '../http.js';

/** What the trends page asks of /api/analytics (contract/analytics.ts): one scope for every table. */
export interface Scope {
  range: RangePreset;
  /** Local dates, inclusive; only for `custom`. */
  from?: string;
  to?: string;
  community?: string;
  site?: string;
}

export function scopeParams(s: Scope): URLSearchParams {
  const p = new URLSearchParams({ range: s.range });
  if (s.range === 'custom' && s.from && s.to) {
    p.set('from', s.from);
    p.set('to', s.to);
  }
  if (s.community) p.set('community', s.community);
  if (s.site) p.set('sites', s.site);
  return p;
}

const get = <T>(path: string, scope: Scope, extra: Record<string, string> = {}) => {
  const p = scopeParams(scope);
  for (const [k, v] of Object.entries(extra)) p.set(k, v);
  return request<T>('GET', `/api/analytics/${path}?${p}`);
};

export const analytics = {
  kpis: (s: Scope) => get<KpisReply>('kpis', s),
  trend: (s: Scope, kpi: KpiKey, grain: Grain, compare: CompareWith) =>
    get<TrendReply>('trend', s, { kpi, grain, compare }),
  heatmap: (s: Scope, kpi: HeatmapKpi) => get<HeatmapReply>('heatmap', s, { kpi }),
  league: (s: Scope, sort: KpiKey, order: 'asc' | 'desc', spark: KpiKey) =>
    get<LeagueReply>('league', s, { sort, order, spark }),
};

export type HeatmapKpi = 'occupancyHours' | 'doorOpenings' | 'waterDispensedPct' | 'umbrellasLent';

/** A download link: the browser streams the file to disk, the page never holds it. */
export function exportUrl(
  s: Scope,
  table: ExportQuery['table'],
  format: ExportQuery['format'],
  extra: Partial<Record<'kpi' | 'grain' | 'compare' | 'sort' | 'order' | 'metric', string>> = {},
): string {
  const p = scopeParams(s);
  p.set('table', table);
  p.set('format', format);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) p.set(k, v);
  return `/api/analytics/export?${p}`;
}
