import { z } from 'zod';
import { deviceId, deviceKind, metricName, siteId } from './device/index.js';
import { ingestErrorCodes } from './errors.js';

/**
 * Alerts (issue 11): rules, alerts and their lifecycle, silences, contact points and the API
 * bodies. One place for the server's checks and the dashboard's types.
 *
 * A rule raises when its condition has held for `forMs` and clears once the opposite condition
 * (the clear level, on the far side of the raise level: hysteresis) has held for `clearForMs`.
 */

export const severity = z.enum(['critical', 'warning', 'info']);
export const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

/** active → acknowledged → cleared (the condition went away) or resolved (by hand, with a note). */
export const alertState = z.enum(['active', 'acknowledged', 'cleared', 'resolved']);
export const OPEN_STATES = ['active', 'acknowledged'] as const;

const MAX_MS = 7 * 86_400_000;
const durationMs = z.number().int().min(0, 'must not be negative').max(MAX_MS, 'at most 7 days');

/** When a rule applies: always, only while the hut is open, or only while it is closed. */
export const ruleWhen = z.enum(['always', 'open', 'closed']);

const common = {
  enabled: z.boolean(),
  severity,
  /** Recorded but not sent outside opening hours (no one is there to act on it until morning). */
  muteWhenClosed: z.boolean(),
};

/** A device that sent its Last Will or went silent for longer than `missedIntervals` × its interval. */
export const offlineRule = z.strictObject({
  type: z.literal('offline'),
  ...common,
  intervalMs: durationMs.min(1000, 'at least 1 s'),
  missedIntervals: z.number().min(1).max(100),
  /** A Last Will or silence shorter than this (a reconnect) raises nothing. */
  forMs: durationMs,
  clearForMs: durationMs,
});

/** Every enabled device of the site down at once: its link or its power is gone. */
export const siteDarkRule = z.strictObject({
  type: z.literal('site_dark'),
  ...common,
  forMs: durationMs,
  clearForMs: durationMs,
});

/** A metric beyond `raise` for `forMs`; clear once on the far side of `clear` for `clearForMs`. */
export const thresholdRule = z.strictObject({
  type: z.literal('threshold'),
  ...common,
  metric: metricName,
  op: z.enum(['above', 'below']),
  raise: z.number(),
  clear: z.number(),
  forMs: durationMs,
  clearForMs: durationMs,
  when: ruleWhen,
});

/** People inside (sum of the site's counters) above the seats plus `margin`. */
export const overSeatsRule = z.strictObject({
  type: z.literal('over_seats'),
  ...common,
  margin: z.number().int().min(0).max(200),
  /** Clear once occupancy is at most seats + margin − clearBelow. */
  clearBelow: z.number().int().min(0).max(200),
  forMs: durationMs,
  clearForMs: durationMs,
});

/** A `fault` event raises; `fault_cleared` (held for clearForMs) clears. */
export const faultRule = z.strictObject({
  type: z.literal('fault'),
  ...common,
  clearForMs: durationMs,
});

/** At least `count` refusals of the listed codes within `windowMs`; clears after `clearForMs` without any. */
export const refusedRateRule = z.strictObject({
  type: z.literal('refused_rate'),
  ...common,
  codes: z.array(z.enum(ingestErrorCodes)).min(1),
  count: z.number().int().min(1).max(100_000),
  windowMs: durationMs.min(1000, 'at least 1 s'),
  clearForMs: durationMs,
});

export const ruleBodyBase = z.discriminatedUnion('type', [
  offlineRule,
  siteDarkRule,
  thresholdRule,
  overSeatsRule,
  faultRule,
  refusedRateRule,
]);

/** A rule body as stored or sent: the clear level must be on the clear side of the raise level. */
export const ruleBody = ruleBodyBase.superRefine((r, ctx) => {
  if (r.type !== 'threshold') return;
  const wrong = r.op === 'below' ? r.clear < r.raise : r.clear > r.raise;
  if (wrong) {
    ctx.addIssue({
      code: 'custom',
      path: ['clear'],
      message:
        r.op === 'below'
          ? 'clear level must be at or above the raise level for a "below" rule'
          : 'clear level must be at or below the raise level for an "above" rule',
    });
  }
});

export const ruleId = z.string().regex(/^[a-z][a-z0-9_]{1,47}$/);

/** A rule as the hub ships it: which device kinds it watches, and its default body. */
export const ruleDefinition = z.object({
  id: ruleId,
  /** Device kinds it applies to; `site_dark` and `over_seats` are judged per site. */
  kinds: z.array(deviceKind),
  body: ruleBody,
});

/** The rule in force for a site or a device, and where it comes from. */
export const effectiveRule = ruleDefinition.extend({
  source: z.enum(['default', 'site', 'device']),
});

export const alert = z.object({
  id: z.number().int(),
  ruleId,
  /** The rule's type (offline, site_dark, threshold, …). */
  type: z.string(),
  siteId,
  /** Null for site-wide alerts (site dark, occupancy above seats). */
  deviceId: deviceId.nullable(),
  severity,
  state: alertState,
  /** When the condition began (before its `for` duration passed). */
  since: z.number().int(),
  raisedAt: z.number().int(),
  /** The value that raised it, or the last one seen while it was open. */
  value: z.number().nullable(),
  /** Stable detail for the message: metric, fault code, refusal code, limit. */
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  ackedAt: z.number().int().nullable(),
  ackedBy: z.string().nullable(),
  ackNote: z.string().nullable(),
  endedAt: z.number().int().nullable(),
  resolvedBy: z.string().nullable(),
  resolveNote: z.string().nullable(),
  /** A device alert folded under its site's `site_dark` alert: shown under it, never sent alone. */
  parentId: z.number().int().nullable(),
  /** Recorded while a silence or the rule's closed-hours mute applied: not sent. */
  muted: z.boolean(),
  /** Outbox summary: how many messages pending, sent and failed for this alert. */
  delivery: z.object({ pending: z.number().int(), sent: z.number().int(), failed: z.number().int() }),
});

