import type { Generated } from 'kysely';
import type { AlertTables } from '../alerts/tables.js';
import type { OutboxTables } from '../outbox/tables.js';

/** Row shapes of the state database, as stored; the API's shapes are in services/api/schemas.ts. */
export interface Database extends AlertTables, OutboxTables {
  sites: {
    id: string;
    name_zh: string;
    name_en: string;
    type: string;
    /** Chinese; the English form is in community_en (NULL until given). */
    community: string;
    community_en: string | null;
    address: string;
    address_en: string | null;
    lat: number;
    lng: number;
    open_time: string;
    close_time: string;
    seats: number;
    created_at: number;
  };
  devices: {
    id: string;
    site_id: string;
    kind: string;
    /** Chinese; the English form is in name_en (NULL until given). */
    name: string;
    name_en: string | null;
    enabled: number;
    secret_hash: string;
    created_at: number;
  };
  users: {
    id: Generated<number>;
    username: string;
    password_hash: string;
    role: string;
    created_at: number;
    /** 1 after `npm run admin -- reset-password`: the one-time password only opens the change form. */
    must_change_password: Generated<number>;
    /** Wrong passwords in a row; the account is locked for a while once it reaches the limit. */
    failed_logins: Generated<number>;
    locked_until: number | null;
  };
  user_sites: { user_id: number; site_id: string };
  sessions: { token_hash: string; user_id: number; expires_at: number };
  ingest_errors: {
    device_id: string;
    code: string;
    count: number;
    last_message: string;
    last_at: number;
  };
  appointment_sessions: {
    id: Generated<number>;
    site_id: string;
    series_id: string | null;
    /** YYYY-MM-DD and HH:MM in the hub's time zone, as entered; start_at/end_at are the instants. */
    local_date: string;
    start_time: string;
    end_time: string;
    start_at: number;
    end_at: number;
    slot_minutes: number;
    capacity_per_slot: number;
    /** JSON array of screening codes. */
    screenings: string;
    doctor_name: string;
    status: string;
    cancel_reason: string | null;
    lock_version: Generated<number>;
    created_by: number | null;
    created_at: number;
    updated_at: number;
  };
  appointment_bookings: {
    id: Generated<number>;
    code: string;
    session_id: number;
    site_id: string;
    slot_start: number;
    slot_end: number;
    screening: string;
    name: string | null;
    mobile: string | null;
    mobile_last4: string | null;
    status: string;
    cancelled_by: string | null;
    checked_in_at: number | null;
    checked_in_by: number | null;
    created_at: number;
    updated_at: number;
    purged_at: number | null;
  };
  appointment_audit: {
    id: Generated<number>;
    at: number;
    user_id: number | null;
    username: string | null;
    role: string | null;
    action: string;
    site_id: string | null;
    booking_id: number | null;
    /** Comma-separated ids of the bookings a list or search returned. */
    booking_ids: string | null;
    route: string;
    reason: string | null;
  };
  station_feedback: {
    id: Generated<number>;
    site_id: string;
    local_date: string;
    /** sha256 of the browser's feedback cookie. */
    voter: string;
    rating: number;
    /** Tags, comma-separated. */
    tags: string;
    comment: string;
    created_at: number;
    reply: string | null;
    replied_at: number | null;
    replied_by: number | null;
    handled_at: number | null;
  };
}
