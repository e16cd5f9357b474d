import type { EffectiveRule, Silence, Site } from '../../contract/index.js';
import { isOpenAt } from '../../contract/index.js';

/**
 * Whether an alert is sent now or only recorded: a rule that mutes while the site is closed, and
 * silences managers set. Keeps the sites (for their opening hours) and whether each is open,
 * worked out once a minute: every stored reading asks.
 */
export class Muting {
  readonly sites = new Map<string, Site>();
  private readonly openCache = new Map<string, { minute: number; open: boolean }>();
  private silences: Silence[] = [];

  constructor(private readonly timeZone: string) {}

  setSilences(silences: Silence[]): void {
    this.silences = silences;
  }

  siteChanged(site: Site): void {
    this.sites.set(site.id, site);
    this.openCache.delete(site.id);
  }

  isOpen(siteId: string, now: number): boolean {
    const site = this.sites.get(siteId);
    if (!site) return true;
    const minute = Math.floor(now / 60_000);
    const cached = this.openCache.get(siteId);
    if (cached?.minute === minute) return cached.open;
    const open = isOpenAt(site.openingHours, now, this.timeZone);
    this.openCache.set(siteId, { minute, open });
    return open;
  }

  /** Whether an alert of this rule on this subject is recorded but not sent now. */
  isMuted(
    rule: EffectiveRule | undefined,
    siteId: string,
    deviceId: string | null,
    ruleId: string,
    now: number,
  ): boolean {
    if (rule?.body.muteWhenClosed && !this.isOpen(siteId, now)) return true;
    return this.silences.some(
      (s) =>
        s.siteId === siteId &&
        s.startsAt <= now &&
        now < s.endsAt &&
        (s.deviceId === null || s.deviceId === deviceId) &&
        (s.ruleId === null || s.ruleId === ruleId),
    );
  }
}
