import { io, type Socket } from 'socket.io-client';
import { getCurrentScope, onScopeDispose, ref, shallowReactive } from 'vue';
import type {
  Alert,
  AppointmentsDay,
  ClientToServerEvents,
  FeedbackItem,
  LiveEvent,
  ServerToClientEvents,
  Site,
  SiteLive,
  User,
} from '../../contract/index.js';
import { ApiRequestError, api } from './api.js';
import { hubDate } from './time.js';

export type ConnectionState = 'connecting' | 'connected' | 'disconnected';

/** How often `now` moves, so tiles turn stale and "x min ago" advances while no data arrives. */
const TICK_MS = 5_000;
/** Retry delay when the server refused the connection for a reason socket.io does not retry itself. */
const RETRY_MS = 5_000;

export interface LiveHandlers {
  /** The session ended (logout elsewhere, expiry, user deleted): show the login page. */
  unauthenticated(): void;
  /** The server changed this user's role or sites; a fresh snapshot follows. */
  user?(u: User): void;
}

/**
 * Live state of every site the user may see: the `snapshot` sent on each (re)connect replaces
 * everything, then each `site` message replaces one site's SiteLive. Today's screening
 * appointments (counts only) are fetched after each snapshot and when the hub's day turns, then
 * each `appointments` message replaces one site's day. Objects are replaced, never
 * mutated, so the maps are shallowly reactive. Device events go to whoever registered with
 * `onDeviceEvent` (the site page). Stops on scope dispose (component unmount).
 */
