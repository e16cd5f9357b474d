import type { Server as HttpServer, IncomingMessage } from 'node:http';
import { Server, type Socket } from 'socket.io';
import {
  type ClientToServerEvents,
  mayReadPersonalData,
  type ServerToClientEvents,
  type User,
  type UserChange,
  visibleSites,
} from '../../contract/index.js';
import { originIsHost } from '../api/same-origin.js';
import { sessionToken } from '../auth/session.js';
import type { EventBus } from '../bus/event-bus.js';
import type { UserRepo } from '../state/users.js';
import type { LiveState } from './live-state.js';
import { dropSlowClients } from './slow-clients.js';

interface SocketData {
  user: User;
  /** The login session this socket rides on; it ends with it. */
  sessionId: string;
  expiresAt: number;
}

type LiveSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/** Rooms: managers join one room per site they run; admins and planners join `all`. */
export const siteRoom = (id: string) => `site:${id}`;
export const ALL_ROOM = 'all';
const ALL = ALL_ROOM;
const isScopeRoom = (room: string) => room === ALL || room.startsWith('site:');
/** setTimeout fires at once for delays above 2^31 - 1 ms (~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * socket.io on the hub's HTTP server, logged in by the same session cookie as the API. A client
 * gets a snapshot of the sites it may see, then only what changes. Scope follows the user: a new
 * role or site assignment moves the socket to the new rooms with a fresh snapshot; logout, expiry,
 * a password reset or deleting the user disconnects it.
 */
