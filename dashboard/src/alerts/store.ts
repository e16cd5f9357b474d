import { computed, reactive, ref } from 'vue';
import { type Alert, SEVERITY_RANK, type Severity, type SiteHealth } from '../../../contract/index.js';
import type { Live } from '../live.js';
import { alertsApi } from './api.js';
import { announce } from './notify.js';

export interface SiteAlertCounts {
  critical: number;
  warning: number;
  info: number;
  /** Open and not yet acknowledged. */
  unacked: number;
}

const OPEN = new Set(['active', 'acknowledged']);

/**
 * The open alerts of every site the user may see: fetched after each live snapshot, then kept by
 * the socket's `alert` messages (as fast as the tiles). Device alerts folded under a site alert
 * (a dark site) count once, as the site alert.
 */
function createStore(live: Live) {
  const open = reactive(new Map<number, Alert>());
  /** Bumped on every change: pages with history refetch on it. */
  const version = ref(0);
  let request = 0;

  async function refresh() {
    const mine = ++request;
    try {
      const r = await alertsApi.list({ state: 'open', limit: 1000 });
      if (mine !== request) return;
      open.clear();
      for (const a of r.alerts) open.set(a.id, a);
      version.value++;
    } catch {
      // The next snapshot retries; the tiles still show the live issues meanwhile.
    }
  }

  live.onAlert((a) => {
    if (a === 'snapshot') return void refresh();
    const known = open.has(a.id);
    if (OPEN.has(a.state)) open.set(a.id, a);
    else open.delete(a.id);
    if (!known && a.state === 'active' && a.parentId === null) announce(a, live.sites.get(a.siteId));
    version.value++;
  });
  if (live.ready.value) void refresh();

  const bySite = computed(() => {
    const m = new Map<string, Alert[]>();
    for (const a of open.values()) {
      if (a.parentId !== null) continue;
      const list = m.get(a.siteId) ?? [];
      list.push(a);
      m.set(a.siteId, list);
    }
    for (const list of m.values()) list.sort(compareAlerts);
    return m;
  });

  function counts(siteId: string): SiteAlertCounts {
    const c: SiteAlertCounts = { critical: 0, warning: 0, info: 0, unacked: 0 };
    for (const a of bySite.value.get(siteId) ?? []) {
      c[a.severity]++;
      if (a.state === 'active') c.unacked++;
    }
    return c;
  }

  /** For sorting tiles: lower is more urgent; sites without alerts are 99 (Infinity - Infinity would be NaN). */
  function urgency(siteId: string): number {
    const first = bySite.value.get(siteId)?.[0];
    return first ? SEVERITY_RANK[first.severity] * 2 + (first.state === 'active' ? 0 : 1) : 99;
  }

  /** An open warning or critical alert makes an otherwise fine site need attention (−3.5 °C is not 正常). */
  function health(siteId: string, status: SiteHealth): SiteHealth {
    const c = counts(siteId);
    return status === 'ok' && c.critical + c.warning > 0 ? 'attention' : status;
  }

  /** Applies the server's answer at once (the socket message follows). */
  function applied(a: Alert) {
    if (OPEN.has(a.state)) open.set(a.id, a);
    else open.delete(a.id);
    version.value++;
  }

  return { open, bySite, counts, urgency, health, refresh, applied, version };
}

export function compareAlerts(a: Alert, b: Alert): number {
  return (
    SEVERITY_RANK[a.severity as Severity] - SEVERITY_RANK[b.severity as Severity] ||
    Number(a.state !== 'active') - Number(b.state !== 'active') ||
    b.raisedAt - a.raisedAt
  );
}

export type AlertsStore = ReturnType<typeof createStore>;
const stores = new WeakMap<Live, AlertsStore>();

/** One store per live connection, made on first use. */
export function alertsStore(live: Live): AlertsStore {
  let s = stores.get(live);
  if (!s) {
    s = createStore(live);
    stores.set(live, s);
  }
  return s;
}
