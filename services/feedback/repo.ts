import {
  COMPLAINT_MAX_RATING,
  type FeedbackItem,
  type FeedbackSummary,
  type FeedbackTag,
} from '../../contract/index.js';
import type { StateDb } from '../state/db.js';
import type { Database } from '../state/tables.js';

type Row = Database['station_feedback'] & { id: number };

export function toFeedbackItem(r: Row): FeedbackItem {
  return {
    id: r.id,
    siteId: r.site_id,
    rating: r.rating,
    tags: r.tags === '' ? [] : (r.tags.split(',') as FeedbackTag[]),
    comment: r.comment,
    complaint: r.rating <= COMPLAINT_MAX_RATING,
    createdAt: Number(r.created_at),
    reply: r.reply,
    repliedAt: r.replied_at === null ? null : Number(r.replied_at),
    handledAt: r.handled_at === null ? null : Number(r.handled_at),
  };
}

/** Station feedback in the state store. The one-a-day rule is the table's unique index. */
export class FeedbackRepo {
  constructor(private readonly db: StateDb) {}

  /** Inserts, or returns undefined when this voter already gave feedback on this site that day. */
  async add(row: Omit<Database['station_feedback'], 'id'>): Promise<FeedbackItem | undefined> {
    const inserted = await this.db
      .insertInto('station_feedback')
      .values(row)
      .onConflict((oc) => oc.columns(['site_id', 'local_date', 'voter']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return inserted ? toFeedbackItem(inserted as Row) : undefined;
  }

  async get(id: number): Promise<FeedbackItem | undefined> {
    const r = await this.db
      .selectFrom('station_feedback')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return r ? toFeedbackItem(r as Row) : undefined;
  }

  async list(
    sites: readonly string[] | undefined,
    from: number,
    to: number,
    limit: number,
  ): Promise<FeedbackItem[]> {
    if (sites && sites.length === 0) return [];
    let q = this.db
      .selectFrom('station_feedback')
      .selectAll()
      .where('created_at', '>=', from)
      .where('created_at', '<', to);
    if (sites) q = q.where('site_id', 'in', sites);
    const rows = await q.orderBy('created_at', 'desc').limit(limit).execute();
    return rows.map((r) => toFeedbackItem(r as Row));
  }

  async update(
    id: number,
    change: { reply?: string; repliedBy?: number; handledAt?: number | null },
    now: number,
  ) {
    await this.db
      .updateTable('station_feedback')
      .set({
        ...(change.reply !== undefined && {
          reply: change.reply,
          replied_at: now,
          replied_by: change.repliedBy ?? null,
        }),
        ...(change.handledAt !== undefined && { handled_at: change.handledAt }),
      })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  /** Ratings and complaint times per site over [from, to), for the watchlist; no comment. */
  async ratings(from: number, to: number) {
    return this.db
      .selectFrom('station_feedback')
      .select(['site_id', 'rating', 'created_at', 'handled_at'])
      .where('created_at', '>=', from)
      .where('created_at', '<', to)
      .execute();
  }

  /** Counts and averages per site over [from, to): no comment leaves this query. */
  async summaries(
    sites: readonly string[] | undefined,
    from: number,
    to: number,
  ): Promise<FeedbackSummary[]> {
    let q = this.db
      .selectFrom('station_feedback')
      .select(['site_id', 'rating', 'tags', 'handled_at'])
      .where('created_at', '>=', from)
      .where('created_at', '<', to);
    if (sites) q = q.where('site_id', 'in', sites.length > 0 ? sites : ['']);
    const bySite = new Map<string, FeedbackSummary & { sum: number }>();
    for (const r of await q.execute()) {
      let s = bySite.get(r.site_id);
      if (!s) {
        s = {
          siteId: r.site_id,
          count: 0,
          average: null,
          complaints: 0,
          complaintsUnhandled: 0,
          byTag: {},
          sum: 0,
        };
        bySite.set(r.site_id, s);
      }
      s.count += 1;
      s.sum += r.rating;
      if (r.rating <= COMPLAINT_MAX_RATING) {
        s.complaints += 1;
        if (r.handled_at === null) s.complaintsUnhandled += 1;
      }
      for (const t of r.tags ? r.tags.split(',') : []) s.byTag[t] = (s.byTag[t] ?? 0) + 1;
    }
    return [...bySite.values()]
      .map(({ sum, ...s }) => ({
        ...s,
        average: s.count > 0 ? Math.round((sum / s.count) * 100) / 100 : null,
      }))
      .sort((a, b) => a.siteId.localeCompare(b.siteId));
  }
}
