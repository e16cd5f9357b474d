import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assertSiteVisible,
  deviceId,
  eventCountQuery,
  eventType,
  HubError,
  rangePoint,
  rangeQuery,
  siteId,
  visibleSites,
} from '../../../contract/index.js';
import { currentUser, requireUser } from '../../auth/session.js';
import { wallOffset } from '../../telemetry/rollup-calendar.js';
import { bucketGrid } from '../../telemetry/store.js';
import type { ApiContext } from '../context.js';

const eventsQuery = z.strictObject({
  siteId: siteId.optional(),
  deviceId: deviceId.optional(),
  type: eventType.optional(),
  from: z.coerce.number().int().min(0),
  to: z.coerce.number().int().min(0),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export function telemetryRoutes(
  ctx: Pick<ApiContext, 'config' | 'devices' | 'telemetry' | 'users'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    const anyone = requireUser(ctx.users);

    /**
     * A manager must name one of their sites (or a device of one); admins and planners may
     * aggregate across every site.
     */
    const scope = (user: Parameters<typeof visibleSites>[0], q: { siteId?: string; deviceId?: string }) => {
      if (q.deviceId) {
        const d = ctx.devices.get(q.deviceId);
        // Another site's device answers exactly like a missing one, so device ids cannot be probed.
        const only = visibleSites(user);
        if (!d || (only && !only.includes(d.siteId))) {
          throw new HubError('DEVICE_NOT_FOUND', `no device ${q.deviceId}`);
        }
      }
      if (q.siteId) assertSiteVisible(user, q.siteId);
      if (!q.siteId && !q.deviceId && visibleSites(user)) {
        throw new HubError('VALIDATION', 'name a siteId or deviceId', [
          { path: 'querystring.siteId', message: 'required' },
        ]);
      }
    };

    /** Buckets begin on the hub zone's wall clock: a day bucket at local midnight (issue 12). */
    const align = (from: number) => wallOffset(from, ctx.config.HUB_TZ);

    const checkWindow = (q: { from: number; to: number; bucketMs: number }) => {
      if (q.to <= q.from)
        throw new HubError('VALIDATION', '`to` must be after `from`', [
          { path: 'querystring.to', message: 'must be after from' },
        ]);
      // Counted as every store counts them: buckets start at multiples of bucketMs, not at `from`.
      try {
        bucketGrid(q.from, q.to, q.bucketMs, align(q.from));
      } catch (err) {
        throw new HubError('RANGE_TOO_LARGE', `${(err as Error).message}; use a larger bucketMs`);
      }
    };

    app.get(
      '/range',
      {
        onRequest: anyone,
        schema: {
          tags: ['telemetry'],
          summary: 'A metric bucketed over time: avg, min, max or last per bucket',
          querystring: rangeQuery,
          response: { 200: z.object({ points: z.array(rangePoint) }) },
        },
      },
      async (request) => {
        const q = request.query;
        scope(currentUser(request), q);
        checkWindow(q);
        return { points: await ctx.telemetry.range({ ...q, alignMs: align(q.from) }) };
      },
    );

    app.get(
      '/event-counts',
      {
        onRequest: anyone,
        schema: {
          tags: ['telemetry'],
          summary: 'How many events of a type per bucket',
          querystring: eventCountQuery,
          response: { 200: z.object({ points: z.array(rangePoint) }) },
        },
      },
      async (request) => {
        const q = request.query;
        scope(currentUser(request), q);
        checkWindow(q);
        return { points: await ctx.telemetry.eventCounts({ ...q, alignMs: align(q.from) }) };
      },
    );

    app.get(
      '/events',
      {
        onRequest: anyone,
        schema: {
          tags: ['telemetry'],
          summary: 'Events in a window, newest first',
          querystring: eventsQuery,
        },
      },
      async (request) => {
        scope(currentUser(request), request.query);
        return { events: await ctx.telemetry.events(request.query) };
      },
    );
  };
}
