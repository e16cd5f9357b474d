import type { Kysely, Selectable, Updateable } from 'kysely';
import type {
  Alert,
  AlertQuery,
  Contact,
  ContactInput,
  Delivery,
  RuleBody,
  Severity,
  Silence,
  SilenceInput,
} from '../../contract/index.js';
import type { Database } from '../state/tables.js';

type Db = Kysely<Database>;
export type AlertRow = Selectable<Database['alerts']>;
export type ContactRow = Selectable<Database['alert_contacts']>;
export type OutboxRow = Selectable<Database['alert_outbox']>;
export type NewAlert = Omit<Database['alerts'], 'id'>;
export type AlertPatch = Updateable<Database['alerts']>;
export interface Override {
  siteId: string;
  deviceId: string | null;
  ruleId: string;
  body: RuleBody;
}

const OPEN = ['active', 'acknowledged'];
const noDelivery = { pending: 0, sent: 0, failed: 0 };

export function toAlert(r: AlertRow, delivery: Alert['delivery'] = noDelivery): Alert {
  return {
    id: r.id,
    ruleId: r.rule_id,
    type: r.type,
    siteId: r.site_id,
    deviceId: r.device_id === '' ? null : r.device_id,
    severity: r.severity as Severity,
    state: r.state as Alert['state'],
    since: Number(r.since),
    raisedAt: Number(r.raised_at),
    value: r.value,
    detail: JSON.parse(r.detail),
    ackedAt: r.acked_at === null ? null : Number(r.acked_at),
    ackedBy: r.acked_by,
    ackNote: r.ack_note,
    endedAt: r.ended_at === null ? null : Number(r.ended_at),
    resolvedBy: r.resolved_by,
    resolveNote: r.resolve_note,
    parentId: r.parent_id,
    muted: r.muted === 1,
    delivery,
  };
}

export function toContact(r: ContactRow): Contact {
  return {
    id: r.id,
    name: r.name,
    type: r.type as Contact['type'],
    url: r.url,
    hasSecret: r.secret !== null,
    siteIds: JSON.parse(r.site_ids),
    minSeverity: r.min_severity as Severity,
    repeatMin: r.repeat_min,
    escalateToId: r.escalate_to_id,
    escalateAfterMin: r.escalate_after_min,
    enabled: r.enabled === 1,
  };
}

function toSilence(r: Selectable<Database['alert_silences']>): Silence {
  return {
    id: r.id,
    siteId: r.site_id,
    deviceId: r.device_id,
    ruleId: r.rule_id,
    startsAt: Number(r.starts_at),
    endsAt: Number(r.ends_at),
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
  };
}

function toDelivery(r: OutboxRow): Delivery {
  return {
    id: r.id,
    alertId: r.alert_id,
    contactId: r.contact_id,
    reason: r.reason as Delivery['reason'],
    state: r.state as Delivery['state'],
    attempts: r.attempts,
    lastError: r.last_error,
    createdAt: Number(r.created_at),
    sentAt: r.sent_at === null ? null : Number(r.sent_at),
  };
}

/** Every query of the alerts module; the engine, the outbox and the routes never see the database. */
export class AlertRepo {
  constructor(private readonly db: Db) {}

  // Alerts.
  async openAlerts(): Promise<AlertRow[]> {
    return this.db.selectFrom('alerts').selectAll().where('state', 'in', OPEN).execute();
  }

  async insertAlert(row: NewAlert): Promise<AlertRow> {
    return this.db.insertInto('alerts').values(row).returningAll().executeTakeFirstOrThrow();
  }

  async updateAlert(id: number, patch: AlertPatch): Promise<AlertRow | undefined> {
    return this.db.updateTable('alerts').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
  }

  async alert(id: number): Promise<AlertRow | undefined> {
    return this.db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** `sites` undefined is every site; the caller resolves a community to its sites. */
  async listAlerts(q: AlertQuery, sites: readonly string[] | undefined): Promise<AlertRow[]> {
    if (sites && sites.length === 0) return [];
    let s = this.db.selectFrom('alerts').selectAll().orderBy('raised_at', 'desc').orderBy('id', 'desc');
    if (sites) s = s.where('site_id', 'in', sites);
    if (q.severity) s = s.where('severity', '=', q.severity);
    if (q.state === 'open') s = s.where('state', 'in', OPEN);
    else if (q.state) s = s.where('state', '=', q.state);
    if (q.from !== undefined) s = s.where('raised_at', '>=', q.from);
    if (q.to !== undefined) s = s.where('raised_at', '<', q.to);
    return s.limit(q.limit).execute();
  }

  async deliverySummary(alertIds: number[]): Promise<Map<number, Alert['delivery']>> {
    const out = new Map<number, Alert['delivery']>();
    if (alertIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('alert_outbox')
      .select((eb) => ['alert_id', 'state', eb.fn.countAll<number>().as('n')])
      .where('alert_id', 'in', alertIds)
      .groupBy(['alert_id', 'state'])
      .execute();
    for (const r of rows) {
      const d = out.get(r.alert_id) ?? { ...noDelivery };
      d[r.state as keyof Alert['delivery']] = Number(r.n);
      out.set(r.alert_id, d);
    }
    return out;
  }

  // Rule overrides.
  async overrides(): Promise<Override[]> {
    const rows = await this.db.selectFrom('alert_rule_overrides').selectAll().execute();
    return rows.map((r) => ({
      siteId: r.site_id,
      deviceId: r.device_id === '' ? null : r.device_id,
      ruleId: r.rule_id,
      body: JSON.parse(r.body),
    }));
  }

  async putOverride(o: Override, by: string, at: number): Promise<void> {
    const row = {
      site_id: o.siteId,
      device_id: o.deviceId ?? '',
      rule_id: o.ruleId,
      body: JSON.stringify(o.body),
      updated_by: by,
      updated_at: at,
    };
    await this.db
      .insertInto('alert_rule_overrides')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['site_id', 'device_id', 'rule_id']).doUpdateSet({
          body: row.body,
          updated_by: by,
          updated_at: at,
        }),
      )
      .execute();
  }

