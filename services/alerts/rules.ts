import {
  DEFAULT_RULES,
  DEFAULT_RULES_BY_ID,
  type DeviceKind,
  deviceKinds,
  type EffectiveRule,
  HubError,
  type RuleBody,
} from '../../contract/index.js';
import type { AlertRepo, Override } from './repo.js';

/** Rule types judged once per site rather than per device. */
export const SITE_TYPES = new Set<RuleBody['type']>(['site_dark', 'over_seats']);

const key = (siteId: string, deviceId: string | null, ruleId: string) =>
  `${siteId}|${deviceId ?? ''}|${ruleId}`;

function kindsWithMetric(metric: string): DeviceKind[] {
  return (Object.keys(deviceKinds) as DeviceKind[]).filter((k) => metric in deviceKinds[k].values.shape);
}

interface DeviceRef {
  id: string;
  siteId: string;
  kind: DeviceKind;
}

/**
 * The rules in force: the shipped defaults, overridden per site, overridden again per device; a
 * site or device may also add its own threshold rule on any contract metric. Resolved rules are
 * cached per device and per site and dropped when an override changes (rare).
 */
export class RuleBook {
  private readonly overrides = new Map<string, Override>();
  private readonly cache = new Map<string, EffectiveRule[]>();
  /** Bumped whenever the rules change: the engine's per-device plans rebuild on it. */
  version = 0;

  constructor(private readonly repo: AlertRepo) {}

  async load(): Promise<void> {
    this.overrides.clear();
    this.cache.clear();
    for (const o of await this.repo.overrides()) this.overrides.set(key(o.siteId, o.deviceId, o.ruleId), o);
    this.version++;
  }

  /** Per-device rules that apply to this device's kind. */
  forDevice(d: DeviceRef): EffectiveRule[] {
    const k = `d|${d.id}|${d.siteId}`;
    let rules = this.cache.get(k);
    if (!rules) {
      rules = this.resolve(d.siteId, d).filter(
        (r) => !SITE_TYPES.has(r.body.type) && r.kinds.includes(d.kind),
      );
      this.cache.set(k, rules);
    }
    return rules;
  }

  /** A site-wide rule (site_dark, over_seats) as the site has it. */
  forSite(siteId: string, ruleId: string): EffectiveRule | undefined {
    const k = `s|${siteId}`;
    let rules = this.cache.get(k);
    if (!rules) {
      rules = this.resolve(siteId, null).filter((r) => SITE_TYPES.has(r.body.type));
      this.cache.set(k, rules);
    }
    return rules.find((r) => r.id === ruleId);
  }

  /** Every rule for a site (device null) or one device, with where each comes from. */
  resolve(siteId: string, device: DeviceRef | null): EffectiveRule[] {
    const out: EffectiveRule[] = [];
    const custom = new Map<string, Override>();
    for (const o of this.overrides.values()) {
      if (o.siteId !== siteId || DEFAULT_RULES_BY_ID.has(o.ruleId)) continue;
      if (o.deviceId === null || o.deviceId === device?.id) {
        if (!custom.has(o.ruleId) || o.deviceId !== null) custom.set(o.ruleId, o);
      }
    }
    for (const def of DEFAULT_RULES) {
      const dev = device && this.overrides.get(key(siteId, device.id, def.id));
      const site = this.overrides.get(key(siteId, null, def.id));
      const chosen = dev ?? site;
      out.push({
        ...def,
        body: chosen?.body ?? def.body,
        source: dev ? 'device' : site ? 'site' : 'default',
      });
    }
    for (const o of custom.values()) {
      const kinds = o.body.type === 'threshold' ? kindsWithMetric(o.body.metric) : [];
      out.push({ id: o.ruleId, kinds, body: o.body, source: o.deviceId ? 'device' : 'site' });
    }
    return out;
  }

  /**
   * Checks an override against the rule it overrides: the same type as the default, a site-wide
   * rule only per site, a custom rule only a threshold on a metric the device has.
   */
  check(ruleId: string, body: RuleBody, device: DeviceRef | null): void {
    const def = DEFAULT_RULES_BY_ID.get(ruleId);
    if (def && def.body.type !== body.type) {
      throw new HubError('VALIDATION', `rule ${ruleId} is a ${def.body.type} rule`, [
        { path: 'body.type', message: `must be ${def.body.type}` },
      ]);
    }
    if (!def && body.type !== 'threshold') {
      throw new HubError('VALIDATION', 'a new rule must be a threshold', [
        { path: 'body.type', message: 'must be threshold' },
      ]);
    }
    if (device && SITE_TYPES.has(body.type)) {
      throw new HubError('VALIDATION', `${body.type} is judged per site`, [
        { path: 'deviceId', message: 'set this rule for the site' },
      ]);
    }
    if (device && body.type === 'threshold' && !kindsWithMetric(body.metric).includes(device.kind)) {
      throw new HubError('VALIDATION', `a ${device.kind} has no ${body.metric}`, [
        { path: 'body.metric', message: `not measured by ${device.kind}` },
      ]);
    }
  }

  async set(o: Override, by: string, at: number): Promise<void> {
    await this.repo.putOverride(o, by, at);
    this.overrides.set(key(o.siteId, o.deviceId, o.ruleId), o);
    this.cache.clear();
    this.version++;
  }

  async remove(siteId: string, deviceId: string | null, ruleId: string): Promise<boolean> {
    const removed = await this.repo.deleteOverride(siteId, deviceId, ruleId);
    this.overrides.delete(key(siteId, deviceId, ruleId));
    this.cache.clear();
    this.version++;
    return removed;
  }
}
