import { createHmac, timingSafeEqual } from 'node:crypto';
import { type Attempt, type Channel, Outbox } from '../outbox/outbox.js';
import type { OutboxRepo } from '../outbox/repo.js';

/**
 * Outgoing notifications for a district's SMS or WeChat reminder service. Each booking change is
 * POSTed as JSON, signed, and retried with backoff through the persistent outbox (services/outbox/),
 * so a notification still retrying when the hub restarts is sent after it; the booking request that
 * caused it never waits for the receiver.
 *
 * Headers:
 * - `X-Yizhan-Event`: the event type
 * - `X-Yizhan-Delivery`: one id per notification, the same on every retry and after a restart
 *   (receivers dedupe by it); made from the booking and its change, so a change noticed twice
 *   (two hubs of a cluster) is still one notification
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
  error(obj: object, msg: string): void;
}

/** The signed POST of one booking notification. */
class WebhookChannel implements Channel {
  readonly name = 'booking-webhook';
  constructor(
    private readonly url: string,
    private readonly secret: string,
  ) {}

  async deliver(d: { id: string; event: string; body: string }, signal: AbortSignal): Promise<Attempt> {
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-yizhan-event': d.event,
        'x-yizhan-delivery': d.id,
        'x-yizhan-timestamp': String(timestamp),
        'x-yizhan-signature': signBody(this.secret, timestamp, d.body),
      },
      body: d.body,
      signal,
    });
    await res.body?.cancel();
    if (res.ok) return { ok: true };
    // A 4xx other than timeout/too-many says the receiver will never take it (bad signature, gone).
    const retry = res.status >= 500 || res.status === 408 || res.status === 429;
    return { ok: false, retry, error: `HTTP ${res.status}` };
  }
}

/** Booking notifications through the outbox; without WEBHOOK_URL nothing is queued. */
export class WebhookNotifier {
  readonly outbox: Outbox | undefined;

  constructor(repo: OutboxRepo, opts: WebhookOptions, log: Log) {
    this.outbox =
      opts.url && opts.secret
        ? new Outbox(
            repo,
            new WebhookChannel(opts.url, opts.secret),
            {
              maxAttempts: opts.maxAttempts,
              retryBaseMs: opts.retryBaseMs,
              timeoutMs: opts.timeoutMs,
              concurrency: opts.concurrency,
            },
            log,
          )
        : undefined;
  }

  get enabled(): boolean {
    return this.outbox !== undefined;
  }

  get stats() {
    return this.outbox?.stats ?? { delivered: 0, failed: 0, retried: 0 };
  }

  /**
   * Queues a notification; durable when it resolves. `change` names the booking's change (its id
   * and updated_at): the delivery id is made from it.
   */
  async send(
    type: WebhookEvent,
    payload: WebhookPayload,
    occurredAt: string,
    change: { bookingId: number; at: number },
  ): Promise<void> {
    if (!this.outbox) return;
    const id = `booking-${change.bookingId}-${type}-${change.at}`;
    const body: WebhookBody = { id, type, occurredAt, ...payload };
    await this.outbox.add(id, type, JSON.stringify(body));
  }

  /** Resolves when nothing is queued, in flight or waiting to be retried (tests). */
  async idle(): Promise<void> {
    await this.outbox?.idle();
  }

  async start(): Promise<void> {
    await this.outbox?.start();
  }

  async stop(): Promise<void> {
    await this.outbox?.stop();
  }
}
