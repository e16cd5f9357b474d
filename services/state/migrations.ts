import { type Kysely, type Migration, sql } from 'kysely';
import { alertsMigration } from '../alerts/migration.js';
import { operationsMigration } from '../outbox/migration.js';
import { generatedId, isPostgres } from './postgres.js';

/** Append only: a migration that has run on a deployed hub is never edited (but see generatedId). */
export const migrations: Record<string, Migration> = {
  '001-initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sites')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name_zh', 'text', (c) => c.notNull())
        .addColumn('name_en', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('community', 'text', (c) => c.notNull())
        .addColumn('address', 'text', (c) => c.notNull())
        .addColumn('lat', 'double precision', (c) => c.notNull())
        .addColumn('lng', 'double precision', (c) => c.notNull())
        .addColumn('open_time', 'text', (c) => c.notNull())
        .addColumn('close_time', 'text', (c) => c.notNull())
        .addColumn('seats', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('devices')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id'))
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('devices_site').on('devices').column('site_id').execute();
      await db.schema
        .createTable('users')
        .addColumn('id', 'integer', generatedId(db))
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('user_sites')
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('user_sites_pk', ['user_id', 'site_id'])
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('ingest_errors')
        .addColumn('device_id', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('last_message', 'text', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('ingest_errors_pk', ['device_id', 'code'])
        .execute();
    },
  },
  '002-appointments': {
    // Screening sessions, residents' bookings and the audit log of reads of their personal data
    // (services/appointments/). Users are referenced by id without a foreign key: deleting a user
    // must not delete the record of what they did.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('appointment_sessions')
        .addColumn('id', 'integer', generatedId(db))
        .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id'))
        .addColumn('series_id', 'text')
        .addColumn('local_date', 'text', (c) => c.notNull())
        .addColumn('start_time', 'text', (c) => c.notNull())
        .addColumn('end_time', 'text', (c) => c.notNull())
        .addColumn('start_at', 'bigint', (c) => c.notNull())
        .addColumn('end_at', 'bigint', (c) => c.notNull())
        .addColumn('slot_minutes', 'integer', (c) => c.notNull())
        .addColumn('capacity_per_slot', 'integer', (c) => c.notNull())
        .addColumn('screenings', 'text', (c) => c.notNull())
        .addColumn('doctor_name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('cancel_reason', 'text')
        // Bumped by every booking transaction first, so bookings of one session are serialised
        // (see services/appointments/booking.ts).
        .addColumn('lock_version', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_by', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('appointment_sessions_site_start')
        .on('appointment_sessions')
        .columns(['site_id', 'start_at'])
        .execute();
      await db.schema
        .createIndex('appointment_sessions_date')
        .on('appointment_sessions')
        .columns(['local_date', 'site_id'])
        .execute();
      await db.schema
        .createTable('appointment_bookings')
        .addColumn('id', 'integer', generatedId(db))
        .addColumn('code', 'text', (c) => c.notNull().unique())
        .addColumn('session_id', 'integer', (c) => c.notNull().references('appointment_sessions.id'))
        .addColumn('site_id', 'text', (c) => c.notNull())
        .addColumn('slot_start', 'bigint', (c) => c.notNull())
        .addColumn('slot_end', 'bigint', (c) => c.notNull())
        .addColumn('screening', 'text', (c) => c.notNull())
        // Personal data: nulled by the retention purge, which sets purged_at.
        .addColumn('name', 'text')
        .addColumn('mobile', 'text')
        .addColumn('mobile_last4', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('cancelled_by', 'text')
        .addColumn('checked_in_at', 'bigint')
        .addColumn('checked_in_by', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('purged_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('appointment_bookings_slot')
        .on('appointment_bookings')
        .columns(['session_id', 'slot_start', 'status'])
        .execute();
      // One live booking per number per session, enforced by the database as well as by the check
      // in the booking transaction. Partial unique indexes exist in SQLite and PostgreSQL alike.
      await db.schema
        .createIndex('appointment_bookings_one_per_mobile')
        .unique()
        .on('appointment_bookings')
        .columns(['session_id', 'mobile'])
        .where(sql.ref('status'), '<>', sql.lit('cancelled'))
        .execute();
      await db.schema
        .createIndex('appointment_bookings_site_slot')
        .on('appointment_bookings')
        .columns(['site_id', 'slot_start'])
        .execute();
      await db.schema
        .createIndex('appointment_bookings_status_end')
        .on('appointment_bookings')
        .columns(['status', 'slot_end'])
        .execute();
      await db.schema
        .createTable('appointment_audit')
        .addColumn('id', 'integer', generatedId(db))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('user_id', 'integer')
        .addColumn('username', 'text')
        .addColumn('role', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('site_id', 'text')
        .addColumn('booking_id', 'integer')
        .addColumn('booking_ids', 'text')
        .addColumn('route', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .execute();
      await db.schema.createIndex('appointment_audit_at').on('appointment_audit').column('at').execute();
      await db.schema
        .createIndex('appointment_audit_booking')
        .on('appointment_audit')
        .column('booking_id')
        .execute();
    },
  },
  '003-bilingual-names': {
    // Community, address and device name get an English form beside the Chinese one, which stays
    // in the old columns (issue 8 #14). NULL: not translated yet; the dashboard marks the fallback.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sites').addColumn('community_en', 'text').execute();
      await db.schema.alterTable('sites').addColumn('address_en', 'text').execute();
      await db.schema.alterTable('devices').addColumn('name_en', 'text').execute();
    },
  },
  '004-alerts': alertsMigration,
  '005-feedback': {
    // Station feedback (issue 16). `voter` is a hash of the browser's random cookie: with site and
    // local day it makes the one-a-day rule a unique index, and it is no phone number or address.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('station_feedback')
        .addColumn('id', 'integer', generatedId(db))
        .addColumn('site_id', 'text', (c) => c.notNull().references('sites.id'))
        .addColumn('local_date', 'text', (c) => c.notNull())
        .addColumn('voter', 'text', (c) => c.notNull())
        .addColumn('rating', 'integer', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('reply', 'text')
        .addColumn('replied_at', 'bigint')
        .addColumn('replied_by', 'integer')
        .addColumn('handled_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('station_feedback_once_a_day')
        .on('station_feedback')
        .columns(['site_id', 'local_date', 'voter'])
        .unique()
        .execute();
      await db.schema
        .createIndex('station_feedback_site_time')
        .on('station_feedback')
        .columns(['site_id', 'created_at'])
        .execute();
    },
  },
  '006-session-overlap-excluded': {
    // The overlap rule of services/appointments/sessions.ts, enforced by the database where it has
    // more than one connection: two concurrent creates both passed the check and both inserted
    // (issue 13). The second now fails with 23P01, which the repo reports as SESSION_OVERLAP.
    // btree_gist gives text an equality operator gist can index. SQLite: its one connection
    // serialises the check and the insert already; nothing to add.
    async up(db: Kysely<unknown>) {
      if (!isPostgres(db)) return;
      await sql`create extension if not exists btree_gist`.execute(db);
      await sql`alter table appointment_sessions add constraint appointment_sessions_no_overlap
        exclude using gist (site_id with =, int8range(start_at, end_at) with &&)
        where (status = 'scheduled')`.execute(db);
    },
  },
  '007-operations': operationsMigration,
};
