import rateLimit from '@fastify/rate-limit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { assertSiteVisible, HubError, publicStations, siteId } from '../../contract/index.js';
import type { ApiContext } from '../api/context.js';
import { currentUser, requireUser } from '../auth/session.js';
import type { Config } from '../config.js';
import { posterSvg } from './poster.js';
import type { Built, FinderSnapshot } from './snapshot.js';

/**
 * The public finder's API (issue 16), no login, under `/api/public`. Rate-limited per client
 * address like the booking routes (its own limiter, scoped to this plugin).
 *
 * Live updates are short polling with the ETag, not Server-Sent Events: a reply that did not
 * change is a 304 of a few bytes, costs the hub one string comparison, and holds no connection
 * per passer-by (a crowd at a bus stop would otherwise keep hundreds of sockets open on a 2-core
 * box); it also passes every proxy and the CSP's `connect-src 'self'`. The staff socket needs a
 * login, so it is not an option. `max-age` matches the page's polling interval.
 */
export const FINDER_POLL_S = 10;

export function finderRoutes(
  finder: FinderSnapshot,
  config: Pick<Config, 'PUBLIC_RATE_LIMIT_MAX' | 'PUBLIC_RATE_LIMIT_WINDOW_S'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(rateLimit, {
      global: true,
      max: config.PUBLIC_RATE_LIMIT_MAX,
      timeWindow: config.PUBLIC_RATE_LIMIT_WINDOW_S * 1000,
      errorResponseBuilder: (_request, c) =>
        new HubError('RATE_LIMITED', `too many requests; try again in ${c.after}`),
    });

    function send(request: FastifyRequest, reply: FastifyReply, built: Built): void {
      finder.stats.requests += 1;
      reply.header('etag', built.etag).header('cache-control', `public, max-age=${FINDER_POLL_S}`);
      if (request.headers['if-none-match'] === built.etag) {
        finder.stats.notModified += 1;
        reply.code(304).send();
        return;
      }
      // Prepared JSON text: fastify sends a string with a JSON type as it is, without serializing.
      reply.type('application/json; charset=utf-8').send(built.body);
    }

    app.get(
      '/stations',
      {
        schema: {
          tags: ['finder'],
          summary: 'Every station with its "usable now" answer (no login; ETag, poll every 10 s)',
          response: { 200: publicStations },
        },
      },
      (request, reply) => {
        send(request, reply, finder.all());
      },
    );

    app.get(
      '/stations/:siteId',
      {
        schema: {
          tags: ['finder'],
          summary: 'One station with its "usable now" answer (no login)',
          params: z.object({ siteId }),
          response: { 200: publicStations },
        },
      },
      (request, reply) => {
        const built = finder.one(request.params.siteId);
        if (!built) throw new HubError('SITE_NOT_FOUND', `no station ${request.params.siteId}`);
        send(request, reply, built);
      },
    );
  };
}

/** The A5 QR poster of a site, for staff who may see the site (the site page links it). */
export function posterRoutes(ctx: Pick<ApiContext, 'sites' | 'users'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/sites/:siteId/poster.svg',
      {
        onRequest: requireUser(ctx.users),
        schema: {
          tags: ['finder'],
          summary: "A printable A5 poster with the QR code of the site's finder card (SVG)",
          params: z.object({ siteId }),
        },
      },
      async (request, reply) => {
        assertSiteVisible(currentUser(request), request.params.siteId);
        const site = await ctx.sites.get(request.params.siteId);
        if (!site) throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId}`);
        // The address the staff reached the hub by (behind a proxy, its public name: trustProxy).
        const url = `${request.protocol}://${request.host}/stations/${encodeURIComponent(site.id)}`;
        return reply
          .type('image/svg+xml; charset=utf-8')
          .header('content-disposition', `inline; filename="poster-${site.id}.svg"`)
          .send(await posterSvg(site, url));
      },
    );
  };
}
