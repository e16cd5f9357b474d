import fs from 'node:fs/promises';
import net from 'node:net';
import { z } from 'zod';
import type { Part } from '../parts.js';

/**
 * The hub's local control socket (`hub.sock` in HUB_DATA_DIR): how `npm run backup` and `npm run
 * admin` reach a running hub, which holds DuckDB's file lock and the stores' only consistent view.
 * A Unix socket, mode 0600, so whoever may use it could read the data directory anyway: that is its
 * authentication, and no token or admin password has to be handed to a cron job. One JSON line in,
 * one JSON line out, per connection.
 */
export const controlRequest = z.discriminatedUnion('op', [
  z.object({ op: z.literal('backup'), dir: z.string().min(1) }),
  z.object({ op: z.literal('reset-password'), username: z.string().min(1) }),
]);
export type ControlRequest = z.infer<typeof controlRequest>;

export type ControlReply = { ok: true; result: unknown } | { ok: false; code: string; message: string };

export type ControlHandler = (request: ControlRequest) => Promise<unknown>;

/** Another hub answers on the socket: two hubs on one data directory would corrupt it. */
export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
}

export function controlSocket(
  file: string,
  handle: ControlHandler,
  log: { warn(obj: object, msg: string): void },
): Part {
  let server: net.Server | undefined;
  const serve = (conn: net.Socket) => {
    let buf = '';
    conn.setEncoding('utf8');
    conn.on('error', () => {});
    conn.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > 64 * 1024) return conn.destroy();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      conn.removeAllListeners('data');
      void answer(buf.slice(0, nl)).then((reply) => conn.end(`${JSON.stringify(reply)}\n`));
    });
  };
  const answer = async (line: string): Promise<ControlReply> => {
    let request: ControlRequest;
    try {
      request = controlRequest.parse(JSON.parse(line));
    } catch {
      return { ok: false, code: 'VALIDATION', message: 'not a control request' };
    }
    try {
      return { ok: true, result: await handle(request) };
    } catch (err) {
      const e = err as { code?: unknown; message?: string };
      return {
        ok: false,
        code: typeof e.code === 'string' ? e.code : 'INTERNAL',
        message: e.message ?? String(err),
      };
    }
  };
  return {
    name: 'control socket',
    async start() {
      server = net.createServer(serve);
      try {
        await listen(server, file).catch(async (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EADDRINUSE') throw err;
          // Left by a hub that did not stop cleanly, unless a hub still answers on it.
          if (await answers(file)) {
            throw new DataDirInUseError(`another hub is running on this data directory (${file} answers)`);
          }
          await fs.rm(file, { force: true });
          await listen(server!, file);
        });
        await fs.chmod(file, 0o600);
      } catch (err) {
        if (err instanceof DataDirInUseError) throw err;
        // A path past the socket limit (108 bytes on Linux), a file system without sockets: the hub
        // runs on; only `npm run backup`/`admin` cannot reach it (scheduled backups still run).
        server = undefined;
        log.warn(
          { err, file },
          'control socket unavailable: npm run backup and npm run admin cannot reach this hub',
        );
      }
    },
    async stop() {
      if (!server) return;
      const s = server;
      server = undefined;
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
  };
}

function listen(server: net.Server, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function answers(file: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect(file);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Sends one request to the hub on `file`. Undefined when no hub listens there (no socket, or a
 * stale one): the caller may then work on the files itself.
 */
export function askHub(file: string, request: ControlRequest): Promise<ControlReply | undefined> {
  return new Promise((resolve, reject) => {
    const c = net.connect(file);
    let buf = '';
    let connected = false;
    c.setEncoding('utf8');
    c.once('connect', () => {
      connected = true;
      c.write(`${JSON.stringify(request)}\n`);
    });
    c.on('data', (d: string) => (buf += d));
    c.once('end', () => {
      try {
        resolve(JSON.parse(buf) as ControlReply);
      } catch {
        reject(new Error(`the hub on ${file} gave no answer`));
      }
    });
    c.once('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(undefined);
      else reject(err);
    });
  });
}
