import { isoLocal, type Site } from '../../contract/index.js';
import type { AlertClock } from './clock.js';
import type { AlertLedger } from './ledger.js';
import { buildRequest, composeMessage, serviceError } from './messages.js';
import { type AlertRepo, type ContactRow, type OutboxRow, toAlert } from './repo.js';

export interface OutboxOptions {
  timeZone: string;
  publicUrl: () => string;
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  /** How often due messages are looked for when nothing kicked the outbox. */
  pollMs: number;
  concurrency: number;
}

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

const EVENT = {
  raised: 'alert.raised',
  repeat: 'alert.repeat',
  escalation: 'alert.escalated',
  cleared: 'alert.cleared',
};

/**
 * Sends the queued messages. The queue is a table (alert_outbox), so what was pending when the hub
 * stopped is sent after it starts again; each message is retried with backoff (1×, 4×, 16×… the
 * base, at most an hour apart) up to `maxAttempts`, and its state is shown per alert.
 */
export class AlertOutbox {
  readonly stats = { sent: 0, failed: 0, retried: 0 };
  private stopPoll: () => void = () => {};
  private readonly inFlight = new Map<number, AbortController>();
  private pumping: Promise<void> | null = null;
  private again = false;
  private stopped = true;

  constructor(
    private readonly repo: AlertRepo,
    private readonly ledger: AlertLedger,
    private readonly clock: AlertClock,
    private readonly lookup: {
      contact(id: number): ContactRow | undefined;
      site(id: string): Site | undefined;
    },
    private readonly opts: OutboxOptions,
    private readonly log: Log,
  ) {}

  start(): void {
    this.stopped = false;
    this.stopPoll = this.clock.every(this.opts.pollMs, () => this.kick());
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPoll();
    for (const a of this.inFlight.values()) a.abort();
    await this.pumping;
  }

  /** Looks for due messages now (after something was queued). */
  kick(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = this.pump()
      .catch((err) => this.log.error({ err }, 'alert outbox failed'))
      .finally(() => {
        this.pumping = null;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** Resolves once nothing is being sent (tests). */
  async idle(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private async pump(): Promise<void> {
    const due = (await this.repo.due(this.clock.now(), 50)).filter((r) => !this.inFlight.has(r.id));
    for (let i = 0; i < due.length && !this.stopped; i += this.opts.concurrency) {
      await Promise.all(due.slice(i, i + this.opts.concurrency).map((r) => this.send(r)));
    }
  }

  private async send(row: OutboxRow): Promise<void> {
    const alertRow = await this.repo.alert(row.alert_id);
    const contact = this.lookup.contact(row.contact_id);
    if (!alertRow || !contact || contact.enabled !== 1) {
      await this.repo.updateOutbox(row.id, {
        state: 'failed',
        last_error: 'contact point removed or disabled',
      });
      return;
    }
    const alert = toAlert(alertRow);
    const site = this.lookup.site(alert.siteId);
    const message = composeMessage(
      alert,
      site,
      row.reason as never,
      this.opts.timeZone,
      this.opts.publicUrl(),
    );
    const now = this.clock.now();
    const deliveryId = `alert-${row.id}`;
    const request = buildRequest(
      contact,
      message,
      {
        deliveryId,
        event: EVENT[row.reason as keyof typeof EVENT],
        payload: {
          id: deliveryId,
          type: EVENT[row.reason as keyof typeof EVENT],
          occurredAt: isoLocal(now, this.opts.timeZone),
          alert: {
            ...alert,
            since: isoLocal(alert.since, this.opts.timeZone),
            raisedAt: isoLocal(alert.raisedAt, this.opts.timeZone),
          },
          site: site
            ? { id: site.id, name: site.name, community: site.community, address: site.address }
            : { id: alert.siteId },
          title: message.title,
          text: message.text,
          link: message.link,
        },
      },
      Date.now(),
    );
    const abort = new AbortController();
    this.inFlight.set(row.id, abort);
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs);
    let error: string | null;
    let retry = true;
    try {
      const res = await fetch(request.url, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
        signal: abort.signal,
      });
      const text = await res.text();
      error = res.ok ? serviceError(contact.type, text) : `HTTP ${res.status}`;
      // A 4xx other than timeout/too-many says the receiver will never take it (bad signature, gone).
      retry = res.ok || res.status >= 500 || res.status === 408 || res.status === 429;
    } catch (err) {
      error = (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(row.id);
    }
    const attempts = row.attempts + 1;
    if (error === null) {
      this.stats.sent++;
      await this.repo.updateOutbox(row.id, {
        state: 'sent',
        attempts,
        sent_at: this.clock.now(),
        last_error: null,
      });
    } else if (retry && attempts < this.opts.maxAttempts && !this.stopped) {
      this.stats.retried++;
      const delay = Math.min(3_600_000, this.opts.retryBaseMs * 4 ** (attempts - 1));
      await this.repo.updateOutbox(row.id, {
        attempts,
        next_at: this.clock.now() + delay,
        last_error: error,
      });
    } else if (this.stopped && retry) {
      // Stopping: left pending, sent after the next start.
      await this.repo.updateOutbox(row.id, { last_error: error });
      return;
    } else {
      this.stats.failed++;
      await this.repo.updateOutbox(row.id, { state: 'failed', attempts, last_error: error });
      this.log.warn({ delivery: deliveryId, contact: contact.id, error }, 'alert notification failed');
    }
    await this.ledger.emitById(row.alert_id);
  }
}
