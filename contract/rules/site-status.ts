import type { LiveDevice, SiteHealth, SiteLive } from '../domain.js';
import { DEFAULT_RULES_BY_ID } from './alert-defaults.js';

/** A default alert rule's raise level or duration, so live status and alerts agree (one rule, one place). */
function defaultOf(ruleId: string, key: 'raise' | 'forMs', fallback: number): number {
  const body = DEFAULT_RULES_BY_ID.get(ruleId)?.body;
  return body?.type === 'threshold' ? body[key] : fallback;
}

/** Thresholds a station manager would act on; the dashboard translates the issue codes. */
const WATER_LOW_PCT = defaultOf('water_low', 'raise', 15);
const DOOR_OPEN_LONG_MS = defaultOf('door_open_long', 'forMs', 15 * 60_000);

export interface DeviceExtras {
  doorOpenSince: number | null;
}

export function siteIssues(
  devices: LiveDevice[],
  extras: Map<string, DeviceExtras>,
  open: boolean,
  now: number,
) {
  const issues = new Set<string>();
  for (const d of devices) {
    if (!d.enabled) continue;
    if (!d.online) issues.add('devices_offline');
    if (d.fault) issues.add('device_fault');
    if (d.kind === 'water_dispenser' && typeof d.values.water_level_pct === 'number') {
      if (d.values.water_level_pct < WATER_LOW_PCT) issues.add('water_low');
    }
    if (d.kind === 'lending_cabinet' && d.values.umbrellas === 0 && d.values.raincoats === 0) {
      issues.add('cabinet_empty');
    }
    if (d.kind === 'door_sensor' && d.values.open === true) {
      const since = extras.get(d.id)?.doorOpenSince;
      if (!open) issues.add('door_open_closed_hours');
      else if (since !== null && since !== undefined && now - since > DOOR_OPEN_LONG_MS)
        issues.add('door_open_long');
    }
  }
  return [...issues].sort();
}

export function healthOf(
  devices: LiveDevice[],
  issues: string[],
  lastUpdate: number | null,
  now: number,
  staleAfterMs: number,
): SiteHealth {
  const enabled = devices.filter((d) => d.enabled);
  if (enabled.length > 0 && enabled.every((d) => !d.online)) return 'offline';
  if (isStale(lastUpdate, now, staleAfterMs)) return 'stale';
  return issues.length > 0 ? 'attention' : 'ok';
}

/** No data yet, or the newest is older than the hub's limit (STALE_AFTER_MS). */
export function isStale(lastUpdate: number | null, now: number, staleAfterMs: number): boolean {
  return lastUpdate === null || now - lastUpdate > staleAfterMs;
}

/**
 * A site's status at `now`, from the SiteLive the server computed earlier. The server's health is
 * computed when data arrives; staleness also follows from time passing without data, so a client
 * re-applies the same rule with its clock. Offline stays offline (the more useful word for a hut
 * whose devices all dropped out).
 */
export function siteStatusAt(live: SiteLive, now: number, staleAfterMs: number): SiteHealth {
  if (live.health === 'offline') return 'offline';
  if (live.health === 'stale' || isStale(live.lastUpdate, now, staleAfterMs)) return 'stale';
  return live.health;
}
