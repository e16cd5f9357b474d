import rateLimit from '@fastify/rate-limit';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HubError, loginBody, passwordChangeBody, user } from '../../../contract/index.js';
import { currentUser, requireUser, SESSION_COOKIE } from '../../auth/session.js';
import { sessionId } from '../../state/users.js';
import type { ApiContext } from '../context.js';

export function authRoutes(
  ctx: Pick<ApiContext, 'config' | 'users' | 'log' | 'cluster'>,
): FastifyPluginAsyncZod {
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
        const policy = {
          lockAfter: ctx.config.LOGIN_LOCK_AFTER,
          lockMs: ctx.config.LOGIN_LOCK_MIN * 60_000,
        };
        const r = await ctx.users.login(request.body.username, request.body.password, policy, Date.now());
        if (!r.ok && r.lockedUntil) {
          const min = Math.ceil((r.lockedUntil - Date.now()) / 60_000);
          ctx.log.warn({ lockedUntil: r.lockedUntil }, 'login refused: account locked after wrong passwords');
          throw new HubError(
            'ACCOUNT_LOCKED',
            `too many wrong passwords for this account: locked for ${min} more minute${min === 1 ? '' : 's'}, or until an admin sets a new password`,
          );
        }
        if (!r.ok) throw new HubError('BAD_CREDENTIALS', 'wrong user name or password');
        const found = r.user;
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

    app.post(
      '/password',
      {
        onRequest: requireUser(ctx.users, undefined, { beforePasswordChange: true }),
        // As costly as a login, and as good a way to guess: limited the same way.
        config: { rateLimit: { max: ctx.config.LOGIN_RATE_LIMIT_MAX, timeWindow: 60_000 } },
        schema: {
          tags: ['auth'],
          summary: 'Change your own password (the current one required); your other sessions end',
          body: passwordChangeBody,
          response: { 200: z.object({ user }) },
        },
      },
      async (request) => {
        const me = currentUser(request);
        if (!(await ctx.users.checkPassword(me.id, request.body.currentPassword))) {
          throw new HubError('BAD_CREDENTIALS', 'the current password is wrong', [
            { path: 'body.currentPassword', message: 'wrong password' },
          ]);
        }
        const token = request.cookies[SESSION_COOKIE];
        await ctx.users.setPassword(me.id, request.body.newPassword, token && sessionId(token));
        const updated = await ctx.users.get(me.id);
        if (!updated) throw new HubError('USER_NOT_FOUND', `no user ${me.id}`);
        return { user: updated };
      },
    );

    app.get(
      '/me',
      {
        onRequest: requireUser(ctx.users, undefined, { beforePasswordChange: true }),
        schema: { tags: ['auth'], summary: 'The logged-in user', response: { 200: z.object({ user }) } },
      },
      async (request) => ({ user: currentUser(request) }),
    );
  };
}
