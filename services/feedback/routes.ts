import { randomBytes } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assertPersonalDataAllowed,
  feedbackAccepted,
  feedbackBody,
  feedbackItem,
  feedbackListQuery,
  feedbackSummary,
  feedbackUpdateBody,
  HubError,
  mayReadPersonalData,
  siteId,
  visibleSites,
  watchlistCsv,
  watchlistQuery,
  watchlistReply,
} from '../../contract/index.js';
import type { ApiContext } from '../api/context.js';
import { currentUser, requireUser } from '../auth/session.js';
import { buildWatchlist, coveredMs } from './watchlist.js';

/**
 * The browser's feedback cookie: 32 random bytes, nothing else. It needs no signature: a forged
 * value is just another random value, which is what clearing cookies gives anyway; the rule it
 * carries is "one a day per phone browser", not an identity. HttpOnly, SameSite=Strict, and only
 * sent to the feedback route.
 */
export const FEEDBACK_COOKIE = 'yz_fb';
const COOKIE_PATH = '/api/public/stations';

/** POST /api/public/stations/:siteId/feedback, no login, rate-limited like the other public routes. */
export function publicFeedbackRoutes(
  ctx: Pick<ApiContext, 'feedback' | 'sites' | 'config'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(rateLimit, {
      global: true,
      max: ctx.config.PUBLIC_RATE_LIMIT_MAX,
      timeWindow: ctx.config.PUBLIC_RATE_LIMIT_WINDOW_S * 1000,
      errorResponseBuilder: (_request, c) =>
        new HubError('RATE_LIMITED', `too many requests; try again in ${c.after}`),
    });
    app.post(
      '/stations/:siteId/feedback',
      {
        schema: {
          tags: ['finder'],
          summary: 'Rate a station: 1–5, tags, a short comment; once a day per browser (no login)',
          params: z.object({ siteId }),
          body: feedbackBody,
          response: { 201: feedbackAccepted },
        },
      },
      async (request, reply) => {
        const site = await ctx.sites.get(request.params.siteId);
        if (!site) throw new HubError('SITE_NOT_FOUND', `no station ${request.params.siteId}`);
        let token = request.cookies[FEEDBACK_COOKIE];
        if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) {
          token = randomBytes(32).toString('base64url');
          reply.setCookie(FEEDBACK_COOKIE, token, {
            path: COOKIE_PATH,
            httpOnly: true,
            sameSite: 'strict',
            secure: request.protocol === 'https',
            maxAge: 400 * 86_400,
          });
        }
        return reply.code(201).send(await ctx.feedback.give(site.id, token, request.body));
      },
    );
  };
}

/** Staff: comments to admins and the site's managers; counts and averages to everyone logged in. */
export function staffFeedbackRoutes(
  ctx: Pick<ApiContext, 'feedback' | 'users' | 'sites' | 'appointments' | 'telemetry' | 'config' | 'alerts'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    const anyone = requireUser(ctx.users);
    const staff = requireUser(ctx.users, ['admin', 'manager']);

    app.get(
      '/sites/:siteId/feedback',
      {
        onRequest: staff,
        schema: {
          tags: ['feedback'],
          summary: "A site's feedback with comments (admins, the site's managers)",
          params: z.object({ siteId }),
          querystring: feedbackListQuery,
          response: { 200: z.object({ items: z.array(feedbackItem) }) },
        },
      },
      async (request) => {
        assertPersonalDataAllowed(currentUser(request), request.params.siteId);
        return { items: await ctx.feedback.list([request.params.siteId], request.query) };
      },
    );

    app.patch(
      '/feedback/:feedbackId',
      {
        onRequest: staff,
        schema: {
          tags: ['feedback'],
          summary: 'Reply to feedback, or mark a complaint handled (admins, the site’s managers)',
          params: z.object({ feedbackId: z.coerce.number().int().min(1) }),
          body: feedbackUpdateBody,
          response: { 200: feedbackItem },
        },
      },
      async (request) => {
        const user = currentUser(request);
        return ctx.feedback.update(
          request.params.feedbackId,
          (site) => mayReadPersonalData(user, site),
          request.body,
          user.id,
        );
      },
    );

    app.get(
      '/feedback/summary',
      {
        onRequest: anyone,
        schema: {
          tags: ['feedback'],
          summary: 'Feedback counts and averages per site (no comments; planners too)',
          querystring: z.strictObject({
            from: z.coerce.number().int().min(0).optional(),
            to: z.coerce.number().int().min(0).optional(),
          }),
          response: { 200: z.object({ sites: z.array(feedbackSummary) }) },
        },
      },
      async (request) => ({
        sites: await ctx.feedback.summaries(
          visibleSites(currentUser(request)),
          request.query.from,
          request.query.to,
        ),
      }),
    );

    app.get(
      '/feedback/watchlist',
      {
        onRequest: anyone,
        schema: {
          tags: ['feedback'],
          summary:
            'Red and black list: satisfaction, complaints, usage and screening per site (CSV with format=csv)',
          querystring: watchlistQuery,
          response: { 200: watchlistReply },
        },
      },
      async (request, reply) => {
        const q = request.query;
        const rows = await buildWatchlist(
          {
            feedback: ctx.feedback.repo,
            sites: ctx.sites,
            screening: ctx.appointments.summaries,
            doorOpenings: async (siteId, from, to) =>
              ctx.telemetry
                .eventCounts({ siteId, type: 'door_opened', from, to, bucketMs: Math.max(60_000, to - from) })
                .then(
                  (points) => points.reduce((n, p) => n + p.count, 0),
                  () => null,
                ),
            // Uptime from the alerts' record of dark sites (issue 9's `site_dark`), when alerts run.
            darkMs: async (siteId, from, to) => {
              if (!ctx.alerts.enabled) return null;
              const rows = await ctx.alerts.repo.listAlerts(
                { siteId, from: from - 31 * 86_400_000, to, limit: 1000 },
                [siteId],
              );
              const dark = rows.filter((r) => r.rule_id === 'site_dark');
              return coveredMs(
                dark.map((r) => ({
                  since: Number(r.since),
                  end: r.ended_at === null ? null : Number(r.ended_at),
                })),
                from,
                to,
                Date.now(),
              );
            },
            timeZone: ctx.config.HUB_TZ,
            now: Date.now,
          },
          q,
          visibleSites(currentUser(request)),
        );
        if (q.format === 'csv') {
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="watchlist-${q.from}-${q.to}.csv"`)
            .send(watchlistCsv(rows) as never); // a string with a non-JSON type is sent as it is, not serialized
        }
        return { from: q.from, to: q.to, rows };
      },
    );
  };
}
