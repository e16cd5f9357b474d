import type {
  DeviceEvent,
  HubStatus,
  LiveDevice,
  LiveEvent,
  Reading,
  Site,
  SiteLive,
  Status,
} from '../../contract/index.js';
import { type DeviceExtras, healthOf, isOpenAt, siteIssues } from '../../contract/index.js';
import type { DeviceRecord, DeviceRepo } from '../state/devices.js';
import type { LatestValue } from '../telemetry/store.js';

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

const BOOLEAN_METRICS = new Set(['on', 'open']);

export interface LiveListener {
  sites(changed: SiteLive[]): void;
  event(e: LiveEvent): void;
  hub(status: HubStatus): void;
}

/**
 * What every site looks like now, kept in memory and fed by ingest and the broker's connection
 * events. Changes are coalesced and handed to listeners every few tens of milliseconds, so a
 * burst of readings from one hut becomes one update to the dashboards, not hundreds.
 */
export class LiveState {
  private readonly sites = new Map<string, Site>();
  private readonly state = new Map<string, DeviceLiveState>();
  private readonly dirty = new Set<string>();
  private readonly listeners = new Set<LiveListener>();
  private readonly lastHealth = new Map<string, string>();
  private readonly timers: NodeJS.Timeout[];
  private hub: HubStatus = { telemetryStore: 'ok', since: null, message: null };
  readonly stats = { slowClientsDropped: 0 };

  constructor(
    private readonly devices: DeviceRepo,
    private readonly opts: { timeZone: string; staleAfterMs: number; flushMs?: number },
  ) {
    this.timers = [
      // 25 ms keeps publish→dashboard well under 50 ms; the cost is bounded by how many sites
      // change in 25 ms, not by how many readings arrive.
      setInterval(() => this.flush(), opts.flushMs ?? 25),
      // Opening hours and staleness change with the clock alone.
      setInterval(() => this.recheckAll(), 15_000),
    ];
    for (const t of this.timers) t.unref();
  }

  get staleAfterMs(): number {
    return this.opts.staleAfterMs;
  }

  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get hubStatus(): HubStatus {
    return this.hub;
  }

  setStoreFailure(failure: { since: number; message: string } | null): void {
    this.hub = failure
      ? { telemetryStore: 'failing', since: failure.since, message: failure.message }
      : { telemetryStore: 'ok', since: null, message: null };
    for (const l of this.listeners) l.hub(this.hub);
  }

  setSite(site: Site): void {
    this.sites.set(site.id, site);
    this.dirty.add(site.id);
  }

  listSites(only?: readonly string[]): Site[] {
    const all = [...this.sites.values()];
    return only ? all.filter((s) => only.includes(s.id)) : all;
  }

  /** Seeds values from the telemetry store at start-up. */
  seed(latest: LatestValue[]): void {
    for (const v of latest) {
      const device = this.devices.get(v.deviceId);
      if (!device) continue;
      this.setValue(
        this.of(device.id),
        v.metric,
        BOOLEAN_METRICS.has(v.metric) ? v.value === 1 : v.value,
        v.ts,
      );
      const s = this.of(device.id);
      s.lastSeen = Math.max(s.lastSeen ?? 0, v.ts);
    }
  }

  deviceChanged(device: DeviceRecord): void {
    this.touch(device, false);
  }

  setOnline(device: DeviceRecord, online: boolean): void {
    this.of(device.id).online = online;
    this.touch(device);
  }

  applyReadings(device: DeviceRecord, readings: Reading[]): void {
    const s = this.of(device.id);
    for (const r of readings) {
      for (const [metric, v] of Object.entries(r.values)) {
        if (v !== undefined) this.setValue(s, metric, v, r.ts);
      }
    }
    this.touch(device);
  }

  applyEvents(device: DeviceRecord, events: DeviceEvent[]): void {
    const s = this.of(device.id);
    for (const e of events) {
      if (e.type === 'fault') s.fault = { code: e.code ?? 'unknown', message: e.message ?? '', ts: e.ts };
      if (e.type === 'fault_cleared') s.fault = null;
      if (e.type === 'door_opened') this.setValue(s, 'open', true, e.ts);
      if (e.type === 'door_closed') this.setValue(s, 'open', false, e.ts);
      for (const l of this.listeners) {
        l.event({
          siteId: device.siteId,
          deviceId: device.id,
          kind: device.kind,
          type: e.type,
          ts: e.ts,
          code: e.code,
          message: e.message,
        });
      }
    }
    this.touch(device);
  }

  applyStatus(device: DeviceRecord, status: Status): void {
    const s = this.of(device.id);
    if (status.fw !== undefined) s.fw = status.fw;
    if (status.rssi !== undefined) s.rssi = status.rssi;
    this.touch(device);
  }

  siteLive(siteId: string, now = Date.now()): SiteLive | undefined {
    const site = this.sites.get(siteId);
    if (!site) return undefined;
    const devices = this.devices.list([siteId]).map((d) => this.liveDevice(d));
    const open = isOpenAt(site, now, this.opts.timeZone);
    const issues = siteIssues(devices, this.state, open, now);
    const lastSeen = devices.map((d) => d.lastSeen ?? 0);
    const lastUpdate = Math.max(0, ...lastSeen) || null;
    const pick = (kind: LiveDevice['kind'], metric: string) =>
      devices.find((d) => d.kind === kind && d.values[metric] !== undefined)?.values[metric];
    const occupancy = pick('occupancy_counter', 'occupancy');
    const door = pick('door_sensor', 'open');
    return {
      siteId,
      open,
      occupancy: typeof occupancy === 'number' ? occupancy : null,
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

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.listeners.clear();
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

  private touch(device: DeviceRecord, seen = true): void {
    if (seen) this.of(device.id).lastSeen = Date.now();
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
    for (const listener of this.listeners) listener.sites(lives);
  }
}
