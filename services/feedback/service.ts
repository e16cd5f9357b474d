import { createHash } from 'node:crypto';
import {
  type FeedbackBody,
  type FeedbackItem,
  type FeedbackSummary,
  type FeedbackUpdate,
  HubError,
  localParts,
} from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { StateDb } from '../state/db.js';
import { abusiveWord } from './abuse.js';
import { FeedbackRepo } from './repo.js';

/**
 * Station feedback (issue 16): the rules between the routes and the table. A visitor is known
 * only by a random cookie (its hash is stored); one feedback per site per local day for it.
 */
export class FeedbackService {
  readonly repo: FeedbackRepo;
  constructor(
    db: StateDb,
    private readonly bus: EventBus,
    private readonly opts: { timeZone: string; now?: () => number },
  ) {
    this.repo = new FeedbackRepo(db);
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  async give(
    siteId: string,
    voterToken: string,
    body: FeedbackBody,
  ): Promise<{ siteId: string; date: string }> {
    const word = abusiveWord(body.comment);
    if (word) {
      throw new HubError('FEEDBACK_REFUSED', 'the comment has words we do not pass on', [
        { path: 'body.comment', message: 'abusive' },
      ]);
    }
    const now = this.now();
    const date = localParts(now, this.opts.timeZone).date;
    const item = await this.repo.add({
      site_id: siteId,
      local_date: date,
      voter: createHash('sha256').update(voterToken).digest('base64url'),
      rating: body.rating,
      tags: body.tags.join(','),
      comment: body.comment,
      created_at: now,
      reply: null,
      replied_at: null,
      replied_by: null,
      handled_at: null,
    });
    if (!item) throw new HubError('FEEDBACK_ALREADY_GIVEN', 'feedback for this station was given today');
    this.bus.emit('feedback.changed', { item });
    return { siteId, date };
  }

  list(sites: readonly string[] | undefined, q: { from?: number; to?: number; limit: number }) {
    const now = this.now();
    return this.repo.list(sites, q.from ?? now - 30 * 86_400_000, q.to ?? now + 1, q.limit);
  }

  async update(
    id: number,
    mayEdit: (siteId: string) => boolean,
    change: FeedbackUpdate,
    userId: number,
  ): Promise<FeedbackItem> {
    const before = await this.repo.get(id);
    // Another site's feedback answers as if it did not exist.
    if (!before || !mayEdit(before.siteId)) throw new HubError('FEEDBACK_NOT_FOUND', `no feedback ${id}`);
    const now = this.now();
    const item = await this.repo.update(
      id,
      {
        ...(change.reply !== undefined && { reply: change.reply, repliedBy: userId }),
        ...(change.handled !== undefined && { handledAt: change.handled ? now : null }),
      },
      now,
    );
    if (!item) throw new HubError('FEEDBACK_NOT_FOUND', `no feedback ${id}`);
    this.bus.emit('feedback.changed', { item });
    return item;
  }

  summaries(sites: readonly string[] | undefined, from?: number, to?: number): Promise<FeedbackSummary[]> {
    const now = this.now();
    return this.repo.summaries(sites, from ?? now - 30 * 86_400_000, to ?? now + 1);
  }
}
