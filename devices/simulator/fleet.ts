import type { DeviceKind, OpeningHours } from '../../contract/index.js';
import { type DeviceStats, SimulatedDevice } from './device.js';

export interface FleetDevice {
  siteId: string;
  deviceId: string;
  kind: DeviceKind;
  secret: string;
  seats?: number;
  /** Lets patterns keep a closed hut empty; absent means always open. */
  openingHours?: OpeningHours;
  /** A water dispenser that starts wearing out at this instant. */
  wearingSince?: number;
}

export interface FleetOptions {
  url: string;
  devices: FleetDevice[];
  /** Real milliseconds between readings of one device (default 5000). */
  intervalMs?: number;
  /** How much faster than real time the patterns run (default 1). Timestamps stay real. */
  speed?: number;
  seed?: number;
  /** Simulated time at start (default now), e.g. 11:00 local to show the lunch peak straight away. */
  startAt?: number;
  /** First reconnect delay per device (default 1500 ms, then doubling with jitter). */
  reconnectMs?: number;
  log?: (line: string) => void;
}

export interface FleetStats {
  devices: number;
  connected: number;
  sent: number;
  acked: number;
  buffered: number;
  dropped: number;
  /** Current error message → how many devices report it. */
  errors: Record<string, number>;
  byDevice: DeviceStats[];
}

export interface Fleet {
  stop(): Promise<void>;
  stats(): FleetStats;
}

/** Connects spread over at most this long, so a big fleet does not hit the broker in one millisecond. */
const MAX_STAGGER_MS = 10_000;
const STAGGER_STEP_MS = 25;
/** The same failure from many devices (hub down) is logged once per this window, not once per device. */
const LOG_WINDOW_MS = 30_000;

export function runFleet(opts: FleetOptions): Fleet {
  const log = opts.log ?? ((line: string) => console.log(line));
  const speed = opts.speed ?? 1;
  const realStart = Date.now();
  const simStart = opts.startAt ?? realStart;
  const simTime = () => simStart + (Date.now() - realStart) * speed;
  const lastLogged = new Map<string, number>();
  const fleetLog = (deviceId: string, line: string) => {
    const now = Date.now();
    const seen = lastLogged.get(line);
    if (seen !== undefined && now - seen < LOG_WINDOW_MS) return;
    lastLogged.set(line, now);
    log(`${deviceId}: ${line}`);
  };

  const devices = opts.devices.map(
    (d) =>
      new SimulatedDevice({
        url: opts.url,
        siteId: d.siteId,
        deviceId: d.deviceId,
        kind: d.kind,
        secret: d.secret,
        seats: d.seats,
        openingHours: d.openingHours,
        wearingSince: d.wearingSince,
        intervalMs: opts.intervalMs,
        seed: opts.seed,
        simTime,
        reconnectMs: opts.reconnectMs,
        log: (line) => fleetLog(d.deviceId, line),
      }),
  );
  const step = Math.min(STAGGER_STEP_MS, MAX_STAGGER_MS / Math.max(devices.length, 1));
  const pending = devices.map((device, i) => setTimeout(() => device.start(), Math.round(i * step)));

  return {
    async stop() {
      for (const t of pending) clearTimeout(t);
      await Promise.allSettled(devices.map((d) => d.stop()));
    },
    stats() {
      const byDevice = devices.map((d) => d.stats());
      const errors: Record<string, number> = {};
      for (const s of byDevice) if (s.lastError) errors[s.lastError] = (errors[s.lastError] ?? 0) + 1;
      const sum = (key: 'sent' | 'acked' | 'buffered' | 'dropped') =>
        byDevice.reduce((n, s) => n + s[key], 0);
      return {
        devices: byDevice.length,
        connected: byDevice.filter((s) => s.connected).length,
        sent: sum('sent'),
        acked: sum('acked'),
        buffered: sum('buffered'),
        dropped: sum('dropped'),
        errors,
        byDevice,
      };
    },
  };
}
