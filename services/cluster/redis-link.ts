import { Redis } from 'ioredis';

/** A time Redis could not be reached, as /readyz reports it; `to` is null while it lasts. */
export interface Outage {
  part: 'redis';
  from: number;
  to: number | null;
  message: string;
}

/** Outages kept for /readyz: enough to see a flapping link, never a growing list. */
const KEPT_OUTAGES = 20;

/**
 * The hub's connections to Redis and what their health has been. ioredis reconnects by itself
 * and queues commands meanwhile, so a Redis restart costs a pause, not a restart of the hub; what
 * was down and for how long stays visible at /readyz after it came back.
 */
export class RedisLink {
  private readonly conns: Redis[] = [];
  private readonly down = new Set<Redis>();
  readonly outages: Outage[] = [];

  constructor(
    private readonly url: string,
    private readonly onChange: (up: boolean, message: string) => void = () => {},
  ) {}

  /**
   * A new connection; subscribing ones may only subscribe (Redis' rule), so each use gets its own.
   * No CLIENT SETNAME: a hub once died at start with "Connection in subscriber mode" under load.
   */
  connect(keyPrefix?: string): Redis {
    const conn = new Redis(this.url, {
      keyPrefix,
      // Commands wait for the reconnect instead of failing after 20 tries; aedes and the relay
      // then carry on where they were.
      maxRetriesPerRequest: null,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    conn.on('error', (err) => this.mark(conn, false, err.message));
    conn.on('close', () => this.mark(conn, false, 'connection closed'));
    conn.on('ready', () => this.mark(conn, true, 'ready'));
    this.conns.push(conn);
    return conn;
  }

  get ready(): boolean {
    return this.down.size === 0 && this.conns.every((c) => c.status === 'ready');
  }

  async close(): Promise<void> {
    await Promise.all(this.conns.map((c) => c.quit().catch(() => c.disconnect())));
  }

  private mark(conn: Redis, up: boolean, message: string): void {
    if (up === !this.down.has(conn)) return;
    if (up) this.down.delete(conn);
    else this.down.add(conn);
    const open = this.outages.at(-1);
    if (!up && this.down.size === 1) {
      this.outages.push({ part: 'redis', from: Date.now(), to: null, message });
      if (this.outages.length > KEPT_OUTAGES) this.outages.shift();
      this.onChange(false, message);
    } else if (up && this.down.size === 0 && open && open.to === null) {
      open.to = Date.now();
      this.onChange(true, message);
    }
  }
}
