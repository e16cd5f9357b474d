import type { AnalyticsScope, Site, User } from '../../contract/index.js';
import { HubError, visibleSites } from '../../contract/index.js';
import type { SiteRepo } from '../state/sites.js';

/**
 * The sites an analytics query covers: those the user may see (a manager only their own), narrowed
 * to the requested ones and community. Naming a site one may not see answers 404, as elsewhere.
 */
export async function sitesInScope(sites: SiteRepo, user: User, scope: AnalyticsScope): Promise<Site[]> {
  const only = visibleSites(user);
  let picked = (await sites.list()).filter((s) => !only || only.includes(s.id));
  if (scope.sites && scope.sites.length > 0) {
    for (const id of scope.sites) {
      if (!picked.some((s) => s.id === id)) throw new HubError('SITE_NOT_FOUND', `no site ${id}`);
    }
    const wanted = new Set(scope.sites);
    picked = picked.filter((s) => wanted.has(s.id));
  }
  if (scope.community) {
    const c = scope.community;
    picked = picked.filter((s) => s.community.zh === c || s.community.en === c);
  }
  return picked.sort((a, b) => a.id.localeCompare(b.id));
}