export function attachLiveSocket(
  server: HttpServer,
  live: LiveState,
  users: UserRepo,
  bus: EventBus,
  slowClient = { maxQueuedPackets: 500, maxBufferedBytes: 4 * 1024 * 1024, everyMs: 1000 },
) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(
    server,
    {
      serveClient: false,
      // A phone on a weak link may stall; a bounded buffer drops it rather than growing without end.
      maxHttpBufferSize: 64 * 1024,
      // Browsers send the session cookie with a WebSocket opened by a page on another port or a
      // sibling subdomain (SameSite=Lax), and a WebSocket needs no CORS: only Origin tells (issue 8).
      // A browser cannot set Host or X-Forwarded-Host itself, so either may name the hub.
      allowRequest: (req, done) => {
        const origin = req.headers.origin;
        const forwarded = req.headers['x-forwarded-host'];
        const hosts = [req.headers.host, ...(typeof forwarded === 'string' ? forwarded.split(',') : [])];
        done(null, origin === undefined || hosts.some((h) => originIsHost(origin, h?.trim())));
      },
    },
  );

  // socket.io ignores the promise a middleware returns, so nothing in here may throw.
  io.use((socket, next) => {
    const token = sessionToken(socket.handshake.headers.cookie);
    (token ? users.session(token) : Promise.resolve(undefined)).then(
      (session) => {
        if (!session) return next(new Error('UNAUTHENTICATED'));
        if (session.user.mustChangePassword) return next(new Error('PASSWORD_CHANGE_REQUIRED'));
        socket.data.user = session.user;
        socket.data.sessionId = session.id;
        socket.data.expiresAt = session.expiresAt;
        next();
      },
      () => next(new Error('UNAUTHENTICATED')),
    );
  });

  /** Joins the rooms the user's scope allows (leaving any others) and sends what they now see. */
  const scope = (socket: LiveSocket) => {
    for (const room of socket.rooms) if (isScopeRoom(room)) socket.leave(room);
    const only = visibleSites(socket.data.user);
    socket.join(only ? only.map(siteRoom) : [ALL]);
    socket.emit('snapshot', {
      sites: live.listSites(only),
      live: live.snapshot(only),
      staleAfterMs: live.staleAfterMs,
      serverTime: Date.now(),
    });
  };

  io.on('connection', (socket) => {
    const expiry = setTimeout(
      () => socket.disconnect(true),
      Math.min(MAX_TIMER_MS, Math.max(0, socket.data.expiresAt - Date.now())),
    );
    socket.on('disconnect', () => clearTimeout(expiry));
    scope(socket);
    socket.emit('hub', live.hubStatus);
  });

  const sockets = (match: (data: SocketData) => boolean) =>
    [...io.of('/').sockets.values()].filter((s) => match(s.data));

  const onUserChange = (change: UserChange) => {
    switch (change.type) {
      case 'updated':
        for (const s of sockets((d) => d.user.id === change.user.id)) {
          s.data.user = change.user;
          s.emit('user', change.user);
          scope(s);
        }
        break;
      case 'deleted':
        for (const s of sockets((d) => d.user.id === change.userId)) s.disconnect(true);
        break;
      case 'sessions-closed':
        for (const s of sockets((d) => d.user.id === change.userId && d.sessionId !== change.except)) {
          s.disconnect(true);
        }
        break;
      case 'session-closed':
        for (const s of sockets((d) => d.sessionId === change.sessionId)) s.disconnect(true);
        break;
    }
  };
  const unsubscribe = bus.onMany({
    'user.changed': onUserChange,
    // One frame per flush for `all`: encoding and socket writes stay flat as readings/s grow.
    // Managers are only ever in site rooms, so no socket gets a site twice.
    // socket.io encodes a packet before it looks for the room's sockets, so rooms nobody is in
    // are skipped here: encoding each site for its empty room was 114 of 2,763 ms of the main
    // thread at 1,000 readings/s (15 s profile).
    'live.sites': ({ sites }) => {
      const rooms = io.of('/').adapter.rooms;
      if (rooms.has(ALL)) io.to(ALL).emit('sites', sites);
      for (const l of sites) {
        const room = siteRoom(l.siteId);
        if (rooms.has(room)) io.to(room).emit('sites', [l]);
      }
    },
    'events.stored': ({ events }) => {
      for (const e of events) {
        io.to([ALL, siteRoom(e.siteId)]).emit('deviceEvent', {
          siteId: e.siteId,
          deviceId: e.deviceId,
          kind: e.kind,
          type: e.type,
          ts: e.ts,
          ...(e.code !== null && { code: e.code }),
          ...(e.message !== null && { message: e.message }),
        });
      }
    },
    'store.health': (status) => io.emit('hub', status),
    // Counts only, so it goes to the site's room and to `all` alike.
    'live.appointments': (day) => io.to([ALL, siteRoom(day.siteId)]).emit('appointments', day),
    // Comments may name people: the site's managers and admins, never planners (issue 16).
    'feedback.changed': ({ item }) => {
      for (const s of sockets((d) => mayReadPersonalData(d.user, item.siteId))) s.emit('feedback', item);
    },
    // Alerts carry no personal data: the site's room and `all`, like `site`.
    'alert.changed': ({ alert }) => io.to([ALL, siteRoom(alert.siteId)]).emit('alert', alert),
  });

  /** Open engine.io connections, so close() can cut the ones that no longer read. */
  type EngineConnection = { request: IncomingMessage; once(event: 'close', listener: () => void): void };
  const connections = new Set<EngineConnection>();
  io.engine.on('connection', (conn: EngineConnection) => {
    connections.add(conn);
    conn.once('close', () => connections.delete(conn));
  });

  const stopDroppingSlowClients = dropSlowClients(io as unknown as Server, slowClient, () => {
    live.stats.slowClientsDropped += 1;
  });

  return {
    io,
    async close() {
      stopDroppingSlowClients();
      unsubscribe();
      // A phone that stopped reading never answers ws's close frame, and ws waits 30 s for one
      // (measured): past SIGTERM's 15 s. Every connection is cut at once after the goodbye.
      const raw = [...connections].map((c) => c.request.socket);
      io.disconnectSockets(true);
      // io.close() would also close the HTTP server, which the hub closes itself.
      io.engine.close();
      for (const s of raw) s.destroy();
    },
  };
}
