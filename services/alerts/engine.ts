import type { BusEvents, EffectiveRule, EventRow, ReadingRow, Silence, Site } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import { DeviceLinks } from '../live/device-links.js';
import type { DeviceRecord, DeviceRepo } from '../state/devices.js';
import type { AlertClock } from './clock.js';
import { type AlertLedger, alertKey } from './ledger.js';
import { detailOf, deviceLevel, type Observed, thresholdLevel } from './levels.js';
import { Muting } from './muting.js';
import { Observations } from './observations.js';
import type { RuleBook } from './rules.js';
import { DEVICE_OFFLINE, SITE_DARK, SiteConditions } from './site-conditions.js';
import { type Level, Tracker } from './tracker.js';

interface Plan {
  version: number;
  siteId: string;
  items: Array<{ rule: EffectiveRule; key: string; tracker: Tracker }>;
}

export interface EngineOptions {
  timeZone: string;
  /** How often durations, silences and silence-based offline detection are re-checked. */
  tickMs: number;
}

/**
 * Evaluates the alert rules from the hub's event stream (stored readings and events, status
 * reports, connects and disconnects, refusals), never by polling the database. Each listener only
 * updates what it observed and steps that device's trackers, which is a few comparisons; writes go
 * through the ledger's queue. A tick re-checks what changes with the clock alone (durations,
 * silence, opening hours).
 */
export class AlertEngine {
  private readonly observed = new Observations();
  /** A device moving between hubs is online throughout (several hubs, issue 14). */
  private readonly links = new DeviceLinks();
  private readonly trackers = new Map<string, Tracker>();
  private readonly plans = new Map<string, Plan>();
  /** Whether an alert is sent now or only recorded (closed hours, silences); the dispatcher asks it too. */
  readonly muting: Muting;
  private readonly siteConditions: SiteConditions;
  private unsubscribe: () => void = () => {};
  private stopTick: () => void = () => {};
  /** Called after each tick (the notification dispatcher runs here). */
  afterTick: (now: number) => void = () => {};

  constructor(
    private readonly devices: DeviceRepo,
    private readonly bus: EventBus,
    private readonly clock: AlertClock,
    private readonly rules: RuleBook,
    private readonly ledger: AlertLedger,
    private readonly opts: EngineOptions,
  ) {
    this.muting = new Muting(opts.timeZone);
    this.siteConditions = new SiteConditions({
      devices,
      rules,
      ledger,
      muting: this.muting,
      tracker: (key) => this.tracker(key),
      obs: (id, now) => this.obs(id, now),
    });
    ledger.ended.push((row, by) => {
      // Resolved by hand: the condition must hold its full duration again before it re-raises.
      if (by === 'hand')
        this.trackers.get(alertKey(row.rule_id, row.site_id, row.device_id || null))?.reset();
      if (row.rule_id === SITE_DARK) this.ledger.fold(row.site_id, DEVICE_OFFLINE, null);
    });
  }

  /**
   * Starts from the open alerts in the store (so nothing is raised twice) and the newest stored
   * values; then every condition is evaluated afresh. Devices count as seen at start: a restart
   * does not make the whole fleet "silent".
   */
  async start(seed: {
    sites: Site[];
    latest: Array<{ deviceId: string; metric: string; value: number; ts: number }>;
    silences: Silence[];
  }) {
    const now = this.clock.now();
    for (const s of seed.sites) this.muting.siteChanged(s);
    this.muting.setSilences(seed.silences);
    for (const open of this.ledger.list()) this.trackers.set(open.key, new Tracker(true));
    for (const d of this.devices.list()) this.obs(d.id, now);
    for (const v of seed.latest) {
      if (this.devices.get(v.deviceId)) this.observed.value(v.deviceId, v.metric, v.value, v.ts, now);
    }
    this.unsubscribe = this.bus.onMany({
      'readings.stored': ({ readings }) => this.onReadings(readings),
      'events.stored': ({ events }) => this.onEvents(events),
      'status.reported': (r) => this.onStatus(r),
      'device.connected': ({ deviceId, hub }) => this.onLink(deviceId, this.links.apply(deviceId, true, hub)),
      'device.disconnected': ({ deviceId, hub }) =>
        this.onLink(deviceId, this.links.apply(deviceId, false, hub)),
      'device.refused': ({ deviceId, code }) => this.onRefused(deviceId, code),
      'device.changed': ({ device }) => this.onDeviceChanged(device.id, device.siteId),
      'site.changed': ({ site }) => this.muting.siteChanged(site),
    });
    this.tick();
    this.stopTick = this.clock.every(this.opts.tickMs, () => this.tick());
  }

  stop(): void {
    this.stopTick();
    this.unsubscribe();
  }

  setSilences(silences: Silence[]): void {
    this.muting.setSilences(silences);
  }

  /** Re-evaluates everything: durations that ran out, silence, opening hours. */
  tick(): void {
    const now = this.clock.now();
    for (const siteId of this.muting.sites.keys()) {
      this.siteConditions.evaluate(siteId, now);
      for (const d of this.devices.list([siteId])) this.evalDevice(d, now);
    }
    this.afterTick(now);
  }

  ruleFor(ruleId: string, siteId: string, deviceId: string | null): EffectiveRule | undefined {
    if (deviceId === null) return this.rules.forSite(siteId, ruleId);
    const d = this.devices.get(deviceId);
    return d ? this.rules.forDevice(d).find((r) => r.id === ruleId) : undefined;
  }

