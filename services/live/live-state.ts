import type {
  BusEvents,
  EventRow,
  HubStatus,
  LiveDevice,
  ReadingRow,
  Site,
  SiteLive,
} from '../../contract/index.js';
import { type DeviceExtras, healthOf, isOpenAt, siteIssues } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { DeviceRecord, DeviceRepo } from '../state/devices.js';
import type { LatestValue } from '../telemetry/store.js';
import { DeviceLinks } from './device-links.js';

interface DeviceLiveState extends DeviceExtras {
  online: boolean;
  lastSeen: number | null;
  values: Record<string, number | boolean>;
  /** Device time of each value, so a late reading never overwrites a newer one. */
  metricTs: Record<string, number>;
  fault: LiveDevice['fault'];
  fw: string | null;
  rssi: number | null;
}

/** Stored as 0/1 like every reading value; shown as the booleans the contract has. */
const BOOLEAN_METRICS = new Set(['on', 'open']);

export interface LiveStateOptions {
  timeZone: string;
  staleAfterMs: number;
  /** 25 ms keeps publish→dashboard well under 50 ms; the cost is bounded by sites changed, not readings. */
  flushMs?: number;
  /** Opening hours and staleness change with the clock alone. */
  recheckMs?: number;
}

/**
 * What every site looks like now, kept in memory. It follows the bus: stored readings and events
 * (only new ones, after their commit, so the dashboard never shows what the store refused as a
 * duplicate), status reports, connects, device and site changes. Changes are coalesced and put
 * back on the bus as `live.sites` every few tens of milliseconds, so a burst of readings from one
 * hut becomes one update to the dashboards, not hundreds.
 */
export class LiveState {
  private readonly sites = new Map<string, Site>();
  private readonly state = new Map<string, DeviceLiveState>();
  private readonly dirty = new Set<string>();
  private readonly lastHealth = new Map<string, string>();
  private readonly links = new DeviceLinks();
  private timers: NodeJS.Timeout[] = [];
  private unsubscribe: () => void = () => {};
  private hub: HubStatus = { telemetryStore: 'ok', since: null, message: null };
  readonly stats = { slowClientsDropped: 0 };

  constructor(
    private readonly devices: DeviceRepo,
    private readonly bus: EventBus,
    private readonly opts: LiveStateOptions,
  ) {}

  /** Seeds sites and the newest stored values, then follows the bus. */
  async start(seed: { sites: Site[]; latest: LatestValue[] }): Promise<void> {
    for (const site of seed.sites) this.setSite(site);
    this.seed(seed.latest);
    this.unsubscribe = this.bus.onMany({
      'readings.stored': ({ readings }) => this.applyReadings(readings),
      'events.stored': ({ events }) => this.applyEvents(events),
      'status.reported': (r) => this.applyStatus(r),
      'device.connected': ({ deviceId, hub }) =>
        this.setOnline(deviceId, this.links.apply(deviceId, true, hub)),
      'device.disconnected': ({ deviceId, hub }) =>
        this.setOnline(deviceId, this.links.apply(deviceId, false, hub)),
      'device.changed': ({ device }) => this.dirty.add(device.siteId),
      'site.changed': ({ site }) => this.setSite(site),
      'store.health': (status) => {
        this.hub = status;
      },
    });
    this.timers = [
      setInterval(() => this.flush(), this.opts.flushMs ?? 25),
      setInterval(() => this.recheckAll(), this.opts.recheckMs ?? 15_000),
    ];
    for (const t of this.timers) t.unref();
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.unsubscribe();
  }

  get staleAfterMs(): number {
    return this.opts.staleAfterMs;
  }

  get hubStatus(): HubStatus {
    return this.hub;
  }

  listSites(only?: readonly string[]): Site[] {
    const all = [...this.sites.values()];
    return only ? all.filter((s) => only.includes(s.id)) : all;
  }

  siteLive(siteId: string, now = Date.now()): SiteLive | undefined {
    const site = this.sites.get(siteId);
    if (!site) return undefined;
    const devices = this.devices.list([siteId]).map((d) => this.liveDevice(d));
    const open = isOpenAt(site.openingHours, now, this.opts.timeZone);
    const issues = siteIssues(devices, this.state, open, now);
    const lastSeen = devices.map((d) => d.lastSeen ?? 0);
    const lastUpdate = Math.max(0, ...lastSeen) || null;
    // A hut with a counter at each door: the people inside are the sum of what the counters see.
    const counts = devices
      .filter((d) => d.enabled && d.kind === 'occupancy_counter')
      .map((d) => d.values.occupancy)
      .filter((v): v is number => typeof v === 'number');
    const door = devices.find((d) => d.kind === 'door_sensor' && d.values.open !== undefined)?.values.open;
    return {
      siteId,
      open,
      occupancy: counts.length > 0 ? counts.reduce((a, b) => a + b, 0) : null,
      occupancyCounters: counts.length,
      seats: site.seats,
      doorOpen: typeof door === 'boolean' ? door : null,
      devicesOnline: devices.filter((d) => d.enabled && d.online).length,
      devicesTotal: devices.filter((d) => d.enabled).length,
      lastUpdate,
      health: healthOf(devices, issues, lastUpdate, now, this.opts.staleAfterMs),
      issues,
      devices,
    };
  }

