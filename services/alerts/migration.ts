import { type Kysely, type Migration, sql } from 'kysely';
import { generatedId } from '../state/postgres.js';

/**
 * '004-alerts': alerts and their lifecycle, rule overrides per site and device, silences, contact
 * points and the notification outbox. Self-contained (it touches no earlier table), so it could be renumbered
 * when another '003' landed first (names' '003-bilingual-names' did).
 */
export const alertsMigration: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('alerts')
      .addColumn('id', 'integer', generatedId(db))
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('site_id', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('since', 'bigint', (c) => c.notNull())
      .addColumn('raised_at', 'bigint', (c) => c.notNull())
      .addColumn('value', 'double precision')
      .addColumn('detail', 'text', (c) => c.notNull())
      .addColumn('acked_at', 'bigint')
      .addColumn('acked_by', 'text')
      .addColumn('ack_note', 'text')
      .addColumn('ended_at', 'bigint')
      .addColumn('resolved_by', 'text')
      .addColumn('resolve_note', 'text')
      .addColumn('parent_id', 'integer')
      .addColumn('muted', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('notified_at', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    // At most one open alert per rule and subject, kept by the database too: a restart that
    // re-evaluates a condition can never raise it twice.
    await db.schema
      .createIndex('alerts_one_open')
      .unique()
      .on('alerts')
      .columns(['rule_id', 'site_id', 'device_id'])
      .where(sql.ref('state'), 'in', sql`('active', 'acknowledged')`)
      .execute();
    await db.schema
      .createIndex('alerts_site_raised')
      .on('alerts')
      .columns(['site_id', 'raised_at'])
      .execute();
    await db.schema.createIndex('alerts_raised').on('alerts').column('raised_at').execute();
    await db.schema
      .createTable('alert_rule_overrides')
      .addColumn('site_id', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text', (c) => c.notNull())
      .addColumn('rule_id', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('alert_rule_overrides_pk', ['site_id', 'device_id', 'rule_id'])
      .execute();
    await db.schema
      .createTable('alert_silences')
      .addColumn('id', 'integer', generatedId(db))
      .addColumn('site_id', 'text', (c) => c.notNull())
      .addColumn('device_id', 'text')
      .addColumn('rule_id', 'text')
      .addColumn('starts_at', 'bigint', (c) => c.notNull())
      .addColumn('ends_at', 'bigint', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('alert_contacts')
      .addColumn('id', 'integer', generatedId(db))
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('url', 'text', (c) => c.notNull())
      .addColumn('secret', 'text')
      .addColumn('site_ids', 'text', (c) => c.notNull())
      .addColumn('min_severity', 'text', (c) => c.notNull())
      .addColumn('repeat_min', 'integer', (c) => c.notNull())
      .addColumn('escalate_to_id', 'integer')
      .addColumn('escalate_after_min', 'integer', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('alert_outbox')
      .addColumn('id', 'integer', generatedId(db))
      .addColumn('alert_id', 'integer', (c) => c.notNull())
      .addColumn('contact_id', 'integer', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull())
      .addColumn('next_at', 'bigint', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('sent_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('alert_outbox_due')
      .on('alert_outbox')
      .columns(['state', 'next_at'])
      .execute();
    await db.schema.createIndex('alert_outbox_alert').on('alert_outbox').column('alert_id').execute();
  },
};
