import type { Site } from '../domain.js';

/**
 * Whether volunteer doctors screen at a site (健康驿站, or a hut that is both). A caring station
 * (爱心驿站) only offers rest: no sessions are planned there and residents are not offered it for
 * booking. One rule for the server (sessions, the public site list) and the dashboard.
 */
export function screeningHappensAt(site: Pick<Site, 'type'>): boolean {
  return site.type === 'health' || site.type === 'both';
}
