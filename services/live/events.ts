import type { LiveDevice, Site, SiteLive } from '../api/schemas.js';

/**
 * socket.io events. A client gets `snapshot` once on connect (every site it may see), then
 * `site` whenever one of those sites changes, and `deviceEvent` for each device event.
 */
export interface ServerToClientEvents {
  snapshot: (s: { sites: Site[]; live: SiteLive[]; staleAfterMs: number; serverTime: number }) => void;
  site: (live: SiteLive) => void;
  deviceEvent: (e: LiveEvent) => void;
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
