import type { Server as HttpServer } from 'node:http';
import { Server } from 'socket.io';
import type { User } from '../api/schemas.js';
import { sessionToken, visibleSites } from '../auth/session.js';
import type { UserRepo } from '../state/users.js';
import type { ClientToServerEvents, ServerToClientEvents } from './events.js';
import type { LiveState } from './live-state.js';

interface SocketData {
  user: User;
}

/** Rooms: managers join one room per site they run; admins and planners join `all`. */
const siteRoom = (id: string) => `site:${id}`;
const ALL = 'all';

/**
 * socket.io on the hub's HTTP server, logged in by the same session cookie as the API. A client
 * gets a snapshot of the sites it may see, then only what changes.
 */
export function attachLiveSocket(server: HttpServer, live: LiveState, users: UserRepo) {
  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(
    server,
    {
      serveClient: false,
      // A phone on a weak link may stall; a bounded buffer drops it rather than growing without end.
      maxHttpBufferSize: 64 * 1024,
    },
  );

  io.use(async (socket, next) => {
    const token = sessionToken(socket.handshake.headers.cookie);
    const user = token ? await users.userForSession(token).catch(() => undefined) : undefined;
    if (!user) return next(new Error('UNAUTHENTICATED'));
    socket.data.user = user;
    next();
  });

  io.on('connection', (socket) => {
    const only = visibleSites(socket.data.user);
    socket.join(only ? only.map(siteRoom) : [ALL]);
    socket.emit('snapshot', {
      sites: live.listSites(only),
      live: live.snapshot(only),
      staleAfterMs: live.staleAfterMs,
      serverTime: Date.now(),
    });
  });

  const unsubscribe = live.subscribe({
    sites(changed) {
      for (const l of changed) io.to([ALL, siteRoom(l.siteId)]).emit('site', l);
    },
    event(e) {
      io.to([ALL, siteRoom(e.siteId)]).emit('deviceEvent', e);
    },
  });

  return {
    io,
    async close() {
      unsubscribe();
      io.disconnectSockets(true);
      // io.close() would also close the HTTP server, which the hub closes itself.
      io.engine.close();
    },
  };
}
