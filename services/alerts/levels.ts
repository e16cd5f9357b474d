import type { Alert, RuleBody } from '../../contract/index.js';
import type { DeviceRecord } from '../state/devices.js';
import type { RuleBook } from './rules.js';
import type { Level } from './tracker.js';

/** What the engine knows about one device, from the event stream alone. */
export interface Observed {
  /** Hub time of the last message, connect or start of the hub. */
  lastSeen: number;
  /** null until a connect, disconnect or status was seen. */
  connected: boolean | null;
  /** Hub time of the disconnect or Last Will. */
  downAt: number | null;
  wasDown: boolean;
  /** Newest value of each metric (booleans as 0/1, as stored). */
  values: Record<string, number>;
  valueTs: Record<string, number>;
  /** undefined until a fault or fault_cleared was seen since start: a restart does not clear a fault. */
  fault: { code: string; message: string } | null | undefined;
  /** Hub times of recent refusals, per code, ascending (bounded: see Observations.refusal). */
  refusals: Map<string, number[]>;
}

export interface DeviceLevel {
  level: Level;
  since: number;
  value: number | null;
}

/** When a device went down, or null while it is up: a Last Will, or silent past its allowance. */
export function downSince(
  body: Extract<RuleBody, { type: 'offline' }>,
  o: Observed,
  now: number,
): number | null {
  if (o.connected === false) return o.downAt ?? now;
  const silentFrom = o.lastSeen + body.intervalMs * body.missedIntervals;
  return now >= silentFrom ? silentFrom : null;
}

/**
 * A threshold's level for value `v`: beyond the raise level, back past the clear level, or in
 * between (hold). Outside the hours the rule is for (door open while open, AC while closed) its
 * condition does not hold. Allocation-free: it runs for every stored reading.
 */
export function thresholdLevel(
  b: Extract<RuleBody, { type: 'threshold' }>,
  v: number | undefined,
  open: () => boolean,
): Level {
  if (v === undefined) return 'hold';
  if (b.when !== 'always' && (b.when === 'open') !== open()) return 'clear';
  if (b.op === 'above') return v > b.raise ? 'raise' : v <= b.clear ? 'clear' : 'hold';
  return v < b.raise ? 'raise' : v >= b.clear ? 'clear' : 'hold';
}

/** One device-level rule's condition now. */
export function deviceLevel(body: RuleBody, o: Observed, now: number, open: () => boolean): DeviceLevel {
  switch (body.type) {
    case 'offline': {
      const since = downSince(body, o, now);
      return { level: since === null ? 'clear' : 'raise', since: since ?? now, value: null };
    }
    case 'threshold': {
      const v = o.values[body.metric];
      return { level: thresholdLevel(body, v, open), since: now, value: v ?? null };
    }
    case 'fault':
      return { level: o.fault === undefined ? 'hold' : o.fault ? 'raise' : 'clear', since: now, value: null };
    case 'refused_rate': {
      const recent = recentRefusals(body, o, now);
      return {
        level: recent.count >= body.count ? 'raise' : recent.count === 0 ? 'clear' : 'hold',
        since: recent.first ?? now,
        value: recent.count,
      };
    }
    default:
      return { level: 'hold', since: now, value: null };
  }
}

/** First index of ascending `a` whose value is ≥ `t`. */
export function lowerBound(a: readonly number[], t: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Refusals of the rule's codes within its window: how many, the first one, and the newest code.
 * A binary search per code, so a device flooding refused messages costs O(log n) per refusal.
 */
function recentRefusals(body: Extract<RuleBody, { type: 'refused_rate' }>, o: Observed, now: number) {
  let count = 0;
  let first = Number.POSITIVE_INFINITY;
  let lastAt = -1;
  let lastCode: string | null = null;
  for (const code of body.codes) {
    const a = o.refusals.get(code);
    if (!a || a.length === 0) continue;
    const i = lowerBound(a, now - body.windowMs + 1);
    if (i === a.length) continue;
    count += a.length - i;
    first = Math.min(first, a[i]!);
    if (a[a.length - 1]! > lastAt) {
      lastAt = a[a.length - 1]!;
      lastCode = code;
    }
  }
  return { count, first: count > 0 ? first : null, lastCode };
}

/** What the alert's message needs to say, built only when it is raised. */
export function detailOf(body: RuleBody, o: Observed, now: number): Alert['detail'] {
  switch (body.type) {
    case 'offline':
      return { lastSeen: o.lastSeen, lastWill: o.connected === false };
    case 'threshold':
      return { metric: body.metric, op: body.op, limit: body.raise };
    case 'fault':
      return { code: o.fault?.code ?? null, message: o.fault?.message ?? null };
    case 'refused_rate':
      return {
        code: recentRefusals(body, o, now).lastCode,
        count: body.count,
        windowMs: body.windowMs,
      };
    default:
      return {};
  }
}

/** Every enabled device of the site down: raise, since the last of them went. */
export function siteDarkLevel(
  devices: DeviceRecord[],
  obs: (id: string) => Observed,
  rules: RuleBook,
  now: number,
): { level: Level; since: number; devices: number } {
  if (devices.length === 0) return { level: 'clear', since: now, devices: 0 };
  let latest = 0;
  for (const d of devices) {
    const offline = rules.forDevice(d).find((r) => r.body.type === 'offline')?.body;
    if (offline?.type !== 'offline') return { level: 'clear', since: now, devices: 0 };
    const since = downSince(offline, obs(d.id), now);
    if (since === null) return { level: 'clear', since: now, devices: devices.length };
    latest = Math.max(latest, since);
  }
  return { level: 'raise', since: latest, devices: devices.length };
}

/** People inside (the sum of the site's counters) against its seats. */
export function siteOccupancyLevel(
  body: Extract<RuleBody, { type: 'over_seats' }>,
  seats: number,
  devices: DeviceRecord[],
  obs: (id: string) => Observed,
): { level: Level; value: number | null } {
  const counts = devices
    .filter((d) => d.kind === 'occupancy_counter')
    .map((d) => obs(d.id).values.occupancy)
    .filter((v): v is number => v !== undefined);
  if (counts.length === 0) return { level: 'hold', value: null };
  const people = counts.reduce((a, b) => a + b, 0);
  const limit = seats + body.margin;
  return {
    level: people > limit ? 'raise' : people <= limit - body.clearBelow ? 'clear' : 'hold',
    value: people,
  };
}
