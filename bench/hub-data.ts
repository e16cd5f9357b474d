import path from 'node:path';
import type { ReadingRow } from '../contract/index.js';
import { DEVICE_COST, hashSecret, randomToken } from '../services/auth/passwords.js';
import { openStateDb } from '../services/state/db.js';
import type { Database } from '../services/state/tables.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';

/**
 * The hub's data directory as the bench needs it, written with the hub's own code before the hub
 * starts: sites and devices in SQLite (one scrypt hash shared by every bench device; the hub still
 * verifies each CONNECT with scrypt), and a week of 1-minute readings in DuckDB through
 * TelemetryStore.write, the call ingest uses.
 */

const MINUTE = 60_000;
const DAY = 86_400_000;

export const siteId = (i: number) => `bench-s${String(i).padStart(3, '0')}`;
/** Occupancy counter of site i: the history the range query reads. */
export const historyDevice = (i: number) => `${siteId(i)}-occ`;
/** Water dispenser of site i: one of the publishers. */
export const publisherDevice = (i: number) => `${siteId(i)}-wd`;
export const MARKER_SITE = 'bench-marker';
export const MARKER_DEVICE = 'bench-marker-occ';
export const idleDevice = (i: number) => `bench-idle-${String(i).padStart(5, '0')}`;
const idleSite = (i: number) => `bench-i${String(i).padStart(4, '0')}`;

export interface Credentials {
  secret: string;
  secretHash: string;
}

export async function benchCredentials(): Promise<Credentials> {
  const secret = randomToken();
  return { secret, secretHash: await hashSecret(secret, DEVICE_COST) };
}

function siteRow(id: string, n: number): Database['sites'] {
  return {
    id,
    name_zh: `压测驿站 ${n}`,
    name_en: `Bench station ${n}`,
    type: 'health',
    community: 'bench',
    community_en: null,
    address: '',
    address_en: null,
    lat: 36.66 + n * 1e-4,
    lng: 117.12,
    // Always open, so that opening hours never change a site's state during a run.
    open_time: '00:00',
    close_time: '00:00',
    seats: 8,
    created_at: Date.now(),
  };
}

function deviceRow(id: string, site: string, kind: string, secretHash: string): Database['devices'] {
  return {
    id,
    site_id: site,
    kind,
    name: id,
    name_en: null,
    enabled: 1,
    secret_hash: secretHash,
    created_at: Date.now(),
  };
}

async function insert(
  dataDir: string,
  sites: Database['sites'][],
  devices: Database['devices'][],
  databaseUrl?: string,
): Promise<void> {
  const db = await openStateDb(dataDir, { databaseUrl });
  try {
    for (let i = 0; i < sites.length; i += 500) {
      await db
        .insertInto('sites')
        .values(sites.slice(i, i + 500))
        .execute();
    }
    for (let i = 0; i < devices.length; i += 1000) {
      await db
        .insertInto('devices')
        .values(devices.slice(i, i + 1000))
        .execute();
    }
  } finally {
    await db.destroy();
  }
}

/** `sites` sites, each with an occupancy counter (history) and a water dispenser (publisher); the marker. */
export async function seedFleet(
  dataDir: string,
  sites: number,
  cred: Credentials,
  databaseUrl?: string,
): Promise<void> {
  const siteRows = [siteRow(MARKER_SITE, 0)];
  const devices = [deviceRow(MARKER_DEVICE, MARKER_SITE, 'occupancy_counter', cred.secretHash)];
  for (let i = 1; i <= sites; i++) {
    siteRows.push(siteRow(siteId(i), i));
    devices.push(deviceRow(historyDevice(i), siteId(i), 'occupancy_counter', cred.secretHash));
    devices.push(deviceRow(publisherDevice(i), siteId(i), 'water_dispenser', cred.secretHash));
  }
  await insert(dataDir, siteRows, devices, databaseUrl);
}

/** Idle devices for the connection test, `perSite` to a site like the sensors of one hut. */
export async function seedIdleDevices(
  dataDir: string,
  count: number,
  perSite: number,
  cred: Credentials,
): Promise<void> {
  const sites = Array.from({ length: Math.ceil(count / perSite) }, (_, s) => siteRow(idleSite(s), s));
  const devices = Array.from({ length: count }, (_, i) =>
    deviceRow(idleDevice(i), idleSite(Math.floor(i / perSite)), 'environment_sensor', cred.secretHash),
  );
  await insert(dataDir, sites, devices);
}

/** 1-minute occupancy readings of every site's counter for `days` days before `endMs`. */
export async function seedHistory(
  dataDir: string,
  sites: number,
  days: number,
  endMs: number,
): Promise<{ rows: number }> {
  const store = await openDuckDbStore(path.join(dataDir, 'telemetry.duckdb'));
  const start = endMs - days * DAY;
  const minutes = (days * DAY) / MINUTE;
  let rows: ReadingRow[] = [];
  let total = 0;
  try {
    for (let m = 0; m < minutes; m++) {
      const ts = start + m * MINUTE;
      const hour = new Date(ts).getUTCHours();
      for (let i = 1; i <= sites; i++) {
        rows.push({
          siteId: siteId(i),
          deviceId: historyDevice(i),
          kind: 'occupancy_counter',
          seq: m,
          ts,
          // A daily swell, different per site: the buckets have something to average.
          values: {
            occupancy: Math.max(
              0,
              Math.round(4 + 4 * Math.sin(((hour + i) / 24) * 2 * Math.PI) + Math.random() * 3),
            ),
          },
        });
      }
      if (rows.length >= 50_000) {
        total += (await store.write({ readings: rows, events: [] })).readings;
        rows = [];
      }
    }
    total += (await store.write({ readings: rows, events: [] })).readings;
  } finally {
    await store.close();
  }
  return { rows: total };
}
