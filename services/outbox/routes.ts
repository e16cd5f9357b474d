import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { outboxQuery, outboxReply } from '../../contract/index.js';
import { requireUser } from '../auth/session.js';
import type { UserRepo } from '../state/users.js';
import type { OutboxRepo } from './repo.js';

/** The admins' view of every outgoing notification, with why the last attempt failed. */
export function outboxRoutes(ctx: { users: UserRepo; outbox: OutboxRepo }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/admin/outbox',
      {
        onRequest: requireUser(ctx.users, ['admin']),
        schema: {
          tags: ['admin'],
          summary:
            'Outgoing notifications (booking webhooks, alert messages), newest first, with their last error (admins)',
          querystring: outboxQuery,
          response: { 200: outboxReply },
        },
      },
      async (request) => ({
        deliveries: await ctx.outbox.list(request.query),
        counts: await ctx.outbox.counts(),
      }),
    );
  };
}
