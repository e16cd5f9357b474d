import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  analyticsScope,
  type ExportQuery,
  exportQuery,
  HubError,
  heatmapQuery,
  heatmapReply,
  type Kpis,
  kpiKey,
  kpisReply,
  leagueQuery,
  leagueReply,
  trendQuery,
  trendReply,
  type User,
} from '../../contract/index.js';
import { currentUser, requireUser } from '../auth/session.js';
import type { UserRepo } from '../state/users.js';
import type { DuckDbRollups } from '../telemetry/rollup-duckdb.js';
import { type Cell, type ExportFile, seriesFile, tableFile } from './export.js';
import type { AnalyticsService } from './service.js';

const tags = ['analytics'];
const kpiCells = (k: Kpis): Cell[] => kpiKey.options.map((key) => k[key]);

/**
 * /api/analytics: planners and admins see every site, managers their own (a site they may not
 * see answers 404). Replies carry figures per site, never a resident's name, number or code.
 */
export function analyticsRoutes(deps: {
  users: UserRepo;
  analytics: AnalyticsService;
  rollups: DuckDbRollups;
}): FastifyPluginAsyncZod {
  const { analytics: a } = deps;
  return async (app) => {
    const anyone = requireUser(deps.users);

    app.get(
      '/kpis',
      {
        onRequest: anyone,
        schema: {
          tags,
          summary: 'KPIs per site and community over a range, with screening figures',
          querystring: analyticsScope,
          response: { 200: kpisReply },
        },
      },
      async (request) => a.kpis(currentUser(request), request.query),
    );

    app.get(
      '/trend',
      {
        onRequest: anyone,
        schema: {
          tags,
          summary: 'One KPI per hour, day, week or month, with the previous period or last year overlaid',
          querystring: trendQuery,
          response: { 200: trendReply },
        },
      },
      async (request) => a.trend(currentUser(request), request.query),
    );

    app.get(
      '/heatmap',
      {
        onRequest: anyone,
        schema: {
          tags,
          summary: 'Use by hour of day and weekday (mean per such hour)',
          querystring: heatmapQuery,
          response: { 200: heatmapReply },
        },
      },
      async (request) => a.heatmap(currentUser(request), request.query),
    );

    app.get(
      '/league',
      {
        onRequest: anyone,
        schema: {
          tags,
          summary: 'Sites ranked by a KPI, with a daily sparkline',
          querystring: leagueQuery,
          response: { 200: leagueReply },
        },
      },
      async (request) => a.league(currentUser(request), request.query),
    );

    app.get(
      '/export',
      {
        onRequest: anyone,
        schema: {
          tags,
          summary:
            'Any analytics table, or a raw or rolled-up series, as CSV (UTF-8 with BOM) or Parquet, streamed',
          querystring: exportQuery,
        },
      },
      async (request, reply) => {
        const file = await exportFile(currentUser(request), request.query);
        reply
          .header('content-type', file.contentType)
          .header('content-disposition', `attachment; filename="${file.filename}"`)
          .header('cache-control', 'no-store');
        return reply.send(file.stream);
      },
    );

    async function exportFile(user: User, q: ExportQuery): Promise<ExportFile> {
      const table = (name: string, header: string[], rows: Cell[][]) =>
        tableFile(deps.rollups, q.format, name, header, rows);
      const siteHeader = ['site_id', 'site_name_zh', 'site_name_en', 'community_zh', 'community_en'];
      switch (q.table) {
        case 'kpis': {
          const r = await a.kpis(user, q);
          return table(
            `kpis-${r.range.from}-${r.range.to}`,
            [...siteHeader, ...kpiKey.options],
            r.sites.map((s) => [
              s.siteId,
              s.name.zh,
              s.name.en ?? null,
              s.community.zh,
              s.community.en ?? null,
              ...kpiCells(s.kpis),
            ]),
          );
        }
        case 'communities': {
          const r = await a.kpis(user, q);
          return table(
            `communities-${r.range.from}-${r.range.to}`,
            ['community_zh', 'community_en', 'sites', ...kpiKey.options],
            r.communities.map((c) => [c.community.zh, c.community.en ?? null, c.sites, ...kpiCells(c.kpis)]),
          );
        }
        case 'league': {
          const r = await a.league(user, { ...q, spark: q.sort, limit: 1000 });
          return table(
            `league-${r.range.from}-${r.range.to}`,
            ['rank', ...siteHeader, ...kpiKey.options],
            r.rows.map((s) => [
              s.rank,
              s.siteId,
              s.name.zh,
              s.name.en ?? null,
              s.community.zh,
              s.community.en ?? null,
              ...kpiCells(s.kpis),
            ]),
          );
        }
        case 'trend': {
          const g = q.grain === 'raw' || q.grain === '5m' ? 'day' : q.grain;
          const r = await a.trend(user, { ...q, grain: g });
          return table(
            `trend-${q.kpi}-${r.range.from}-${r.range.to}`,
            ['bucket', 'bucket_ms', q.kpi, 'compare_bucket', `compare_${q.kpi}`],
            r.points.map((p, i) => [
              p.label,
              p.t,
              p.value,
              r.compare.points[i]?.label ?? null,
              r.compare.points[i]?.value ?? null,
            ]),
          );
        }
        case 'heatmap': {
          const kpi = heatmapQuery.shape.kpi.unwrap().safeParse(q.kpi);
          if (!kpi.success)
            throw new HubError('VALIDATION', 'no heatmap of this KPI', [
              {
                path: 'querystring.kpi',
                message: `one of ${heatmapQuery.shape.kpi.unwrap().options.join(', ')}`,
              },
            ]);
          const r = await a.heatmap(user, { ...q, kpi: kpi.data });
          return table(
            `heatmap-${q.kpi}-${r.range.from}-${r.range.to}`,
            ['weekday', 'hour', q.kpi],
            r.cells.map((c) => [c.weekday, c.hour, c.value]),
          );
        }
        case 'series': {
          if (q.grain === 'raw' && !q.metric)
            throw new HubError('VALIDATION', 'raw readings need a metric', [
              { path: 'querystring.metric', message: 'required with grain=raw' },
            ]);
          const range = a.range(q);
          const sites = await a.scope(user, q);
          return seriesFile(deps.rollups, q, {
            sites,
            start: range.start,
            end: range.end,
            timeZone: a.timeZone,
          });
        }
      }
    }
  };
}

/** With a store that keeps no rollups (InfluxDB): every analytics route says so. */
export const analyticsUnavailable: FastifyPluginAsyncZod = async (app) => {
  app.get('/*', { schema: { hide: true } }, async () => {
    throw new HubError('STORE_UNAVAILABLE', 'usage trends need the DuckDB telemetry store (rollups)');
  });
};
