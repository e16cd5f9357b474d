import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  appointmentsDay,
  assertPersonalDataAllowed,
  assertSiteVisible,
  auditEntry,
  auditQuery,
  HubError,
  localDate,
  maskedBooking,
  openBookingQuery,
  openedBooking,
  searchQuery,
  siteId,
  statsQuery,
  statsReply,
  todayReply,
  visibleSites,
} from '../../contract/index.js';
import type { ApiContext } from '../api/context.js';
import { currentUser, requireUser } from '../auth/session.js';
import { toMaskedBooking, toOpenedBooking } from './repo.js';

const siteParams = z.object({ siteId });
const bookingParams = z.object({ bookingId: z.coerce.number().int().min(1) });
const dateQuery = z.strictObject({ date: localDate.optional() });

const routeOf = (request: FastifyRequest) => `${request.method} ${request.routeOptions.url}`;

/**
 * The staff side of appointments. Personal data (names, numbers) goes only to admins and to the
 * managers of the booking's own site, numbers masked except in a booking opened on purpose, and
 * every reply that carries any of it writes an audit row. Planners get counts: their routes'
 * reply schemas have no personal fields, so the serialiser could not send them even by mistake.
 * The role check runs at onRequest, before validation, so a refused caller learns nothing more.
 */
export function staffAppointmentRoutes(
  ctx: Pick<ApiContext, 'appointments' | 'sites' | 'users'>,
): FastifyPluginAsyncZod {
  const { appointments: a } = ctx;
  return async (app) => {
    const anyone = requireUser(ctx.users);
    const staff = requireUser(ctx.users, ['admin', 'manager']);
    const admin = requireUser(ctx.users, ['admin']);

    app.get(
      '/sites/:siteId/appointments/today',
      {
        onRequest: staff,
        schema: {
          tags: ['appointments'],
          summary: "Today's sessions and bookings at a site (numbers masked); audited",
          params: siteParams,
          response: { 200: todayReply },
        },
      },
      async (request) => {
        const { siteId: id } = request.params;
        assertPersonalDataAllowed(currentUser(request), id);
        if (!(await ctx.sites.get(id))) throw new HubError('SITE_NOT_FOUND', `no site ${id}`);
        const day = await a.summaries.day(id, a.summaries.today());
        // Residents who cancelled are no business of the hut any more: counted, not listed.
        const rows = (await a.repo.bookingsOfSessions(day.sessions.map((s) => s.id))).filter(
          (b) => b.status !== 'cancelled',
        );
        if (rows.length > 0) {
          await a.audit.record({
            user: currentUser(request),
            action: 'list',
            siteId: id,
            bookingIds: rows.map((b) => b.id),
            route: routeOf(request),
          });
        }
        return { day, bookings: rows.map((b) => toMaskedBooking(b, a.timeZone)) };
      },
    );

    app.get(
      '/sites/:siteId/appointments/search',
      {
        onRequest: staff,
        schema: {
          tags: ['appointments'],
          summary:
            "Find a site's booking by confirmation code, or by the number's last four digits (that day)",
          params: siteParams,
          querystring: searchQuery,
          response: { 200: z.object({ bookings: z.array(maskedBooking) }) },
        },
      },
      async (request) => {
        const { siteId: id } = request.params;
        assertPersonalDataAllowed(currentUser(request), id);
        const date = request.query.date ?? a.summaries.today();
        const sessions = await a.repo.sessionsBetween([id], date, date);
        const rows = await a.repo.search(
          id,
          request.query.q,
          sessions.map((s) => s.id),
        );
        if (rows.length > 0) {
          await a.audit.record({
            user: currentUser(request),
            action: 'search',
            siteId: id,
            bookingIds: rows.map((b) => b.id),
            route: routeOf(request),
          });
        }
        return { bookings: rows.map((b) => toMaskedBooking(b, a.timeZone)) };
      },
    );

    app.get(
      '/bookings/:bookingId',
      {
        onRequest: staff,
        schema: {
          tags: ['appointments'],
          summary: 'Open one booking with the full number; writes an audit row',
          params: bookingParams,
          querystring: openBookingQuery,
          response: { 200: openedBooking },
        },
      },
      async (request) => {
        const b = await a.repo.booking(request.params.bookingId);
        const only = visibleSites(currentUser(request));
        if (!b || (only && !only.includes(b.site_id))) {
          throw new HubError('BOOKING_NOT_FOUND', `no booking ${request.params.bookingId}`);
        }
        await a.audit.record({
          user: currentUser(request),
          action: 'open',
          siteId: b.site_id,
          bookingIds: [b.id],
          route: routeOf(request),
          reason: request.query.reason,
        });
        return toOpenedBooking(b, a.timeZone);
      },
    );

    app.post(
      '/bookings/:bookingId/check-in',
      {
        onRequest: staff,
        schema: {
          tags: ['appointments'],
          summary: 'Check a resident in for their booking today; audited',
          params: bookingParams,
          response: { 200: maskedBooking },
        },
      },
      async (request) => {
        const b = await a.bookings.checkIn(request.params.bookingId, currentUser(request));
        await a.audit.record({
          user: currentUser(request),
          action: 'check_in',
          siteId: b.site_id,
          bookingIds: [b.id],
          route: routeOf(request),
        });
        return toMaskedBooking(b, a.timeZone);
      },
    );

    app.get(
      '/sites/:siteId/appointments/summary',
      {
        onRequest: anyone,
        schema: {
          tags: ['appointments'],
          summary: "A site's sessions and booking counts on a day (default today); no personal data",
          params: siteParams,
          querystring: dateQuery,
          response: { 200: appointmentsDay },
        },
      },
      async (request) => {
        assertSiteVisible(currentUser(request), request.params.siteId);
        return a.summaries.day(request.params.siteId, request.query.date ?? a.summaries.today());
      },
    );

    app.get(
      '/appointments/summary',
      {
        onRequest: anyone,
        schema: {
          tags: ['appointments'],
          summary: 'Every visible site with sessions on a day (default today); counts only',
          querystring: dateQuery,
          response: { 200: z.object({ date: localDate, days: z.array(appointmentsDay) }) },
        },
      },
      async (request) => {
        const date = request.query.date ?? a.summaries.today();
        return { date, days: await a.summaries.days(visibleSites(currentUser(request)), date) };
      },
    );

    app.get(
      '/appointments/stats',
      {
        onRequest: anyone,
        schema: {
          tags: ['appointments'],
          summary: 'Sessions held, places offered, booked, attended, no-shows, fill and no-show rates',
          querystring: statsQuery,
          response: { 200: statsReply },
        },
      },
      async (request) => {
        if (request.query.siteId) assertSiteVisible(currentUser(request), request.query.siteId);
        return a.summaries.stats(request.query, visibleSites(currentUser(request)));
      },
    );

    app.get(
      '/appointments/audit',
      {
        onRequest: admin,
        schema: {
          tags: ['appointments'],
          summary: 'Who read which booking, newest first',
          querystring: auditQuery,
          response: { 200: z.object({ entries: z.array(auditEntry) }) },
        },
      },
      async (request) => ({ entries: await a.audit.list(request.query) }),
    );
  };
}
