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

/** fastify preHandler: a route behind it has `request.user`, or the caller got 401/403. */
export function requireUser(users: UserRepo, roles?: readonly Role[]) {
  return async (request: FastifyRequest, _reply: FastifyReply) => {
    const token = request.cookies[SESSION_COOKIE];
    const user = token ? await users.userForSession(token) : undefined;
    if (!user) throw new HubError('UNAUTHENTICATED', 'log in first');
    if (roles && !roles.includes(user.role)) {
      throw new HubError('FORBIDDEN', `needs role ${roles.join(' or ')}`);
    }
    request.user = user;
  };
}

/** Sites a user may see: a manager only their own, admins and planners all (undefined). */
export function visibleSites(user: User): readonly string[] | undefined {
  return user.role === 'manager' ? user.siteIds : undefined;
}

/** Another site's data answers 404, as if it did not exist, so ids cannot be probed. */
export function assertSiteVisible(user: User, siteId: string): void {
  const only = visibleSites(user);
  if (only && !only.includes(siteId)) throw new HubError('SITE_NOT_FOUND', `no site ${siteId}`);
}

/**
 * Residents' personal data (names, phone numbers, appointments of screening patients): admins, and
 * managers for their own sites. Planners work with aggregates only and never get it (issue 3); use
 * this on every route and socket room that carries such data.
 */
export function mayReadPersonalData(user: User, siteId: string): boolean {
  if (user.role === 'planner') return false;
  const only = visibleSites(user);
  return !only || only.includes(siteId);
}

/** Throws the answer a route gives for personal data the caller may not read: 404 for another site, 403 for a planner. */
export function assertPersonalDataAllowed(user: User, siteId: string): void {
  assertSiteVisible(user, siteId);
  if (!mayReadPersonalData(user, siteId)) {
    throw new HubError('FORBIDDEN', 'planners see aggregates only, not residents’ personal data');
  }
}
