import type { Site, SiteHealth, SiteLive } from '../../contract/index.js';

/** True when the newest data of a site is older than the server's staleness limit, or there is none. */
export function isStale(live: SiteLive, now: number, staleAfterMs: number): boolean {
  return live.health === 'stale' || live.lastUpdate === null || now - live.lastUpdate > staleAfterMs;
}

/**
 * The one status a tile is coloured, counted and sorted by. The server's health is computed when data
 * arrives; staleness also follows from time passing without data, so it is re-derived here. Offline
 * stays offline (it is the more useful word for a hut whose devices all dropped out).
 */
export function siteStatus(live: SiteLive, now: number, staleAfterMs: number): SiteHealth {
  if (live.health === 'offline') return 'offline';
  if (isStale(live, now, staleAfterMs)) return 'stale';
  return live.health;
}

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
