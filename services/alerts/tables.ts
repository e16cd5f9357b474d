import type { Generated } from 'kysely';

/** Row shapes of the alert tables (migration '003-alerts'), as stored. */
export interface AlertTables {
  alerts: {
    id: Generated<number>;
    rule_id: string;
    type: string;
    site_id: string;
    /** '' for a site-wide alert, so the open-alert unique index sees one key (NULLs never collide). */
    device_id: string;
    severity: string;
    state: string;
    since: number;
    raised_at: number;
    value: number | null;
    /** JSON object. */
    detail: string;
    acked_at: number | null;
    acked_by: string | null;
    ack_note: string | null;
    ended_at: number | null;
    resolved_by: string | null;
    resolve_note: string | null;
    parent_id: number | null;
    muted: number;
    /** When the first message was queued; null while muted or folded. */
    notified_at: number | null;
    updated_at: number;
  };
  alert_rule_overrides: {
    site_id: string;
    /** '' for the whole site. */
    device_id: string;
    rule_id: string;
    /** JSON rule body, checked by contract `ruleBody` before it is written. */
    body: string;
    updated_by: string;
    updated_at: number;
  };
  alert_silences: {
    id: Generated<number>;
    site_id: string;
    device_id: string | null;
    rule_id: string | null;
    starts_at: number;
    ends_at: number;
    reason: string;
    created_by: string;
    created_at: number;
  };
  alert_contacts: {
    id: Generated<number>;
    name: string;
    type: string;
    url: string;
    secret: string | null;
    /** JSON array; empty for every site. */
    site_ids: string;
    min_severity: string;
    repeat_min: number;
    escalate_to_id: number | null;
    escalate_after_min: number;
    enabled: number;
    created_at: number;
  };
  alert_outbox: {
    id: Generated<number>;
    alert_id: number;
    contact_id: number;
    reason: string;
    state: string;
    attempts: number;
    next_at: number;
    last_error: string | null;
    created_at: number;
    sent_at: number | null;
  };
}
