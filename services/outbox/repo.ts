import type { Selectable } from 'kysely';
import type { OutboxDelivery as DeliveryView } from '../../contract/index.js';
import type { StateDb } from '../state/db.js';
import type { Database } from '../state/tables.js';

export type OutboxRow = Selectable<Database['outbox']>;

/** Every query of the outbox; it also reads alert_outbox, for the admins' one list of deliveries. */
export class OutboxRepo {
  constructor(private readonly db: StateDb) {}

  /** Queues a delivery; one with the same id already queued (or sent) stays as it is. */
  async add(row: { id: string; channel: string; event: string; body: string }, at: number): Promise<boolean> {
    const r = await this.db
      .insertInto('outbox')
      .values({
        ...row,
        state: 'pending',
        attempts: 0,
        next_at: at,
        last_error: null,
        created_at: at,
        sent_at: null,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  async due(channel: string, now: number, limit: number): Promise<OutboxRow[]> {
    return this.db
      .selectFrom('outbox')
      .selectAll()
      .where('channel', '=', channel)
      .where('state', '=', 'pending')
      .where('next_at', '<=', now)
      .orderBy('next_at')
      .limit(limit)
      .execute();
  }

  /**
   * Takes a due row for `leaseMs`: true when this caller got it. Hubs sharing PostgreSQL state
   * each see the row due; only the one whose update still finds the old next_at sends it.
   */
  async claim(row: OutboxRow, until: number): Promise<boolean> {
    const r = await this.db
      .updateTable('outbox')
      .set({ next_at: until })
      .where('id', '=', row.id)
      .where('state', '=', 'pending')
      .where('next_at', '=', row.next_at)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async sent(id: string, attempts: number, at: number): Promise<void> {
    await this.db
      .updateTable('outbox')
      .set({ state: 'sent', attempts, sent_at: at, last_error: null, body: null })
      .where('id', '=', id)
      .execute();
  }

  async retry(id: string, attempts: number, nextAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('outbox')
      .set({ attempts, next_at: nextAt, last_error: error })
      .where('id', '=', id)
      .execute();
  }

  async failed(id: string, attempts: number, error: string): Promise<void> {
    await this.db
      .updateTable('outbox')
      .set({ state: 'failed', attempts, last_error: error, body: null })
      .where('id', '=', id)
      .execute();
  }

  /** Delivered and failed rows older than `before` go: the list shows recent history only. */
  async prune(before: number): Promise<void> {
    await this.db
      .deleteFrom('outbox')
      .where('state', '<>', 'pending')
      .where('created_at', '<', before)
      .execute();
  }

  /** Pending and failed deliveries of every channel, alert messages included (the admins' badge). */
  async counts(): Promise<{ pending: number; failed: number }> {
    const out = { pending: 0, failed: 0 };
    for (const table of ['outbox', 'alert_outbox'] as const) {
      const rows = await this.db
        .selectFrom(table)
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('state', 'in', ['pending', 'failed'])
        .groupBy('state')
        .execute();
      for (const r of rows) out[r.state as 'pending' | 'failed'] += Number(r.n);
    }
    return out;
  }

  async pendingCount(channel: string): Promise<number> {
    const r = await this.db
      .selectFrom('outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('channel', '=', channel)
      .where('state', '=', 'pending')
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Newest first, booking webhooks and alert messages together; `state` filters. */
  async list(opts: { state?: DeliveryView['state']; limit: number }): Promise<DeliveryView[]> {
    let q = this.db
      .selectFrom('outbox')
      .select([
        'id',
        'channel',
        'event',
        'state',
        'attempts',
        'next_at',
        'last_error',
        'created_at',
        'sent_at',
      ]);
    if (opts.state) q = q.where('state', '=', opts.state);
    const own = await q.orderBy('created_at', 'desc').limit(opts.limit).execute();
    let a = this.db
      .selectFrom('alert_outbox')
      .leftJoin('alert_contacts', 'alert_contacts.id', 'alert_outbox.contact_id')
      .select([
        'alert_outbox.id',
        'alert_contacts.type as contact_type',
        'alert_outbox.reason',
        'alert_outbox.state',
        'alert_outbox.attempts',
        'alert_outbox.next_at',
        'alert_outbox.last_error',
        'alert_outbox.created_at',
        'alert_outbox.sent_at',
      ]);
    if (opts.state) a = a.where('alert_outbox.state', '=', opts.state);
    const alerts = await a.orderBy('alert_outbox.created_at', 'desc').limit(opts.limit).execute();
    const views: DeliveryView[] = [
      ...own.map((r) => ({
        id: r.id,
        channel: r.channel,
        event: r.event,
        state: r.state as DeliveryView['state'],
        attempts: r.attempts,
        nextAt: r.state === 'pending' ? Number(r.next_at) : null,
        lastError: r.last_error,
        createdAt: Number(r.created_at),
        sentAt: r.sent_at === null ? null : Number(r.sent_at),
      })),
      ...alerts.map((r) => ({
        // The id the receiver saw (X-Yizhan-Delivery), services/alerts/outbox.ts.
        id: `alert-${r.id}`,
        channel: `alert-${r.contact_type ?? 'removed'}`,
        event: `alert.${r.reason}`,
        state: r.state as DeliveryView['state'],
        attempts: r.attempts,
        nextAt: r.state === 'pending' ? Number(r.next_at) : null,
        lastError: r.last_error,
        createdAt: Number(r.created_at),
        sentAt: r.sent_at === null ? null : Number(r.sent_at),
      })),
    ];
    return views.sort((x, y) => y.createdAt - x.createdAt).slice(0, opts.limit);
  }
}
