import type { Alert } from './alerts.js';
import type { AppointmentsDay } from './appointments.js';
import type { HubStatus, LiveDevice, Site, SiteLive, User } from './domain.js';
import type { FeedbackItem } from './feedback.js';

/**
 * socket.io events. A client gets `snapshot` once on connect (every site it may see), then
 * `sites` with the ones that changed (one message per live flush, however many sites changed),
 * and `deviceEvent` for each device event.
 */
export interface ServerToClientEvents {
  snapshot: (s: { sites: Site[]; live: SiteLive[]; staleAfterMs: number; serverTime: number }) => void;
  sites: (lives: SiteLive[]) => void;
  deviceEvent: (e: LiveEvent) => void;
  /** Sent on connect and whenever it changes. */
  hub: (s: HubStatus) => void;
  /** The user's role or sites changed while connected; a fresh `snapshot` follows at once. */
  user: (u: User) => void;
  /**
   * A site's screening appointments today changed (booked, cancelled, checked in, no-show, session
   * planned or cancelled). Counts only, so it goes to the site's room and to `all` alike.
   */
  appointments: (day: AppointmentsDay) => void;
  /** Feedback given or answered at a site, with its comment: to the site's managers and to admins only. */
  feedback: (item: FeedbackItem) => void;
  /** An alert of a visible site was raised or changed (acknowledged, cleared, resolved, delivered). */
  alert: (a: Alert) => void;
}

// biome-ignore lint/complexity/noBannedTypes: no client-to-server events yet
export type ClientToServerEvents = {};

export interface LiveEvent {
  siteId: string;
  deviceId: string;
  kind: LiveDevice['kind'];
  type: string;
  ts: number;
  code?: string;
  message?: string;
}
