import type { BusEvents, EffectiveRule, EventRow, ReadingRow, Silence, Site } from '../../contract/index.js';
import { isOpenAt } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import { DeviceLinks } from '../live/device-links.js';
import type { DeviceRecord, DeviceRepo } from '../state/devices.js';
import type { AlertClock } from './clock.js';
import { type AlertLedger, alertKey } from './ledger.js';
import {
  detailOf,
  deviceLevel,
  lowerBound,
  type Observed,
  siteDarkLevel,
  siteOccupancyLevel,
  thresholdLevel,
} from './levels.js';
import type { RuleBook } from './rules.js';
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

const SITE_DARK = 'site_dark';
const OVER_SEATS = 'over_seats';
const DEVICE_OFFLINE = 'device_offline';
/** Refusals older than this are forgotten whatever a rule's window (bounded memory per device). */
const MAX_REFUSAL_AGE_MS = 3_600_000;

/**
 * Evaluates the alert rules from the hub's event stream (stored readings and events, status
 * reports, connects and disconnects, refusals), never by polling the database. Each listener only
 * updates what it observed and steps that device's trackers, which is a few comparisons; writes go
 * through the ledger's queue. A tick re-checks what changes with the clock alone (durations,
 * silence, opening hours).
 */
export class AlertEngine {
  private readonly observed = new Map<string, Observed>();
  /** A device moving between hubs is online throughout (several hubs, issue 14). */
  private readonly links = new DeviceLinks();
  private readonly trackers = new Map<string, Tracker>();
  private readonly plans = new Map<string, Plan>();
  private readonly sites = new Map<string, Site>();
  private readonly openCache = new Map<string, { minute: number; open: boolean }>();
  private silences: Silence[] = [];
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
    for (const s of seed.sites) this.sites.set(s.id, s);
    this.silences = seed.silences;
    for (const open of this.ledger.list()) this.trackers.set(open.key, new Tracker(true));
    for (const d of this.devices.list()) this.obs(d.id, now);
    for (const v of seed.latest) {
      if (!this.devices.get(v.deviceId)) continue;
      const o = this.obs(v.deviceId, now);
      if ((o.valueTs[v.metric] ?? -1) <= v.ts) {
        o.values[v.metric] = v.value;
        o.valueTs[v.metric] = v.ts;
      }
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
      'site.changed': ({ site }) => {
        this.sites.set(site.id, site);
        this.openCache.delete(site.id);
      },
    });
    this.tick();
    this.stopTick = this.clock.every(this.opts.tickMs, () => this.tick());
  }

  stop(): void {
    this.stopTick();
    this.unsubscribe();
  }

  setSilences(silences: Silence[]): void {
    this.silences = silences;
  }

  /** Re-evaluates everything: durations that ran out, silence, opening hours. */
  tick(): void {
    const now = this.clock.now();
    for (const siteId of this.sites.keys()) {
      this.evalSite(siteId, now);
      for (const d of this.devices.list([siteId])) this.evalDevice(d, now);
    }
    this.afterTick(now);
  }

  /** Whether an alert of this rule on this subject is recorded but not sent now. */
  isMuted(
    rule: EffectiveRule | undefined,
    siteId: string,
    deviceId: string | null,
    ruleId: string,
    now: number,
  ) {
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

  ruleFor(ruleId: string, siteId: string, deviceId: string | null): EffectiveRule | undefined {
    if (deviceId === null) return this.rules.forSite(siteId, ruleId);
    const d = this.devices.get(deviceId);
    return d ? this.rules.forDevice(d).find((r) => r.id === ruleId) : undefined;
  }

  site(siteId: string): Site | undefined {
    return this.sites.get(siteId);
  }

  isOpen(siteId: string, now: number): boolean {
    const site = this.sites.get(siteId);
    if (!site) return true;
    const minute = Math.floor(now / 60_000);
    const cached = this.openCache.get(siteId);
    if (cached?.minute === minute) return cached.open;
    const open = isOpenAt(site.openingHours, now, this.opts.timeZone);
    this.openCache.set(siteId, { minute, open });
    return open;
  }

  private onReadings(readings: ReadingRow[]): void {
    const now = this.clock.now();
    for (const r of readings) {
      const d = this.devices.get(r.deviceId);
      if (!d) continue;
      const o = this.seen(d.id, now);
      for (const metric in r.values) {
        if ((o.valueTs[metric] ?? -1) > r.ts) continue;
        o.values[metric] = r.values[metric]!;
        o.valueTs[metric] = r.ts;
      }
      this.afterObservation(d, now, r.values);
    }
  }

  private onEvents(events: EventRow[]): void {
    const now = this.clock.now();
    for (const e of events) {
      const d = this.devices.get(e.deviceId);
      if (!d) continue;
      const o = this.seen(d.id, now);
      if (e.type === 'fault') o.fault = { code: e.code ?? 'unknown', message: e.message ?? '' };
      if (e.type === 'fault_cleared') o.fault = null;
      if ((e.type === 'door_opened' || e.type === 'door_closed') && (o.valueTs.open ?? -1) <= e.ts) {
        o.values.open = e.type === 'door_opened' ? 1 : 0;
        o.valueTs.open = e.ts;
      }
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
    const o = connected ? this.seen(deviceId, now) : this.obs(deviceId, now);
    if (!connected && o.connected !== false) o.downAt = now;
    o.connected = connected;
    this.afterObservation(d, now);
  }

  private onRefused(deviceId: string, code: string): void {
    const d = this.devices.get(deviceId);
    if (!d) return;
    const now = this.clock.now();
    const o = this.obs(deviceId, now);
    let times = o.refusals.get(code);
    if (!times) {
      times = [];
      o.refusals.set(code, times);
    }
    times.push(now);
    // Bounded and amortised: the stale prefix goes once it is a quarter of the array (or 1,024
    // entries), and never more than 10,000 are kept; a flooding device costs O(log n) a refusal.
    const stale = lowerBound(times, now - MAX_REFUSAL_AGE_MS + 1);
    if (stale > 0 && (stale >= 1024 || stale * 4 >= times.length)) times.splice(0, stale);
    if (times.length > 11_000) times.splice(0, times.length - 10_000);
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
    this.evalSite(siteId, now);
  }

  private afterObservation(d: DeviceRecord, now: number, metrics?: Record<string, number>): void {
    const o = this.obs(d.id, now);
    const down = o.connected === false;
    // The site's conditions change only when a device's link does, or people come and go.
    if (down !== o.wasDown || d.kind === 'occupancy_counter') {
      o.wasDown = down;
      this.evalSite(d.siteId, now);
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
      if (rule.id === DEVICE_OFFLINE) parentKey = this.darkParent(d.siteId, now);
      this.ledger.raise({
        ruleId: rule.id,
        type: b.type,
        siteId: d.siteId,
        deviceId: d.id,
        severity: b.severity,
        since: tracker.pendingSince ?? since,
        value,
        detail: { ...detailOf(b, o, now), kind: d.kind },
        muted: this.isMuted(rule, d.siteId, d.id, rule.id, now),
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

  /**
   * A device going offline while every other device of its site is down too is the site going
   * dark: the site alert is raised now (if its own wait has not run out yet) and the device alert
   * folds under it, so one message goes out instead of one per device.
   */
  private darkParent(siteId: string, now: number): string | undefined {
    const rule = this.rules.forSite(siteId, SITE_DARK);
    if (!rule?.body.enabled) return undefined;
    const key = alertKey(SITE_DARK, siteId, null);
    if (this.ledger.isOpen(key)) return key;
    const dark = siteDarkLevel(this.siteDevices(siteId), (id) => this.obs(id, now), this.rules, now);
    if (dark.level !== 'raise') return undefined;
    const t = this.tracker(key);
    t.step('raise', now, 0, 0, dark.since);
    this.raiseSite(rule, siteId, dark.since, null, { devices: dark.devices }, now);
    return key;
  }

  private evalSite(siteId: string, now: number): void {
    const site = this.sites.get(siteId);
    if (!site) return;
    const devices = this.siteDevices(siteId);
    const dark = this.rules.forSite(siteId, SITE_DARK);
    if (dark) {
      const key = alertKey(SITE_DARK, siteId, null);
      const l = dark.body.enabled
        ? siteDarkLevel(devices, (id) => this.obs(id, now), this.rules, now)
        : { level: 'clear' as const, since: now, devices: 0 };
      if (dark.body.type === 'site_dark') {
        const step = this.tracker(key).step(l.level, now, dark.body.forMs, dark.body.clearForMs, l.since);
        if (step === 'raise') this.raiseSite(dark, siteId, l.since, null, { devices: l.devices }, now);
        if (step === 'clear') this.ledger.clear(key, null);
      }
    }
    const seats = this.rules.forSite(siteId, OVER_SEATS);
    if (seats && seats.body.type === 'over_seats') {
      const key = alertKey(OVER_SEATS, siteId, null);
      const l = seats.body.enabled
        ? siteOccupancyLevel(seats.body, site.seats, devices, (id) => this.obs(id, now))
        : { level: 'clear' as const, value: null };
      const step = this.tracker(key).step(l.level, now, seats.body.forMs, seats.body.clearForMs);
      if (step === 'raise') this.raiseSite(seats, siteId, now, l.value, { seats: site.seats }, now);
      if (step === 'clear') this.ledger.clear(key, l.value);
    }
  }

  private raiseSite(
    rule: EffectiveRule,
    siteId: string,
    since: number,
    value: number | null,
    detail: Record<string, number>,
    now: number,
  ): void {
    this.ledger.raise({
      ruleId: rule.id,
      type: rule.body.type,
      siteId,
      deviceId: null,
      severity: rule.body.severity,
      since,
      value,
      detail,
      muted: this.isMuted(rule, siteId, null, rule.id, now),
    });
    if (rule.id === SITE_DARK) this.ledger.fold(siteId, DEVICE_OFFLINE, alertKey(SITE_DARK, siteId, null));
  }

  private siteDevices(siteId: string): DeviceRecord[] {
    return this.devices.list([siteId]).filter((d) => d.enabled);
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
    let o = this.observed.get(deviceId);
    if (!o) {
      o = {
        lastSeen: now,
        connected: null,
        downAt: null,
        wasDown: false,
        values: {},
        valueTs: {},
        fault: undefined,
        refusals: new Map(),
      };
      this.observed.set(deviceId, o);
    }
    return o;
  }

  private seen(deviceId: string, now: number): Observed {
    const o = this.obs(deviceId, now);
    o.lastSeen = now;
    // A device that publishes is connected, whatever a late Last Will said.
    o.connected = true;
    o.downAt = null;
    return o;
  }
}