export function useLive(handlers: LiveHandlers) {
  const onUnauthenticated = () => handlers.unauthenticated();
  const eventListeners = new Set<(e: LiveEvent) => void>();
  const feedbackListeners = new Set<(f: FeedbackItem) => void>();
  const appointmentListeners = new Set<(d: AppointmentsDay | null) => void>();
  /** Alert changes and every fresh snapshot (the alerts store refetches its open alerts then). */
  const alertListeners = new Set<(a: Alert | 'snapshot') => void>();
  const sites = shallowReactive(new Map<string, Site>());
  const live = shallowReactive(new Map<string, SiteLive>());
  /** Sites with screening sessions today (in the hub's zone), by site id. */
  const appointments = shallowReactive(new Map<string, AppointmentsDay>());
  const staleAfterMs = ref(Number.POSITIVE_INFINITY);
  const state = ref<ConnectionState>('connecting');
  /** True once the first snapshot arrived. */
  const ready = ref(false);
  /** Server clock estimate: local clock plus the offset seen in the last snapshot. */
  const now = ref(Date.now());
  let offset = 0;
  let stopped = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let fetchingSites = false;
  /** The day `appointments` holds; null until known. */
  let appointmentsDate: string | null = null;
  let appointmentsRequest = 0;
  /** Sites whose `appointments` message arrived while the summary was being fetched: newer than it. */
  let appointmentsTouched: Set<string> | null = null;
  let appointmentsRetry: ReturnType<typeof setTimeout> | undefined;
  /** The day the last turn-of-day fetch was for, so a clock or zone mismatch fetches once, not every tick. */
  let appointmentsAskedFor = '';

  const tick = () => {
    now.value = Date.now() + offset;
    // Past midnight in the hub's zone the counts held are yesterday's: fetch today's.
    const today = hubDate(now.value);
    if (
      ready.value &&
      appointmentsDate !== null &&
      today > appointmentsDate &&
      today !== appointmentsAskedFor
    ) {
      appointmentsAskedFor = today;
      void refreshAppointments();
    }
  };
  const timer = setInterval(tick, TICK_MS);
  const onVisible = () => document.visibilityState === 'visible' && tick();
  document.addEventListener('visibilitychange', onVisible);

  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io({
    withCredentials: true,
    autoConnect: false,
  });

  function unauthenticated() {
    stop();
    onUnauthenticated();
  }

  function retryLater() {
    clearTimeout(retry);
    retry = setTimeout(() => !stopped && socket.connect(), RETRY_MS);
  }

  /** A site we have live data for but no name: created after our snapshot. */
  async function refreshSites() {
    if (fetchingSites) return;
    fetchingSites = true;
    try {
      for (const s of await api.sites()) sites.set(s.id, s);
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 401) unauthenticated();
    } finally {
      fetchingSites = false;
    }
  }

  /** Today's appointment counts of every visible site; messages that arrive meanwhile win. */
  async function refreshAppointments() {
    const request = ++appointmentsRequest;
    const touched = new Set<string>();
    appointmentsTouched = touched;
    clearTimeout(appointmentsRetry);
    try {
      const r = await api.appointmentsSummary();
      if (request !== appointmentsRequest || stopped) return;
      if (appointmentsDate !== null && r.date < appointmentsDate) return;
      if (r.date !== appointmentsDate) {
        appointments.clear();
        touched.clear();
      }
      appointmentsDate = r.date;
      const days = new Map(r.days.map((d) => [d.siteId, d]));
      for (const id of appointments.keys()) if (!days.has(id) && !touched.has(id)) appointments.delete(id);
      for (const [id, d] of days) if (!touched.has(id)) appointments.set(id, d);
    } catch (err) {
      if (err instanceof ApiRequestError && err.status === 401) return unauthenticated();
      if (request === appointmentsRequest && !stopped) {
        appointmentsRetry = setTimeout(() => {
          if (socket.connected) void refreshAppointments();
        }, RETRY_MS);
      }
    } finally {
      if (appointmentsTouched === touched) appointmentsTouched = null;
    }
  }

  socket.on('connect', () => {
    state.value = 'connected';
  });
  socket.on('snapshot', (s) => {
    // A snapshot after the first means we reconnected and may have missed `appointments` messages.
    if (ready.value) for (const l of appointmentListeners) l(null);
    offset = s.serverTime - Date.now();
    staleAfterMs.value = s.staleAfterMs;
    sites.clear();
    for (const site of s.sites) sites.set(site.id, site);
    live.clear();
    for (const l of s.live) live.set(l.siteId, l);
    ready.value = true;
    tick();
    for (const l of alertListeners) l('snapshot');
    void refreshAppointments();
  });
  socket.on('sites', (changed) => {
    for (const l of changed) live.set(l.siteId, l);
    if (changed.some((l) => !sites.has(l.siteId))) void refreshSites();
  });
  socket.on('appointments', (d) => {
    if (appointmentsDate !== null && d.date < appointmentsDate) return;
    if (appointmentsDate !== null && d.date > appointmentsDate) {
      // The hub's day turned: the other sites' counts are yesterday's.
      appointments.clear();
      void refreshAppointments();
    }
    appointmentsDate = d.date;
    appointmentsTouched?.add(d.siteId);
    if (d.sessions.length) appointments.set(d.siteId, d);
    else appointments.delete(d.siteId);
    for (const l of appointmentListeners) l(d);
  });
  socket.on('alert', (a) => {
    for (const l of alertListeners) l(a);
  });
  socket.on('deviceEvent', (e) => {
    for (const l of eventListeners) l(e);
  });
  socket.on('feedback', (f) => {
    for (const l of feedbackListeners) l(f);
  });
  socket.on('user', (u) => handlers.user?.(u));
  socket.on('connect_error', (err) => {
    if (err.message === 'UNAUTHENTICATED') return unauthenticated();
    state.value = 'disconnected';
    // Transport errors are retried by socket.io; a refusal by server middleware is not.
    if (!socket.active) retryLater();
  });
  socket.on('disconnect', (reason) => {
    if (stopped) return;
    state.value = 'disconnected';
    if (reason !== 'io server disconnect') return; // socket.io reconnects by itself
    // The server closed us on purpose, e.g. the session ended: ask before reconnecting.
    api.me().then(
      (user) => (user ? socket.connect() : unauthenticated()),
      () => retryLater(),
    );
  });

  function stop() {
    if (stopped) return;
    stopped = true;
    eventListeners.clear();
    feedbackListeners.clear();
    appointmentListeners.clear();
    alertListeners.clear();
    clearInterval(timer);
    clearTimeout(retry);
    clearTimeout(appointmentsRetry);
    document.removeEventListener('visibilitychange', onVisible);
    socket.disconnect();
  }

  /** Calls `listener` for each device event until the returned function is called. */
  /** Station feedback given or answered (issue 16); only sent to those who may read its comment. */
  function onFeedback(listener: (f: FeedbackItem) => void): () => void {
    feedbackListeners.add(listener);
    return () => feedbackListeners.delete(listener);
  }

  function onDeviceEvent(listener: (e: LiveEvent) => void): () => void {
    eventListeners.add(listener);
    return () => eventListeners.delete(listener);
  }

  /**
   * Calls `listener` with each site's `appointments` message, and with null after a reconnect (when
   * some may have been missed), until the returned function is called. The appointments panel
   * reloads its booking list on these; it shares this one connection rather than opening its own.
   */
  function onAppointments(listener: (d: AppointmentsDay | null) => void): () => void {
    appointmentListeners.add(listener);
    return () => appointmentListeners.delete(listener);
  }

  /** Calls `listener` for each alert change, and with 'snapshot' after each (re)connect. */
  function onAlert(listener: (a: Alert | 'snapshot') => void): () => void {
    alertListeners.add(listener);
    return () => alertListeners.delete(listener);
  }

  socket.connect();
  if (getCurrentScope()) onScopeDispose(stop);

  return {
    sites,
    live,
    appointments,
    staleAfterMs,
    now,
    state,
    ready,
    stop,
    onDeviceEvent,
    onAppointments,
    onFeedback,
    onAlert,
  };
}

export type Live = ReturnType<typeof useLive>;
