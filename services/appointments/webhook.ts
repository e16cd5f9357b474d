import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * Outgoing notifications for a district's SMS or WeChat reminder service. Each booking change is
 * POSTed as JSON, signed, and retried with backoff; the booking request that caused it never waits.
 *
 * Headers:
 * - `X-Yizhan-Event`: the event type
 * - `X-Yizhan-Delivery`: one id per notification, the same on every retry (receivers dedupe by it)
 * - `X-Yizhan-Timestamp`: unix seconds when this attempt was signed
 * - `X-Yizhan-Signature`: `sha256=` + hex HMAC-SHA256 of `${timestamp}.${body}` with WEBHOOK_SECRET;
 *   receivers reject a timestamp more than 5 minutes away from their clock, which stops replays.
 *
 * The body carries only what a reminder needs: the resident's name and number, the time, the site
 * and the confirmation code (to cancel by reply). Not the screening, which would say something
 * about the resident's health.
 */

export type WebhookEvent =
  | 'booking.created'
  | 'booking.cancelled'
  | 'booking.rescheduled'
  | 'session.cancelled';

export interface WebhookPayload {
  booking: {
    code: string;
    name: string;
    mobile: string;
    /** ISO 8601 in the hub's zone, e.g. 2025-06-03T09:30:00+08:00 */
    slotStart: string;
    slotEnd: string;
    previousSlotStart?: string;
  };
  site: { id: string; name: { zh: string; en: string }; address: string };
  reason?: string;
}

export interface WebhookBody extends WebhookPayload {
  id: string;
  type: WebhookEvent;
  occurredAt: string;
}

export const SIGNATURE_TOLERANCE_S = 300;

export function signBody(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** What a receiver does; used by the tests and shown in the README. */
export function verifySignature(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: string,
  nowS = Math.floor(Date.now() / 1000),
): boolean {
  const ts = Number(headers.timestamp);
  if (!Number.isInteger(ts) || Math.abs(nowS - ts) > SIGNATURE_TOLERANCE_S) return false;
  const expected = Buffer.from(signBody(secret, ts, body));
  const given = Buffer.from(headers.signature ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

interface Delivery {
  id: string;
  type: WebhookEvent;
  body: string;
  attempts: number;
}

export interface WebhookOptions {
  url?: string;
  secret?: string;
  maxAttempts: number;
  retryBaseMs: number;
  timeoutMs?: number;
  /** Deliveries in flight at once; a cancelled session can notify many residents together. */
  concurrency?: number;
}

interface Log {
  warn(obj: object, msg: string): void;
}

export class WebhookNotifier {
  readonly stats = { delivered: 0, failed: 0, retried: 0 };
  private readonly queue: Delivery[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly aborts = new Set<AbortController>();
  private inFlight = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  log: Log = { warn: () => {} };

  constructor(private readonly opts: WebhookOptions) {}

  get enabled(): boolean {
    return Boolean(this.opts.url && this.opts.secret);
  }

  /** Queues a notification and returns at once. */
  send(type: WebhookEvent, payload: WebhookPayload, occurredAt: string): void {
    if (!this.enabled || this.closed) return;
    const id = randomUUID();
    const body: WebhookBody = { id, type, occurredAt, ...payload };
    this.queue.push({ id, type, body: JSON.stringify(body), attempts: 0 });
    this.pump();
  }

  /** Resolves when nothing is queued, in flight or waiting to be retried (tests). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const a of this.aborts) a.abort();
    this.queue.length = 0;
    this.checkIdle();
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0 && this.timers.size === 0;
  }

  private checkIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < (this.opts.concurrency ?? 4) && this.queue.length > 0) {
      const d = this.queue.shift()!;
      this.inFlight++;
      void this.attempt(d).finally(() => {
        this.inFlight--;
        this.pump();
        this.checkIdle();
      });
    }
  }

  private async attempt(d: Delivery): Promise<void> {
    d.attempts++;
    const abort = new AbortController();
    this.aborts.add(abort);
    const timer = setTimeout(() => abort.abort(), this.opts.timeoutMs ?? 5000);
    let outcome: 'ok' | 'retry' | 'give-up';
    let detail: string;
    try {
      const timestamp = Math.floor(Date.now() / 1000);
      const res = await fetch(this.opts.url!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-yizhan-event': d.type,
          'x-yizhan-delivery': d.id,
          'x-yizhan-timestamp': String(timestamp),
          'x-yizhan-signature': signBody(this.opts.secret!, timestamp, d.body),
        },
        body: d.body,
        signal: abort.signal,
      });
      await res.body?.cancel();
      detail = `HTTP ${res.status}`;
      // A 4xx other than timeout/too-many says the receiver will never take it (bad signature, gone).
      outcome = res.ok
        ? 'ok'
        : res.status >= 500 || res.status === 408 || res.status === 429
          ? 'retry'
          : 'give-up';
    } catch (err) {
      detail = (err as Error).message;
      outcome = 'retry';
    } finally {
      clearTimeout(timer);
      this.aborts.delete(abort);
    }
    if (outcome === 'ok') {
      this.stats.delivered++;
      return;
    }
    if (outcome === 'retry' && d.attempts < this.opts.maxAttempts && !this.closed) {
      this.stats.retried++;
      // 1×, 4×, 16×… the base, with ±20 % jitter so retries after an outage do not arrive together.
      const delay = this.opts.retryBaseMs * 4 ** (d.attempts - 1) * (0.8 + Math.random() * 0.4);
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.queue.push(d);
        this.pump();
      }, delay);
      t.unref();
      this.timers.add(t);
      return;
    }
    this.stats.failed++;
    this.log.warn({ delivery: d.id, event: d.type, attempts: d.attempts, detail }, 'webhook delivery failed');
  }
}
