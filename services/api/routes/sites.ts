import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assertSiteVisible,
  device,
  HubError,
  site,
  siteId,
  siteInput,
  siteLive,
  visibleSites,
} from '../../../contract/index.js';
import { currentUser, requireUser } from '../../auth/session.js';
import { publicDevice } from '../../state/devices.js';
import type { ApiContext } from '../context.js';

const siteParams = z.object({ siteId });

export function siteRoutes(
  ctx: Pick<ApiContext, 'devices' | 'live' | 'sites' | 'users'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    const anyone = requireUser(ctx.users);

    app.get(
      '/sites',
      {
        onRequest: anyone,
        schema: {
          tags: ['sites'],
          summary: 'Sites the caller may see',
          response: { 200: z.object({ sites: z.array(site) }) },
        },
      },
      async (request) => ({ sites: await ctx.sites.list(visibleSites(currentUser(request))) }),
    );

    app.post(
      '/sites',
      {
        onRequest: requireUser(ctx.users, ['admin']),
        schema: {
          tags: ['sites'],
          summary: 'Create a site (admins)',
          body: siteInput,
          response: { 201: site },
        },
      },
      async (request, reply) => {
        const created = await ctx.sites.create(request.body);
        return reply.code(201).send(created);
      },
    );

    app.get(
      '/sites/:siteId',
      {
        onRequest: anyone,
        schema: {
          tags: ['sites'],
          summary: 'A site and its devices',
          params: siteParams,
          response: { 200: z.object({ site, devices: z.array(device) }) },
        },
      },
      async (request) => {
        assertSiteVisible(currentUser(request), request.params.siteId);
        const found = await ctx.sites.get(request.params.siteId);
        if (!found) throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId}`);
        return { site: found, devices: ctx.devices.list([found.id]).map(publicDevice) };
      },
    );

    app.get(
      '/sites/:siteId/live',
      {
        onRequest: anyone,
        schema: {
          tags: ['live'],
          summary: "A site's live state: latest readings, health, open or closed",
          params: siteParams,
          response: { 200: siteLive },
        },
      },
      async (request) => {
        assertSiteVisible(currentUser(request), request.params.siteId);
        const live = ctx.live.siteLive(request.params.siteId);
        if (!live) throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId}`);
        return live;
      },
    );

    app.get(
      '/live',
      {
        onRequest: anyone,
        schema: {
          tags: ['live'],
          summary: 'Live state of every site the caller may see, with the server time',
          response: {
            200: z.object({ live: z.array(siteLive), staleAfterMs: z.number(), serverTime: z.number() }),
          },
        },
      },
      async (request) => ({
        live: ctx.live.snapshot(visibleSites(currentUser(request))),
        staleAfterMs: ctx.live.staleAfterMs,
        serverTime: Date.now(),
      }),
    );
  };
}