  site(siteId: string): Site | undefined {
    return this.muting.sites.get(siteId);
  }

  isOpen(siteId: string, now: number): boolean {
    return this.muting.isOpen(siteId, now);
  }

  private onReadings(readings: ReadingRow[]): void {
    const now = this.clock.now();
    for (const r of readings) {
      const d = this.devices.get(r.deviceId);
      if (!d) continue;
      this.observed.reading(r, now);
      this.afterObservation(d, now, r.values);
    }
  }

  private onEvents(events: EventRow[]): void {
    const now = this.clock.now();
    for (const e of events) {
      const d = this.devices.get(e.deviceId);
      if (!d) continue;
      this.observed.event(e, now);
      this.afterObservation(d, now);
    }
  }

  private onStatus({ deviceId, status }: BusEvents['status.reported']): void {
    // `{"online":false}` is the device's Last Will (or its own goodbye).
    this.onLink(deviceId, status.online);
  }

  private onLink(deviceId: string, connected: boolean): void {
    const d = this.devices.get(deviceId);
    if (!d) return;
    const now = this.clock.now();
    this.observed.link(deviceId, connected, now);
    this.afterObservation(d, now);
  }

  private onRefused(deviceId: string, code: string): void {
    const d = this.devices.get(deviceId);
    if (!d) return;
    const now = this.clock.now();
    this.observed.refusal(deviceId, code, now);
    this.evalDevice(d, now);
  }

  private onDeviceChanged(deviceId: string, siteId: string): void {
    const now = this.clock.now();
    const d = this.devices.get(deviceId);
    if (d) this.evalDevice(d, now);
    else {
      // Deleted: its open alerts end; nothing will ever clear them otherwise.
      for (const open of this.ledger.list())
        if (open.row.device_id === deviceId) this.ledger.clear(open.key, null);
      this.observed.delete(deviceId);
      this.plans.delete(deviceId);
    }
    this.siteConditions.evaluate(siteId, now);
  }

  private afterObservation(d: DeviceRecord, now: number, metrics?: Record<string, number>): void {
    const o = this.obs(d.id, now);
    const down = o.connected === false;
    // The site's conditions change only when a device's link does, or people come and go.
    if (down !== o.wasDown || d.kind === 'occupancy_counter') {
      o.wasDown = down;
      this.siteConditions.evaluate(d.siteId, now);
    }
    this.evalDevice(d, now, metrics);
  }

  /**
   * Steps the device's rules. With `metrics` (a reading just stored) only the rules that reading can
   * change are stepped: thresholds on those metrics, and the offline rule while it is pending or
   * open (a reading brings the device back). Everything else waits for its own event or the tick;
   * this keeps a reading's cost to a few comparisons (the bench's "rules on vs off").
   */
  private evalDevice(d: DeviceRecord, now: number, metrics?: Record<string, number>): void {
    const o = this.obs(d.id, now);
    const plan = this.plan(d);
    const open = () => this.isOpen(d.siteId, now);
    for (const item of plan.items) {
      const { rule, key, tracker } = item;
      const b = rule.body;
      if (metrics) {
        if (b.type === 'threshold' ? !(b.metric in metrics) : b.type !== 'offline') continue;
        if (b.type === 'offline' && !tracker.open && tracker.pendingSince === null) continue;
      }
      let level: Level = 'clear';
      let since = now;
      let value: number | null = null;
      if (b.enabled && d.enabled) {
        if (b.type === 'threshold') {
          // The hot path (every stored reading): no allocation.
          const v = o.values[b.metric];
          level = thresholdLevel(b, v, open);
          value = v ?? null;
        } else ({ level, since, value } = deviceLevel(b, o, now, open));
      }
      const step = tracker.step(level, now, 'forMs' in b ? b.forMs : 0, b.clearForMs, since);
      if (step === 'clear') this.ledger.clear(key, value);
      if (step !== 'raise') continue;
      let parentKey: string | undefined;
      if (rule.id === DEVICE_OFFLINE) parentKey = this.siteConditions.darkParent(d.siteId, now);
      this.ledger.raise({
        ruleId: rule.id,
        type: b.type,
        siteId: d.siteId,
        deviceId: d.id,
        severity: b.severity,
        since: tracker.pendingSince ?? since,
        value,
        detail: { ...detailOf(b, o, now), kind: d.kind },
        muted: this.muting.isMuted(rule, d.siteId, d.id, rule.id, now),
        parentKey,
      });
    }
  }

  /** The device's rules with their keys and trackers, rebuilt when the rules change. */
  private plan(d: DeviceRecord): Plan {
    let p = this.plans.get(d.id);
    if (!p || p.version !== this.rules.version || p.siteId !== d.siteId) {
      p = {
        version: this.rules.version,
        siteId: d.siteId,
        items: this.rules.forDevice(d).map((rule) => {
          const key = alertKey(rule.id, d.siteId, d.id);
          return { rule, key, tracker: this.tracker(key) };
        }),
      };
      this.plans.set(d.id, p);
    }
    return p;
  }

  private tracker(key: string): Tracker {
    let t = this.trackers.get(key);
    if (!t) {
      t = new Tracker(this.ledger.isOpen(key));
      this.trackers.set(key, t);
    }
    return t;
  }

  private obs(deviceId: string, now: number): Observed {
    return this.observed.get(deviceId, now);
  }
}
