import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireUser } from '../../auth/session.js';
import type { ApiContext } from '../context.js';

export function healthRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    // Event-loop stalls are what a station manager feels as a frozen dashboard; keep them visible.
    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    app.addHook('onClose', async () => loop.disable());

    app.get('/healthz', { schema: { tags: ['health'] } }, async () => ({ ok: true }));

    /** 503 until every part can do its job, so a load balancer sends no devices to a hub that would drop them. */
    app.get('/readyz', { schema: { tags: ['health'] } }, async (_request, reply) => {
      const parts = await ctx.ready();
      const ok = Object.values(parts).every(Boolean);
      return reply.code(ok ? 200 : 503).send({ ok, parts });
    });

    app.get(
      '/api/stats',
      {
        onRequest: requireUser(ctx.users),
        schema: { tags: ['health'], querystring: z.object({ reset: z.enum(['true', 'false']).optional() }) },
      },
      async (request) => {
        const stats = {
          ingest: ctx.ingest.stats,
          broker: ctx.broker.stats,
          live: ctx.live.stats,
          connectedDevices: ctx.broker.aedes.connectedClients,
          rssBytes: process.memoryUsage().rss,
          uptimeS: Math.round(process.uptime()),
          eventLoopDelayMs: { max: loop.max / 1e6, p99: loop.percentile(99) / 1e6 },
        };
        if (request.query.reset === 'true') loop.reset();
        return stats;
      },
    );
  };
}
