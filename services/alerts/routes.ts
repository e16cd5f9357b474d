import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ackBody,
  alert,
  alertList,
  alertParams,
  alertQuery,
  delivery,
  HubError,
  resolveBody,
  timeToAck,
  timeToEnd,
  type User,
  visibleSites,
} from '../../contract/index.js';
import type { ApiContext } from '../api/context.js';
import { currentUser, requireUser } from '../auth/session.js';
import { toAlert } from './repo.js';
import { alertConfigRoutes } from './routes-config.js';

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Alerts over HTTP, under `/api`. Everyone reads the alerts of the sites they may see; admins and
 * managers acknowledge and resolve (planners read only: 403); another site's alert answers 404, as
 * if it did not exist. The login is checked in onRequest, before the body is parsed or validated.
 */
export function alertRoutes(
  ctx: Pick<ApiContext, 'alerts' | 'devices' | 'sites' | 'users'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    const anyone = requireUser(ctx.users);
    const operators = requireUser(ctx.users, ['admin', 'manager']);
    const { repo, ledger } = ctx.alerts;

    /** The alert's row, or 404 for an unknown id and for another site's alert alike. */
    const visibleRow = async (user: User, id: number) => {
      const row = await repo.alert(id);
      const only = visibleSites(user);
      if (!row || (only && !only.includes(row.site_id)))
        throw new HubError('ALERT_NOT_FOUND', `no alert ${id}`);
      return row;
    };
    const withDelivery = async (row: NonNullable<Awaited<ReturnType<typeof repo.alert>>>) =>
      toAlert(row, (await repo.deliverySummary([row.id])).get(row.id));

    app.get(
      '/alerts',
      {
        onRequest: anyone,
        schema: {
          tags: ['alerts'],
          summary: 'Alerts of the sites the caller may see, with filters and time to acknowledge / clear',
          querystring: alertQuery,
          response: { 200: alertList },
        },
      },
      async (request) => {
        const q = request.query;
        const only = visibleSites(currentUser(request));
        let sites = only ? [...only] : undefined;
        if (q.siteId) sites = !sites || sites.includes(q.siteId) ? [q.siteId] : [];
        if (q.community) {
          const inCommunity = (await ctx.sites.list(sites)).filter((s) => s.community.zh === q.community);
          sites = inCommunity.map((s) => s.id);
        }
        const rows = await repo.listAlerts(q, sites);
        const summary = await repo.deliverySummary(rows.map((r) => r.id));
        const alerts = rows.map((r) => toAlert(r, summary.get(r.id)));
        return {
          alerts,
          stats: {
            ackMedianMs: median(alerts.flatMap((a) => timeToAck(a) ?? [])),
            clearMedianMs: median(alerts.flatMap((a) => timeToEnd(a) ?? [])),
            count: alerts.length,
          },
        };
      },
    );

    app.get(
      '/alerts/:alertId',
      {
        onRequest: anyone,
        schema: {
          tags: ['alerts'],
          summary: 'One alert and the delivery state of its notifications',
          params: alertParams,
          response: { 200: z.object({ alert, deliveries: z.array(delivery) }) },
        },
      },
      async (request) => {
        const row = await visibleRow(currentUser(request), request.params.alertId);
        return { alert: await withDelivery(row), deliveries: await repo.deliveries(row.id) };
      },
    );

    app.post(
      '/alerts/:alertId/ack',
      {
        onRequest: operators,
        schema: {
          tags: ['alerts'],
          summary: "Acknowledge an alert, with an optional note (admins, the site's managers)",
          params: alertParams,
          body: ackBody,
          response: { 200: alert },
        },
      },
      async (request) => {
        await visibleRow(currentUser(request), request.params.alertId);
        const row = await ledger.acknowledge(
          request.params.alertId,
          currentUser(request).username,
          request.body.note,
        );
        return withDelivery(row);
      },
    );

    app.post(
      '/alerts/:alertId/resolve',
      {
        onRequest: operators,
        schema: {
          tags: ['alerts'],
          summary: "Resolve an alert by hand, with a note (admins, the site's managers)",
          params: alertParams,
          body: resolveBody,
          response: { 200: alert },
        },
      },
      async (request) => {
        await visibleRow(currentUser(request), request.params.alertId);
        const row = await ledger.resolve(
          request.params.alertId,
          currentUser(request).username,
          request.body.note,
        );
        return withDelivery(row);
      },
    );

    await app.register(alertConfigRoutes(ctx));
  };
}
