import type { Generated } from 'kysely';

/** Row shapes of the state database, as stored; the API's shapes are in services/api/schemas.ts. */
export interface Database {
  sites: {
    id: string;
    name_zh: string;
    name_en: string;
    type: string;
    community: string;
    address: string;
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
    name: string;
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
}
