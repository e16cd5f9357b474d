import type { Part } from '../parts.js';
import type { OutboxRepo, OutboxRow } from './repo.js';

/** What one attempt came to: delivered, worth another try, or refused for good (a 4xx). */
export type Attempt = { ok: true } | { ok: false; retry: boolean; error: string };

/** Where one channel's notifications go: a signed POST for booking webhooks. */
export interface Channel {
  readonly name: string;
  deliver(row: { id: string; event: string; body: string }, signal: AbortSignal): Promise<Attempt>;
}

export interface OutboxOptions {
  maxAttempts: number;
  /** First retry delay; each further one is four times longer, at most an hour. */
  retryBaseMs: number;
  timeoutMs?: number;
  /** How often due deliveries are looked for when nothing kicked the outbox (retries, other hubs' rows). */
  pollMs?: number;
  concurrency?: number;
  /** Finished deliveries are listed this long, then deleted. */
  keepMs?: number;
}

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const HOUR = 3_600_000;

/**
 * A persistent outbox: a notification is a row before anything is sent, so one queued when the
 * hub stops (or crashes) is sent after it starts again. Retried with backoff (1×, 4×, 16×… the
 * base, ±20 % jitter so a receiver coming back is not hit by every retry at once); the delivery id
 * is the row's key, the same on every attempt and after a restart, so receivers deduplicate by it.
 * A row is claimed with a lease before it is sent: hubs sharing PostgreSQL state never send it
 * twice at once, and one taken by a hub that died is sent by another after the lease.
 */
export class Outbox implements Part {
  readonly name: string;
  readonly stats = { delivered: 0, failed: 0, retried: 0 };
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private again = false;
  private running = false;
  private readonly adding = new Set<Promise<unknown>>();
  private readonly aborts = new Set<AbortController>();

  constructor(
    private readonly repo: OutboxRepo,
    private readonly channel: Channel,
    private readonly opts: OutboxOptions,
    private readonly log: Log,
  ) {
    this.name = `outbox ${channel.name}`;
  }

  async start(): Promise<void> {
    this.running = true;
    await this.repo.prune(Date.now() - (this.opts.keepMs ?? 30 * 24 * HOUR));
    this.timer = setInterval(() => this.kick(), this.opts.pollMs ?? 5000);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    await Promise.allSettled(this.adding);
    for (const a of this.aborts) a.abort();
    await this.pumping;
  }

  /** Queues a notification (durable when it resolves) and sends it soon; the same id twice is one. */
  add(id: string, event: string, body: string): Promise<void> {
    const p = this.repo
      .add({ id, channel: this.channel.name, event, body }, Date.now())
      .then(() => this.kick())
      .finally(() => this.adding.delete(p));
    this.adding.add(p);
    return p;
  }

  kick(): void {
    if (!this.running) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err) => this.log.error({ err, channel: this.channel.name }, 'outbox failed'))
      .finally(() => {
        this.pumping = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once nothing is queued, being sent or waiting for a retry (tests). */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.allSettled(this.adding);
      await this.pumping;
      if (!this.running || (await this.repo.pendingCount(this.channel.name)) === 0) return;
      await new Promise((r) => setTimeout(r, 20));
      this.kick();
    }
  }

  private async pump(): Promise<void> {
    const concurrency = this.opts.concurrency ?? 4;
    for (;;) {
      const due = await this.repo.due(this.channel.name, Date.now(), 50);
      if (due.length === 0 || !this.running) return;
      for (let i = 0; i < due.length && this.running; i += concurrency) {
        await Promise.all(due.slice(i, i + concurrency).map((r) => this.send(r)));
      }
      if (due.length < 50) return;
    }
  }

  private async send(row: OutboxRow): Promise<void> {
    const timeoutMs = this.opts.timeoutMs ?? 5000;
    if (row.body === null) return;
    if (!(await this.repo.claim(row, Date.now() + timeoutMs + 30_000))) return;
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let result: Attempt;
    try {
      result = await this.channel.deliver({ id: row.id, event: row.event, body: row.body }, abort.signal);
    } catch (err) {
      // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a timeout) is its cause.
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message;
      result = { ok: false, retry: true, error: `${(err as Error).message}${why ? ` (${why})` : ''}` };
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
    const attempts = row.attempts + 1;
    if (result.ok) {
      this.stats.delivered++;
      await this.repo.sent(row.id, attempts, Date.now());
    } else if (!this.running && result.retry) {
      // Stopping cut it off: due again at once after the next start, the attempt not counted.
      await this.repo.retry(row.id, row.attempts, Date.now(), result.error);
    } else if (result.retry && attempts < this.opts.maxAttempts) {
      this.stats.retried++;
      // Whole milliseconds: next_at is a bigint on PostgreSQL.
      const delay = Math.round(
        Math.min(HOUR, this.opts.retryBaseMs * 4 ** (attempts - 1)) * (0.8 + Math.random() * 0.4),
      );
      await this.repo.retry(row.id, attempts, Date.now() + delay, result.error);
    } else {
      this.stats.failed++;
      await this.repo.failed(row.id, attempts, result.error);
      this.log.warn(
        { delivery: row.id, event: row.event, attempts, error: result.error },
        'notification delivery failed',
      );
    }
  }
}
