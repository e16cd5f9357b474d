import { z } from 'zod';

/** One outgoing notification as admins see it: booking webhooks and alert messages alike. */
export const outboxDelivery = z.object({
  /** The delivery id the receiver sees (X-Yizhan-Delivery), the same on every attempt. */
  id: z.string(),
  /** 'booking-webhook', or 'alert-<contact type>' (alert-webhook, alert-wecom, …). */
  channel: z.string(),
  event: z.string(),
  state: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number().int(),
  /** When the next attempt is due (pending only). */
  nextAt: z.number().int().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.number().int(),
  sentAt: z.number().int().nullable(),
});
export const outboxQuery = z.object({
  state: z.enum(['pending', 'sent', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const outboxReply = z.object({
  deliveries: z.array(outboxDelivery),
  counts: z.object({ pending: z.number().int(), failed: z.number().int() }),
});
export type OutboxDelivery = z.infer<typeof outboxDelivery>;
export type OutboxReply = z.infer<typeof outboxReply>;
