import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HubError, loginBody, user } from '../../../contract/index.js';
import { currentUser, requireUser, SESSION_COOKIE } from '../../auth/session.js';
import type { ApiContext } from '../context.js';

export function authRoutes(ctx: Pick<ApiContext, 'config' | 'users' | 'cluster'>): FastifyPluginAsyncZod {
  return async (app) => {
    // Each attempt costs a deliberately slow hash on the same thread pool that checks devices'
    // secrets at CONNECT, so guessing is limited per address as well as slow.
    await app.register(rateLimit, {
      global: false,
      ...ctx.cluster?.rateLimitStore('login'),
      errorResponseBuilder: (_request, c) =>
        new HubError('RATE_LIMITED', `too many login attempts; try again in ${c.after}`),
    });
    app.post(
      '/login',
      {
        config: { rateLimit: { max: ctx.config.LOGIN_RATE_LIMIT_MAX, timeWindow: 60_000 } },
        schema: {
          tags: ['auth'],
          summary: 'Log in; sets the httpOnly session cookie',
          body: loginBody,
          response: { 200: z.object({ user }) },
        },
      },
      async (request, reply) => {
        const found = await ctx.users.verify(request.body.username, request.body.password);
        if (!found) throw new HubError('BAD_CREDENTIALS', 'wrong user name or password');
        const session = await ctx.users.openSession(found.id);
        reply.setCookie(SESSION_COOKIE, session.token, {
          path: '/',
          httpOnly: true,
          sameSite: 'lax',
          secure: request.protocol === 'https',
          expires: new Date(session.expiresAt),
        });
        return { user: found };
      },
    );

    app.post(
      '/logout',
      { schema: { tags: ['auth'], summary: 'Log out; ends the session and its live sockets' } },
      async (request, reply) => {
        const token = request.cookies[SESSION_COOKIE];
        if (token) await ctx.users.closeSession(token);
        reply.clearCookie(SESSION_COOKIE, { path: '/' });
        return reply.code(204).send();
      },
    );

    app.get(
      '/me',
      {
        onRequest: requireUser(ctx.users),
        schema: { tags: ['auth'], summary: 'The logged-in user', response: { 200: z.object({ user }) } },
      },
      async (request) => ({ user: currentUser(request) }),
    );
  };
}
