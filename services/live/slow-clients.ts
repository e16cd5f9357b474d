import type { Server } from 'socket.io';

/** What engine.io keeps per connection; not in its public types. */
interface EngineConn {
  writeBuffer?: unknown[];
  transport?: { socket?: { bufferedAmount?: number } };
}

/**
 * A dashboard on a phone that stops reading (tunnel, sleep) makes its socket's queue grow with
 * every update. socket.io never blocks on it, but memory would grow without end: a client whose
 * queue passes the limits is dropped, and counted. It reconnects and gets a fresh snapshot.
 */
export function dropSlowClients(
  io: Server,
  limits: { maxQueuedPackets: number; maxBufferedBytes: number; everyMs?: number },
  dropped: () => void,
): () => void {
  const timer = setInterval(() => {
    for (const socket of io.of('/').sockets.values()) {
      const conn = socket.conn as unknown as EngineConn;
      const queued = conn.writeBuffer?.length ?? 0;
      const bytes = conn.transport?.socket?.bufferedAmount ?? 0;
      if (queued > limits.maxQueuedPackets || bytes > limits.maxBufferedBytes) {
        socket.disconnect(true);
        dropped();
      }
    }
  }, limits.everyMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
