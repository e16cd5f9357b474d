import type { User } from '../domain.js';
import { HubError } from '../errors.js';

/**
 * Who may see and do what, written once: the API routes, the socket rooms and the dashboard all
 * ask these. Pure: they look at the user and the ids only, never at a store.
 */

/** Sites a user may see: a manager only their own, admins and planners all (undefined). */
export function visibleSites(user: User): readonly string[] | undefined {
  return user.role === 'manager' ? user.siteIds : undefined;
}

export function maySeeSite(user: User, siteId: string): boolean {
  const only = visibleSites(user);
  return !only || only.includes(siteId);
}

/** Another site's data answers 404, as if it did not exist, so ids cannot be probed. */
export function assertSiteVisible(user: User, siteId: string): void {
  if (!maySeeSite(user, siteId)) throw new HubError('SITE_NOT_FOUND', `no site ${siteId}`);
}

/**
 * Residents' personal data (names, phone numbers, appointments of screening patients): admins, and
 * managers for their own sites. Planners work with aggregates only and never get it (issue 3); use
 * this on every route and socket room that carries such data.
 */
export function mayReadPersonalData(user: User, siteId: string): boolean {
  return user.role !== 'planner' && maySeeSite(user, siteId);
}

/** Throws the answer a route gives for personal data the caller may not read: 404 for another site, 403 for a planner. */
export function assertPersonalDataAllowed(user: User, siteId: string): void {
  assertSiteVisible(user, siteId);
  if (!mayReadPersonalData(user, siteId)) {
    throw new HubError('FORBIDDEN', 'planners see aggregates only, not residents’ personal data');
  }
}

/**
 * Device ids are global, because they are MQTT user names, so "that id is taken" would tell a
 * manager about another site's device (issue 8). A manager therefore names devices inside their
 * site's namespace, `<siteId>-…` (the dashboard pre-fills it); an id outside it is refused for what
 * it is, whether or not it exists. Admins see every site and may use any id. A clash inside the
 * namespace is still possible if an admin put another site's device there, or one site id extends
 * another (`a`, `a-b`): admins should not.
 */
export function mayNameDevice(user: User, siteId: string, deviceId: string): boolean {
  return user.role === 'admin' || deviceId.startsWith(`${siteId}-`);
}
