import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  addDays,
  assertSiteVisible,
  cancelSessionBody,
  daysBetween,
  HubError,
  localDate,
  sessionInput,
  sessionPatch,
  sessionSummary,
  siteId,
} from '../../contract/index.js';
import type { ApiContext } from '../api/context.js';
import { currentUser, requireUser } from '../auth/session.js';
import type { SessionRow } from './repo.js';

const siteParams = z.object({ siteId });
const sessionParams = z.object({ sessionId: z.coerce.number().int().min(1) });
const rangeQuery = z
  .strictObject({ from: localDate.optional(), to: localDate.optional() })
  .refine((q) => !q.from || !q.to || (q.from <= q.to && daysBetween(q.from, q.to) <= 92), {
    path: ['to'],
    message: 'from ≤ to, at most 92 days apart',
  });

/** Screening sessions: the site's manager or an admin plans them; every role can see them (counts only). */
export function sessionRoutes(
  ctx: Pick<ApiContext, 'appointments' | 'sites' | 'users'>,
): FastifyPluginAsyncZod {
  const { appointments: a } = ctx;
  return async (app) => {
    const anyone = requireUser(ctx.users);
    const organisers = requireUser(ctx.users, ['admin', 'manager']);

    const withCounts = async (rows: SessionRow[]) => {
      const counts = await a.repo.slotCounts(rows.map((r) => r.id));
      return rows.map((r) => a.summaries.session(r, counts.get(r.id)));
    };

    app.post(
      '/sites/:siteId/appointment-sessions',
      {
        onRequest: organisers,
        schema: {
          tags: ['appointments'],
          summary: 'Create a session, or the same session weekly for repeatWeeks weeks',
          params: siteParams,
          body: sessionInput,
          response: { 201: z.object({ sessions: z.array(sessionSummary) }) },
        },
      },
      async (request, reply) => {
        assertSiteVisible(currentUser(request), request.params.siteId);
        const rows = await a.sessions.create(request.params.siteId, request.body, currentUser(request));
        return reply.code(201).send({ sessions: await withCounts(rows) });
      },
    );

    app.get(
      '/sites/:siteId/appointment-sessions',
      {
        onRequest: anyone,
        schema: {
          tags: ['appointments'],
          summary: 'Sessions between two dates (default: the next four weeks), with booking counts',
          params: siteParams,
          querystring: rangeQuery,
          response: { 200: z.object({ sessions: z.array(sessionSummary) }) },
        },
      },
      async (request) => {
        assertSiteVisible(currentUser(request), request.params.siteId);
        if (!(await ctx.sites.get(request.params.siteId))) {
          throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId}`);
        }
        const from = request.query.from ?? a.summaries.today();
        const to = request.query.to ?? addDays(from, 27);
        return {
          sessions: await withCounts(await a.repo.sessionsBetween([request.params.siteId], from, to)),
        };
      },
    );

    app.patch(
      '/appointment-sessions/:sessionId',
      {
        onRequest: organisers,
        schema: {
          tags: ['appointments'],
          summary: "Change a session's doctor, times or capacity",
          params: sessionParams,
          body: sessionPatch,
          response: { 200: sessionSummary },
        },
      },
      async (request) => {
        const row = await a.sessions.update(request.params.sessionId, request.body, currentUser(request));
        return (await withCounts([row]))[0]!;
      },
    );

    app.post(
      '/appointment-sessions/:sessionId/cancel',
      {
        onRequest: organisers,
        schema: {
          tags: ['appointments'],
          summary: 'Cancel a session; residents booked in it are cancelled and notified',
          params: sessionParams,
          body: cancelSessionBody.optional(),
          response: { 200: sessionSummary },
        },
      },
      async (request) => {
        const row = await a.sessions.cancel(
          request.params.sessionId,
          currentUser(request),
          request.body?.reason,
        );
        return (await withCounts([row]))[0]!;
      },
    );
  };
}
