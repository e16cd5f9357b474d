import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { device, HubError, site, siteId, siteInput, siteLive } from '../../../contract/index.js';
import { assertSiteVisible, requireUser, visibleSites } from '../../auth/session.js';
import { publicDevice } from '../../state/devices.js';
import type { ApiContext } from '../context.js';

const siteParams = z.object({ siteId });

export function siteRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    const anyone = requireUser(ctx.users);

    app.get(
      '/sites',
      {
        preHandler: anyone,
        schema: { tags: ['sites'], response: { 200: z.object({ sites: z.array(site) }) } },
      },
      async (request) => ({ sites: await ctx.sites.list(visibleSites(request.user!)) }),
    );

    app.post(
      '/sites',
      {
        preHandler: requireUser(ctx.users, ['admin']),
        schema: { tags: ['sites'], body: siteInput, response: { 201: site } },
      },
      async (request, reply) => {
        const created = await ctx.sites.create(request.body);
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/sites/:siteId',
      {
        preHandler: anyone,
        schema: {
          tags: ['sites'],
          params: siteParams,
          response: { 200: z.object({ site, devices: z.array(device) }) },
        },
      },
      async (request) => {
        assertSiteVisible(request.user!, request.params.siteId);
        const found = await ctx.sites.get(request.params.siteId);
        if (!found) throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId}`);
        return { site: found, devices: ctx.devices.list([found.id]).map(publicDevice) };
      },
    );

    app.get(
      '/sites/:siteId/live',
      { preHandler: anyone, schema: { tags: ['live'], params: siteParams, response: { 200: siteLive } } },
      async (request) => {
        assertSiteVisible(request.user!, request.params.siteId);
        const live = ctx.live.siteLive(request.params.siteId);
        if (!live) throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId}`);
        return live;
      },
    );

    app.get(
      '/live',
      {
        preHandler: anyone,
        schema: {
          tags: ['live'],
          response: {
            200: z.object({ live: z.array(siteLive), staleAfterMs: z.number(), serverTime: z.number() }),
          },
        },
      },
      async (request) => ({
        live: ctx.live.snapshot(visibleSites(request.user!)),
        staleAfterMs: ctx.live.staleAfterMs,
        serverTime: Date.now(),
      }),
    );
  };
}
