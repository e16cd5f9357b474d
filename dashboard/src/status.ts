import type { Site, SiteHealth, SiteLive } from '../../contract/index.js';

// The status rule itself (isStale, siteStatusAt) is the server's, from contract/rules/site-status.ts.

export const statusOrder: readonly SiteHealth[] = ['offline', 'attention', 'stale', 'ok'];

export interface SiteRow {
  id: string;
  site: Site | undefined;
  live: SiteLive;
  status: SiteHealth;
  stale: boolean;
}

export function siteName(row: Pick<SiteRow, 'id' | 'site'>, locale: string): string {
  if (!row.site) return row.id;
  return locale.startsWith('zh') ? row.site.name.zh : row.site.name.en;
}

/** A site's opening hours in the reader's words: "Open 24 hours" or "Hours 08:00–20:00". */
export function openingHoursText(
  site: Site,
  t: (key: string, named?: Record<string, unknown>) => string,
): string {
  const { open, close } = site.openingHours;
  return open === close ? t('tile.allDay') : t('tile.hours', { open, close });
}

/** Problems first (offline, attention, stale, ok), then by name in the reader's collation. */
export function sortRows(rows: SiteRow[], locale: string): SiteRow[] {
  const collator = new Intl.Collator(locale);
  return [...rows].sort(
    (a, b) =>
      statusOrder.indexOf(a.status) - statusOrder.indexOf(b.status) ||
      collator.compare(siteName(a, locale), siteName(b, locale)) ||
      a.id.localeCompare(b.id),
  );
}