export const silenceInput = z
  .strictObject({
    siteId,
    deviceId: deviceId.optional(),
    /** Only this rule; all rules when absent. */
    ruleId: ruleId.optional(),
    startsAt: z.number().int().min(0),
    endsAt: z.number().int().min(0),
    reason: z.string().min(1).max(200),
  })
  .refine((s) => s.endsAt > s.startsAt, { path: ['endsAt'], message: 'must be after startsAt' });
export const silence = z.object({
  id: z.number().int(),
  siteId,
  deviceId: deviceId.nullable(),
  ruleId: ruleId.nullable(),
  startsAt: z.number().int(),
  endsAt: z.number().int(),
  reason: z.string(),
  createdBy: z.string(),
  createdAt: z.number().int(),
});

export const contactType = z.enum(['webhook', 'wecom', 'dingtalk', 'feishu']);
export const contactInput = z
  .strictObject({
    name: z.string().min(1).max(80),
    type: contactType,
    url: z.url({ protocol: /^https?$/ }).max(500),
    /** Webhook: the HMAC key (≥ 16); DingTalk/Feishu: the robot's signing secret (optional). */
    secret: z.string().min(1).max(200).optional(),
    /** Only alerts of these sites; every site when empty. */
    siteIds: z.array(siteId).max(1000).default([]),
    /** The least severe alert sent here. */
    minSeverity: severity.default('warning'),
    /** Re-send a critical alert still unacknowledged every this many minutes; 0 = never. */
    repeatMin: z.number().int().min(0).max(1440).default(30),
    /** Also send to this contact point once an alert stays unacknowledged `escalateAfterMin`. */
    escalateToId: z.number().int().nullable().default(null),
    escalateAfterMin: z.number().int().min(1).max(1440).default(15),
    enabled: z.boolean().default(true),
  })
  .refine((c) => c.type !== 'webhook' || (c.secret?.length ?? 0) >= 16, {
    path: ['secret'],
    message: 'a webhook needs a secret of at least 16 characters',
  });
export const contact = z.object({
  id: z.number().int(),
  name: z.string(),
  type: contactType,
  url: z.string(),
  /** Never sent back; only whether one is set. */
  hasSecret: z.boolean(),
  siteIds: z.array(siteId),
  minSeverity: severity,
  repeatMin: z.number().int(),
  escalateToId: z.number().int().nullable(),
  escalateAfterMin: z.number().int(),
  enabled: z.boolean(),
});

export const delivery = z.object({
  id: z.number().int(),
  alertId: z.number().int(),
  contactId: z.number().int(),
  reason: z.enum(['raised', 'repeat', 'escalation', 'cleared']),
  state: z.enum(['pending', 'sent', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.number().int(),
  sentAt: z.number().int().nullable(),
});

// API bodies and queries.
export const alertParams = z.object({ alertId: z.coerce.number().int().min(1) });
export const ackBody = z.strictObject({ note: z.string().max(500).optional() });
export const resolveBody = z.strictObject({ note: z.string().min(1).max(500) });
export const alertQuery = z.strictObject({
  siteId: siteId.optional(),
  community: z.string().max(80).optional(),
  severity: severity.optional(),
  state: z.enum(['open', ...alertState.options]).optional(),
  from: z.coerce.number().int().min(0).optional(),
  to: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const alertList = z.object({
  alerts: z.array(alert),
  /** Medians over the listed alerts that were acknowledged / ended; null when none. */
  stats: z.object({
    ackMedianMs: z.number().nullable(),
    clearMedianMs: z.number().nullable(),
    count: z.number().int(),
  }),
});
export const ruleScopeQuery = z.strictObject({ siteId, deviceId: deviceId.optional() });
export const ruleParams = z.object({ ruleId });

/** Time to acknowledge and to end, per alert; the alerts page shows them. */
export function timeToAck(a: Pick<Alert, 'raisedAt' | 'ackedAt'>): number | null {
  return a.ackedAt === null ? null : a.ackedAt - a.raisedAt;
}
export function timeToEnd(a: Pick<Alert, 'raisedAt' | 'endedAt'>): number | null {
  return a.endedAt === null ? null : a.endedAt - a.raisedAt;
}

export type Severity = z.infer<typeof severity>;
export type AlertState = z.infer<typeof alertState>;
export type RuleBody = z.infer<typeof ruleBody>;
export type RuleDefinition = z.infer<typeof ruleDefinition>;
export type EffectiveRule = z.infer<typeof effectiveRule>;
export type Alert = z.infer<typeof alert>;
export type Silence = z.infer<typeof silence>;
export type SilenceInput = z.infer<typeof silenceInput>;
export type Contact = z.infer<typeof contact>;
export type ContactInput = z.infer<typeof contactInput>;
export type Delivery = z.infer<typeof delivery>;
export type AlertQuery = z.infer<typeof alertQuery>;
export type AlertList = z.infer<typeof alertList>;
