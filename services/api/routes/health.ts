import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireUser } from '../../auth/session.js';
import type { ApiContext } from '../context.js';

const readiness = z.object({
  ok: z.boolean(),
  parts: z.record(z.string(), z.boolean()),
  outages: z
    .array(
      z.object({
        part: z.string(),
        from: z.number().describe('ms since the epoch'),
        to: z.number().nullable().describe('null while it lasts'),
        message: z.string(),
      }),
    )
    .optional()
    .describe('in a cluster: when Redis was down, the last 20 times, so a short outage is seen after it'),
});

export function healthRoutes(
  ctx: Pick<ApiContext, 'broker' | 'bus' | 'finder' | 'ingest' | 'live' | 'ready' | 'users' | 'cluster'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    // Event-loop stalls are what a station manager feels as a frozen dashboard; keep them visible.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    app.addHook('onClose', async () => loop.disable());

    app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is alive' } }, async () => ({
      ok: true,
    }));

    /** 503 until every part can do its job, so a load balancer sends no devices to a hub that would drop them. */
    app.get(
      '/readyz',
      {
        schema: {
          tags: ['health'],
          summary: 'State store, telemetry store and broker are ready (503 otherwise)',
          response: { 200: readiness, 503: readiness.describe('a part is not ready') },
        },
      },
      async (_request, reply) => {
        const parts = await ctx.ready();
        const ok = Object.values(parts).every(Boolean);
        const outages = ctx.cluster?.outages();
        return reply
          .code(ok ? 200 : 503)
          .send({ ok, parts, ...(outages?.length && { outages: [...outages] }) });
      },
    );

    /**
     * The hub's own counters describe every site at once and the machine it runs on: operating the
     * hub is an admin's job, so only admins read them (issue 8 item 5). Managers see their devices'
     * refusals at /api/ingest/errors; planners work from telemetry and appointment figures.
     */
    const admins = requireUser(ctx.users, ['admin']);
    const stats = () => ({
      ingest: ctx.ingest.stats,
      bus: ctx.bus.stats,
      broker: ctx.broker.stats,
      live: ctx.live.stats,
      /** Public finder snapshot builds against requests served (issue 16). */
      finder: ctx.finder.stats,
      connectedDevices: ctx.broker.aedes.connectedClients,
      rssBytes: process.memoryUsage().rss,
      uptimeS: Math.round(process.uptime()),
      eventLoopDelayMs: { max: loop.max / 1e6, p99: loop.percentile(99) / 1e6 },
      ...(ctx.cluster && { cluster: ctx.cluster.stats() }),
    });

    app.get(
      '/api/stats',
      {
        onRequest: admins,
        // Strict, so a caller still sending the old `?reset=true` learns it no longer resets anything.
        schema: { tags: ['health'], summary: "The hub's counters (admins)", querystring: z.strictObject({}) },
      },
      async () => stats(),
    );

    app.post(
      '/api/stats/reset',
      {
        onRequest: admins,
        schema: {
          tags: ['health'],
          summary: 'Read the counters, then start a new event-loop delay window (admins)',
        },
      },
      // A GET changed state before; a benchmark reads and resets in one step, so nothing falls between.
      async () => {
        const before = stats();
        loop.reset();
        return before;
      },
    );
  };
}
