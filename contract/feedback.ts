import { z } from 'zod';
import { siteId } from './device/index.js';

/**
 * Feedback on a station from a passer-by (issue 16): a rating, tags and a short comment, no
 * account and no phone number. Comments go to the site's managers and admins only (they may name
 * people); planners get counts and averages.
 */
export const feedbackTags = ['clean', 'water', 'seats', 'staff', 'opening_hours', 'safety'] as const;
export const feedbackTag = z.enum(feedbackTags);
/** A comment longer than this is refused (VALIDATION on body.comment), not cut. */
export const FEEDBACK_COMMENT_MAX = 280;
/** A rating at or below this is a complaint: it waits for a manager to mark it handled. */
export const COMPLAINT_MAX_RATING = 2;

export const feedbackBody = z.strictObject({
  rating: z.number().int().min(1).max(5),
  tags: z
    .array(feedbackTag)
    .max(feedbackTags.length)
    .default([])
    .refine((t) => new Set(t).size === t.length, 'each tag once'),
  comment: z.string().trim().max(FEEDBACK_COMMENT_MAX).default(''),
});

/** What the visitor gets back: no id to probe others' feedback with. */
export const feedbackAccepted = z.object({ siteId, date: z.string() });

export const feedbackItem = z.object({
  id: z.number().int(),
  siteId,
  rating: z.number().int(),
  tags: z.array(feedbackTag),
  comment: z.string(),
  complaint: z.boolean(),
  createdAt: z.number().int(),
  reply: z.string().nullable(),
  repliedAt: z.number().int().nullable(),
  handledAt: z.number().int().nullable(),
});

export const feedbackUpdateBody = z
  .strictObject({
    reply: z.string().trim().min(1).max(500).optional(),
    handled: z.boolean().optional(),
  })
  .refine((b) => b.reply !== undefined || b.handled !== undefined, 'give reply or handled');

export const feedbackListQuery = z.strictObject({
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Counts and averages per site: what planners see, never a comment. */
export const feedbackSummary = z.object({
  siteId,
  count: z.number().int(),
  average: z.number().nullable(),
  complaints: z.number().int(),
  complaintsUnhandled: z.number().int(),
  byTag: z.record(z.string(), z.number().int()),
});

export type FeedbackTag = z.infer<typeof feedbackTag>;
export type FeedbackBody = z.infer<typeof feedbackBody>;
export type FeedbackItem = z.infer<typeof feedbackItem>;
export type FeedbackUpdate = z.infer<typeof feedbackUpdateBody>;
export type FeedbackSummary = z.infer<typeof feedbackSummary>;
