import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Role, User } from '../../contract/index.js';
import { HubError } from '../../contract/index.js';
import type { UserRepo } from '../state/users.js';

export const SESSION_COOKIE = 'yz_session';

declare module 'fastify' {
  interface FastifyRequest {
    user?: User;
  }
}

/** Reads the session cookie from a raw Cookie header (socket.io handshakes have no fastify request). */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== SESSION_COOKIE) continue;
    try {
      return decodeURIComponent(rest.join('='));
    } catch {
      // A malformed escape is simply not a session; throwing here would reach no handler.
      return undefined;
    }
  }
  return undefined;
}

/**
 * A fastify `onRequest` hook: a route behind it has a user, or the caller got 401/403. It must run
 * at onRequest, before the body is parsed and validated, so a caller who is not logged in learns
 * nothing about what the route would accept (issue 8, item 6).
 */
export function requireUser(
  users: UserRepo,
  roles?: readonly Role[],
  opts: { beforePasswordChange?: boolean } = {},
) {
  const hook = async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = request.cookies[SESSION_COOKIE];
    const user = token ? await users.userForSession(token) : undefined;
    if (!user) throw new HubError('UNAUTHENTICATED', 'log in first');
    // A one-time password opens the change form and nothing else (`npm run admin -- reset-password`).
    if (user.mustChangePassword && !opts.beforePasswordChange) {
      throw new HubError('PASSWORD_CHANGE_REQUIRED', 'choose a new password first');
    }
    if (roles && !roles.includes(user.role)) {
      throw new HubError('FORBIDDEN', `needs role ${roles.join(' or ')}`);
    }
    request.user = user;
  };
  guards.set(hook, { roles });
  return hook;
}

/** Which hooks are login guards, and for which roles: the OpenAPI document reads it from the route. */
const guards = new WeakMap<object, { roles?: readonly Role[] }>();

/** The login a route requires, found among its onRequest hooks; undefined for a public route. */
export function loginRequired(onRequest: unknown): { roles?: readonly Role[] } | undefined {
  const hooks: unknown[] = Array.isArray(onRequest) ? onRequest : [onRequest];
  for (const h of hooks) {
    const guard = typeof h === 'function' ? guards.get(h) : undefined;
    if (guard) return guard;
  }
  return undefined;
}

/** The logged-in user of a route behind `requireUser`; throws rather than trusting a `!`. */
export function currentUser(request: FastifyRequest): User {
  if (!request.user) throw new HubError('UNAUTHENTICATED', 'log in first');
  return request.user;
}
