import rateLimit from '@fastify/rate-limit';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  bookingBody,
  codeAndMobile,
  HubError,
  localParts,
  publicSession,
  publicSessionsQuery,
  publicSite,
  type ResidentBooking,
  rescheduleBody,
  residentBooking,
  screeningHappensAt,
  siteId,
} from '../../contract/index.js';
import type { ApiContext } from '../api/context.js';
import { maskMobile } from './codes.js';
import type { BookingRow } from './repo.js';

/**
 * The residents' side, no login: sites, open slots, and booking by name and number. Everything
 * here is rate-limited per client address (PUBLIC_RATE_LIMIT_MAX per PUBLIC_RATE_LIMIT_WINDOW_S);
 * the limiter is registered inside this plugin so it applies to these routes only.
 * Numbers travel in POST bodies, never in URLs, so they stay out of access logs.
 */
export function publicAppointmentRoutes(
  ctx: Pick<ApiContext, 'appointments' | 'config' | 'sites' | 'cluster'>,
): FastifyPluginAsyncZod {
  const { appointments: a } = ctx;
  return async (app) => {
    await app.register(rateLimit, {
      global: true,
      ...ctx.cluster?.rateLimitStore('public'),
      max: ctx.config.PUBLIC_RATE_LIMIT_MAX,
      timeWindow: ctx.config.PUBLIC_RATE_LIMIT_WINDOW_S * 1000,
      errorResponseBuilder: (_request, c) =>
        new HubError('RATE_LIMITED', `too many requests; try again in ${c.after}`),
    });

    /** Every reply that carries a resident's name is a read of personal data, and audited. */
    async function audited(request: FastifyRequest, b: BookingRow): Promise<ResidentBooking> {
      await a.audit.record({
        action: 'resident_lookup',
        siteId: b.site_id,
        bookingIds: [b.id],
        route: `${request.method} ${request.routeOptions.url}`,
      });
      return toResident(b);
    }

    async function toResident(b: BookingRow): Promise<ResidentBooking> {
      const [site, session] = await Promise.all([ctx.sites.get(b.site_id), a.repo.session(b.session_id)]);
      const start = localParts(Number(b.slot_start), a.timeZone);
      return {
        code: b.code,
        status: b.status as ResidentBooking['status'],
        siteId: b.site_id,
        siteName: site?.name ?? { zh: b.site_id, en: b.site_id },
        address: site?.address ?? { zh: '' },
        sessionId: b.session_id,
        date: start.date,
        start: start.time,
        end: localParts(Number(b.slot_end), a.timeZone).time,
        slotStartAt: Number(b.slot_start),
        doctorName: session?.doctor_name ?? '',
        screening: b.screening as ResidentBooking['screening'],
        name: b.name,
        mobileMasked: maskMobile(b.mobile),
      };
    }

    app.get(
      '/sites',
      {
        schema: {
          tags: ['booking'],
          summary: 'Sites where doctors screen, with the days that still have open slots',
          response: {
            200: z.object({
              sites: z.array(publicSite),
              today: z.string(),
              /** For the booking page's privacy notice. */
              retentionDays: z.number(),
              cutoffMinutes: z.number().int(),
            }),
          },
        },
      },
      async () => {
        const days = await a.summaries.upcomingDays();
        // Caring stations (爱心驿站) have no doctors, so there is nothing to book there.
        const sites = (await ctx.sites.list()).filter(screeningHappensAt).map((s) => ({
          id: s.id,
          name: s.name,
          community: s.community,
          address: s.address,
          openingHours: s.openingHours,
          upcomingDays: (days.get(s.id) ?? []).sort(),
        }));
        return {
          sites,
          today: a.summaries.today(),
          retentionDays: ctx.config.PERSONAL_DATA_RETENTION_DAYS,
          cutoffMinutes: ctx.config.BOOKING_CUTOFF_MIN,
        };
      },
    );

    app.get(
      '/sites/:siteId/sessions',
      {
        schema: {
          tags: ['booking'],
          summary: "A site's sessions on a day with their open slots (no login)",
          params: z.object({ siteId }),
          querystring: publicSessionsQuery,
          response: { 200: z.object({ sessions: z.array(publicSession) }) },
        },
      },
      async (request) => {
        const site = await ctx.sites.get(request.params.siteId);
        // A caring station is not a booking site: answered as the site list leaves it out.
        if (!site || !screeningHappensAt(site)) {
          throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId} to book at`);
        }
        return { sessions: await a.summaries.publicSessions(request.params.siteId, request.query.date) };
      },
    );

    app.post(
      '/bookings',
      {
        schema: {
          tags: ['booking'],
          summary: 'Book a slot by name and number; returns the confirmation code (no login)',
          body: bookingBody,
          response: { 201: residentBooking },
        },
      },
      async (request, reply) => reply.code(201).send(await toResident(await a.bookings.book(request.body))),
    );

    app.post(
      '/bookings/lookup',
      {
        schema: {
          tags: ['booking'],
          summary: 'Find one’s booking by code and number (no login)',
          body: codeAndMobile,
          response: { 200: residentBooking },
        },
      },
      async (request) => audited(request, await a.bookings.find(request.body.code, request.body.mobile)),
    );

    app.post(
      '/bookings/cancel',
      {
        schema: {
          tags: ['booking'],
          summary: 'Cancel a booking by code and number (no login)',
          body: codeAndMobile,
          response: { 200: residentBooking },
        },
      },
      async (request) => audited(request, await a.bookings.cancel(request.body.code, request.body.mobile)),
    );

    app.post(
      '/bookings/reschedule',
      {
        schema: {
          tags: ['booking'],
          summary: 'Move a booking to another slot by code and number (no login)',
          body: rescheduleBody,
          response: { 200: residentBooking },
        },
      },
      async (request) => audited(request, await a.bookings.reschedule(request.body)),
    );
  };
}
