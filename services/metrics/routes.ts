import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireUser } from '../auth/session.js';
import type { Config } from '../config.js';
import type { UserRepo } from '../state/users.js';
import type { HubMetrics } from './hub-metrics.js';

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * GET /metrics in Prometheus' text format, for the scraper with METRICS_TOKEN as a bearer token,
 * or for an admin's browser session. The figures describe every site and the machine, like
 * /api/stats, so no other role reads them.
 */
export function metricsRoutes(ctx: {
  config: Pick<Config, 'METRICS_TOKEN'>;
  users: UserRepo;
  metrics: HubMetrics;
}): FastifyPluginAsyncZod {
  const admins = requireUser(ctx.users, ['admin']);
  const token = ctx.config.METRICS_TOKEN;
  const scraperOrAdmin = async (request: FastifyRequest, reply: FastifyReply) => {
    const auth = request.headers.authorization;
    if (token && auth?.startsWith('Bearer ') && sameToken(auth.slice(7), token)) return;
    await admins(request, reply);
  };
  return async (app) => {
    app.get(
      '/metrics',
      {
        onRequest: scraperOrAdmin,
        // Prometheus' text format, not JSON: documented in the README, not in the OpenAPI document.
        schema: { hide: true },
      },
      async (_request, reply) => {
        const text = await ctx.metrics.registry.metrics();
        return reply.type(ctx.metrics.registry.contentType).send(text);
      },
    );
  };
}