  snapshot(only?: readonly string[]): SiteLive[] {
    return this.listSites(only).flatMap((s) => this.siteLive(s.id) ?? []);
  }

  private setSite(site: Site): void {
    this.sites.set(site.id, site);
    this.dirty.add(site.id);
  }

  private seed(latest: LatestValue[]): void {
    for (const v of latest) {
      if (!this.devices.get(v.deviceId)) continue;
      const s = this.of(v.deviceId);
      this.setValue(s, v.metric, BOOLEAN_METRICS.has(v.metric) ? v.value === 1 : v.value, v.ts);
      s.lastSeen = Math.max(s.lastSeen ?? 0, v.ts);
    }
  }

  private setOnline(deviceId: string, online: boolean): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    this.of(deviceId).online = online;
    this.touch(device);
  }

  private applyReadings(readings: ReadingRow[]): void {
    for (const r of readings) {
      const device = this.devices.get(r.deviceId);
      if (!device) continue;
      const s = this.of(r.deviceId);
      for (const [metric, v] of Object.entries(r.values)) {
        this.setValue(s, metric, BOOLEAN_METRICS.has(metric) ? v === 1 : v, r.ts);
      }
      this.touch(device);
    }
  }

  private applyEvents(events: EventRow[]): void {
    for (const e of events) {
      const device = this.devices.get(e.deviceId);
      if (!device) continue;
      const s = this.of(e.deviceId);
      if (e.type === 'fault') s.fault = { code: e.code ?? 'unknown', message: e.message ?? '', ts: e.ts };
      if (e.type === 'fault_cleared') s.fault = null;
      if (e.type === 'door_opened') this.setValue(s, 'open', true, e.ts);
      if (e.type === 'door_closed') this.setValue(s, 'open', false, e.ts);
      this.touch(device);
    }
  }

  private applyStatus({ deviceId, status }: BusEvents['status.reported']): void {
    const device = this.devices.get(deviceId);
    if (!device) return;
    const s = this.of(deviceId);
    if (status.fw !== undefined) s.fw = status.fw;
    if (status.rssi !== undefined) s.rssi = status.rssi;
    this.touch(device);
  }

  private liveDevice(d: DeviceRecord): LiveDevice {
    const s = this.of(d.id);
    return {
      id: d.id,
      kind: d.kind,
      name: d.name,
      enabled: d.enabled,
      online: s.online,
      lastSeen: s.lastSeen,
      values: { ...s.values },
      valuesTs: Math.max(0, ...Object.values(s.metricTs)) || null,
      fault: s.fault,
      fw: s.fw,
      rssi: s.rssi,
    };
  }

  private setValue(s: DeviceLiveState, metric: string, value: number | boolean, ts: number): void {
    if ((s.metricTs[metric] ?? -1) > ts) return;
    if (metric === 'open' && value !== s.values.open) s.doorOpenSince = value === true ? ts : null;
    s.values[metric] = value;
    s.metricTs[metric] = ts;
  }

  private of(deviceId: string): DeviceLiveState {
    let s = this.state.get(deviceId);
    if (!s) {
      s = {
        online: false,
        lastSeen: null,
        values: {},
        metricTs: {},
        fault: null,
        fw: null,
        rssi: null,
        doorOpenSince: null,
      };
      this.state.set(deviceId, s);
    }
    return s;
  }

  private touch(device: DeviceRecord): void {
    this.of(device.id).lastSeen = Date.now();
    this.dirty.add(device.siteId);
  }

  private flush(): void {
    if (this.dirty.size === 0) return;
    const ids = [...this.dirty];
    this.dirty.clear();
    this.emit(ids.flatMap((id) => this.siteLive(id) ?? []));
  }

  private recheckAll(): void {
    const changed = this.snapshot().filter((l) => this.lastHealth.get(l.siteId) !== `${l.health}|${l.open}`);
    this.emit(changed);
  }

  private emit(lives: SiteLive[]): void {
    if (lives.length === 0) return;
    for (const l of lives) this.lastHealth.set(l.siteId, `${l.health}|${l.open}`);
    this.bus.emit('live.sites', { sites: lives });
  }
}
