import type { EffectiveRule } from '../../contract/index.js';
import type { DeviceRecord, DeviceRepo } from '../state/devices.js';
import { type AlertLedger, alertKey } from './ledger.js';
import { type Observed, siteDarkLevel, siteOccupancyLevel } from './levels.js';
import type { Muting } from './muting.js';
import type { RuleBook } from './rules.js';
import type { Tracker } from './tracker.js';

export const SITE_DARK = 'site_dark';
export const OVER_SEATS = 'over_seats';
export const DEVICE_OFFLINE = 'device_offline';

interface Context {
  devices: DeviceRepo;
  rules: RuleBook;
  ledger: AlertLedger;
  muting: Muting;
  tracker(key: string): Tracker;
  obs(deviceId: string, now: number): Observed;
}

/**
 * The alerts about a whole site rather than one device: the site gone dark (every device down,
 * raised once with the devices' offline alerts folded under it) and more people inside than seats.
 */
export class SiteConditions {
  constructor(private readonly c: Context) {}

  /**
   * A device going offline while every other device of its site is down too is the site going
   * dark: the site alert is raised now (if its own wait has not run out yet) and the device alert
   * folds under it, so one message goes out instead of one per device.
   */
  darkParent(siteId: string, now: number): string | undefined {
    const rule = this.c.rules.forSite(siteId, SITE_DARK);
    if (!rule?.body.enabled) return undefined;
    const key = alertKey(SITE_DARK, siteId, null);
    if (this.c.ledger.isOpen(key)) return key;
    const dark = siteDarkLevel(this.siteDevices(siteId), (id) => this.c.obs(id, now), this.c.rules, now);
    if (dark.level !== 'raise') return undefined;
    const t = this.c.tracker(key);
    t.step('raise', now, 0, 0, dark.since);
    this.raise(rule, siteId, dark.since, null, { devices: dark.devices }, now);
    return key;
  }

  evaluate(siteId: string, now: number): void {
    const site = this.c.muting.sites.get(siteId);
    if (!site) return;
    const devices = this.siteDevices(siteId);
    const dark = this.c.rules.forSite(siteId, SITE_DARK);
    if (dark) {
      const key = alertKey(SITE_DARK, siteId, null);
      const l = dark.body.enabled
        ? siteDarkLevel(devices, (id) => this.c.obs(id, now), this.c.rules, now)
        : { level: 'clear' as const, since: now, devices: 0 };
      if (dark.body.type === 'site_dark') {
        const step = this.c.tracker(key).step(l.level, now, dark.body.forMs, dark.body.clearForMs, l.since);
        if (step === 'raise') this.raise(dark, siteId, l.since, null, { devices: l.devices }, now);
        if (step === 'clear') this.c.ledger.clear(key, null);
      }
    }
    const seats = this.c.rules.forSite(siteId, OVER_SEATS);
    if (seats && seats.body.type === 'over_seats') {
      const key = alertKey(OVER_SEATS, siteId, null);
      const l = seats.body.enabled
        ? siteOccupancyLevel(seats.body, site.seats, devices, (id) => this.c.obs(id, now))
        : { level: 'clear' as const, value: null };
      const step = this.c.tracker(key).step(l.level, now, seats.body.forMs, seats.body.clearForMs);
      if (step === 'raise') this.raise(seats, siteId, now, l.value, { seats: site.seats }, now);
      if (step === 'clear') this.c.ledger.clear(key, l.value);
    }
  }

  private raise(
    rule: EffectiveRule,
    siteId: string,
    since: number,
    value: number | null,
    detail: Record<string, number>,
    now: number,
  ): void {
    this.c.ledger.raise({
      ruleId: rule.id,
      type: rule.body.type,
      siteId,
      deviceId: null,
      severity: rule.body.severity,
      since,
      value,
      detail,
      muted: this.c.muting.isMuted(rule, siteId, null, rule.id, now),
    });
    if (rule.id === SITE_DARK) this.c.ledger.fold(siteId, DEVICE_OFFLINE, alertKey(SITE_DARK, siteId, null));
  }

  private siteDevices(siteId: string): DeviceRecord[] {
    return this.c.devices.list([siteId]).filter((d) => d.enabled);
  }
}
