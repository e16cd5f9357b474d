import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireUser } from '../../auth/session.js';
import type { ApiContext } from '../context.js';

export function healthRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/healthz', { schema: { tags: ['health'] } }, async () => ({ ok: true }));

    /** 503 until every part can do its job, so a load balancer sends no devices to a hub that would drop them. */
    app.get('/readyz', { schema: { tags: ['health'] } }, async (_request, reply) => {
      const parts = await ctx.ready();
      const ok = Object.values(parts).every(Boolean);
      return reply.code(ok ? 200 : 503).send({ ok, parts });
    });

    app.get('/api/stats', { preHandler: requireUser(ctx.users), schema: { tags: ['health'] } }, async () => ({
      ingest: ctx.ingest.stats,
      connectedDevices: ctx.broker.aedes.connectedClients,
      rssBytes: process.memoryUsage().rss,
      uptimeS: Math.round(process.uptime()),
    }));
  };
}