  async deleteOverride(siteId: string, deviceId: string | null, ruleId: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('alert_rule_overrides')
      .where('site_id', '=', siteId)
      .where('device_id', '=', deviceId ?? '')
      .where('rule_id', '=', ruleId)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // Silences.
  async silences(sites: readonly string[] | undefined, endingAfter: number): Promise<Silence[]> {
    if (sites && sites.length === 0) return [];
    let s = this.db
      .selectFrom('alert_silences')
      .selectAll()
      .where('ends_at', '>', endingAfter)
      .orderBy('starts_at');
    if (sites) s = s.where('site_id', 'in', sites);
    return (await s.execute()).map(toSilence);
  }

  async silence(id: number): Promise<Silence | undefined> {
    const r = await this.db.selectFrom('alert_silences').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toSilence(r);
  }

  async insertSilence(s: SilenceInput, by: string, at: number): Promise<Silence> {
    const r = await this.db
      .insertInto('alert_silences')
      .values({
        site_id: s.siteId,
        device_id: s.deviceId ?? null,
        rule_id: s.ruleId ?? null,
        starts_at: s.startsAt,
        ends_at: s.endsAt,
        reason: s.reason,
        created_by: by,
        created_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toSilence(r);
  }

  async deleteSilence(id: number): Promise<void> {
    await this.db.deleteFrom('alert_silences').where('id', '=', id).execute();
  }

  // Contact points.
  async contacts(): Promise<ContactRow[]> {
    return this.db.selectFrom('alert_contacts').selectAll().orderBy('id').execute();
  }

  async insertContact(c: ContactInput, at: number): Promise<ContactRow> {
    return this.db
      .insertInto('alert_contacts')
      .values({ ...contactColumns(c), created_at: at })
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async updateContact(id: number, c: ContactInput): Promise<ContactRow | undefined> {
    const cols = contactColumns(c);
    // An edit without a secret keeps the stored one: the dashboard never gets it back to resend.
    if (c.secret === undefined) delete (cols as Partial<typeof cols>).secret;
    return this.db
      .updateTable('alert_contacts')
      .set(cols)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  }

  async deleteContact(id: number): Promise<boolean> {
    const r = await this.db.deleteFrom('alert_contacts').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  // Outbox.
  async enqueue(rows: Array<{ alertId: number; contactId: number; reason: Delivery['reason'] }>, at: number) {
    if (rows.length === 0) return;
    await this.db
      .insertInto('alert_outbox')
      .values(
        rows.map((r) => ({
          alert_id: r.alertId,
          contact_id: r.contactId,
          reason: r.reason,
          state: 'pending',
          attempts: 0,
          next_at: at,
          last_error: null,
          created_at: at,
          sent_at: null,
        })),
      )
      .execute();
  }

  /** Queues messages and marks the alert notified in one transaction: a crash neither loses nor repeats them. */
  async enqueueAndMark(
    rows: Array<{ alertId: number; contactId: number; reason: Delivery['reason'] }>,
    at: number,
    notified: { alertId: number } | null,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const tx = new AlertRepo(trx);
      await tx.enqueue(rows, at);
      if (notified) await tx.updateAlert(notified.alertId, { notified_at: at });
    });
  }

  async due(now: number, limit: number): Promise<OutboxRow[]> {
    return this.db
      .selectFrom('alert_outbox')
      .selectAll()
      .where('state', '=', 'pending')
      .where('next_at', '<=', now)
      .orderBy('next_at')
      .limit(limit)
      .execute();
  }

  async updateOutbox(id: number, patch: Updateable<Database['alert_outbox']>): Promise<void> {
    await this.db.updateTable('alert_outbox').set(patch).where('id', '=', id).execute();
  }

  async deliveries(alertId: number): Promise<Delivery[]> {
    const rows = await this.db
      .selectFrom('alert_outbox')
      .selectAll()
      .where('alert_id', '=', alertId)
      .orderBy('id')
      .execute();
    return rows.map(toDelivery);
  }

  /** Newest message queued per (alert, contact, reason) of the open alerts: repeats and escalations resume from it. */
  async lastQueued(
    alertIds: number[],
  ): Promise<Array<{ alertId: number; contactId: number; reason: string; at: number }>> {
    if (alertIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('alert_outbox')
      .select((eb) => ['alert_id', 'contact_id', 'reason', eb.fn.max('created_at').as('at')])
      .where('alert_id', 'in', alertIds)
      .groupBy(['alert_id', 'contact_id', 'reason'])
      .execute();
    return rows.map((r) => ({
      alertId: r.alert_id,
      contactId: r.contact_id,
      reason: r.reason,
      at: Number(r.at),
    }));
  }
}

function contactColumns(c: ContactInput) {
  return {
    name: c.name,
    type: c.type,
    url: c.url,
    secret: c.secret ?? null,
    site_ids: JSON.stringify(c.siteIds),
    min_severity: c.minSeverity,
    repeat_min: c.repeatMin,
    escalate_to_id: c.escalateToId,
    escalate_after_min: c.escalateAfterMin,
    enabled: c.enabled ? 1 : 0,
  };
}
