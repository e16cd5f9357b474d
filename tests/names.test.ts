import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Device, ProvisionedDevice, Site } from '../contract/index.js';
import { pickText } from '../dashboard/src/local-text.js';
import { demoDevices, demoSites } from '../devices/demo-fleet.js';
import { EventBus } from '../services/bus/event-bus.js';
import { migrate, type StateDb } from '../services/state/db.js';
import { DeviceRepo } from '../services/state/devices.js';
import { migrations } from '../services/state/migrations.js';
import { SiteRepo } from '../services/state/sites.js';
import { ApiClient, siteFixture, testHub } from './helpers/hub.js';

/** Issue 8 #14: names people type have a Chinese and an (optional) English form. */
describe('names in two languages', () => {
  let hub: Awaited<ReturnType<typeof testHub>>;
  let admin: ApiClient;
  beforeAll(async () => {
    hub = await testHub();
    admin = new ApiClient(hub.httpUrl);
    await admin.login();
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('a site keeps community and address in both languages', async () => {
    const input = siteFixture('names-a', {
      community: { zh: '橡树湾', en: 'Oak Bay' },
      address: { zh: '橡树湾小区东门旁', en: 'By the East Gate, Oak Bay' },
    });
    expect((await admin.json('POST', '/api/sites', input)).status).toBe(201);
    const { body } = await admin.json<{ site: Site }>('GET', '/api/sites/names-a');
    expect(body.site.community).toEqual({ zh: '橡树湾', en: 'Oak Bay' });
    expect(body.site.address).toEqual({ zh: '橡树湾小区东门旁', en: 'By the East Gate, Oak Bay' });
  });

  it('an older client sending plain strings still works: they are the Chinese form', async () => {
    const input = { ...siteFixture('names-b'), community: '甸柳新村', address: '甸柳新村西门' };
    expect((await admin.json('POST', '/api/sites', input)).status).toBe(201);
    const { body } = await admin.json<{ site: Site }>('GET', '/api/sites/names-b');
    expect(body.site.community).toEqual({ zh: '甸柳新村' });
    expect(body.site.address).toEqual({ zh: '甸柳新村西门' });
    const plain = await admin.json<ProvisionedDevice>('POST', '/api/sites/names-b/devices', {
      id: 'names-b-occ',
      kind: 'occupancy_counter',
      name: '门口计数器',
    });
    expect(plain.status).toBe(201);
    expect(plain.body.device.name).toEqual({ zh: '门口计数器' });
  });

  it('a device name has both forms, or none (then it is called by its kind)', async () => {
    const named = await admin.json<ProvisionedDevice>('POST', '/api/sites/names-a/devices', {
      id: 'names-a-water',
      kind: 'water_dispenser',
      name: { zh: '大厅饮水机', en: 'Hall water dispenser' },
    });
    expect(named.status).toBe(201);
    const bare = await admin.json<ProvisionedDevice>('POST', '/api/sites/names-a/devices', {
      id: 'names-a-door',
      kind: 'door_sensor',
    });
    expect(bare.body.device.name).toEqual({ zh: '' });
    const { body } = await admin.json<{ devices: Device[] }>('GET', '/api/devices?siteId=names-a');
    expect(body.devices.map((d) => d.name)).toEqual([
      { zh: '' },
      { zh: '大厅饮水机', en: 'Hall water dispenser' },
    ]);
  });

  it('refuses an empty English form rather than storing a blank translation', async () => {
    const res = await admin.json(
      'POST',
      '/api/sites',
      siteFixture('names-c', { community: { zh: '芳华里', en: '' } }),
    );
    expect(res.status).toBe(400);
  });
});

describe('state migration 003-bilingual-names', () => {
  it('keeps names stored before it as the Chinese form, with no English', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-names-'));
    const db: StateDb = new Kysely({
      dialect: new SqliteDialect({ database: new SQLite(path.join(dir, 's.db')) }),
    });
    try {
      const before = Object.fromEntries(Object.entries(migrations).filter(([k]) => k < '003'));
      await new Migrator({ db, provider: { getMigrations: async () => before } }).migrateToLatest();
      // The rows as 001 wrote them, before the English columns existed.
      await sql`insert into sites (id, name_zh, name_en, type, community, address, lat, lng, open_time, close_time, seats, created_at)
        values ('old-1', '旧站', 'Old station', 'health', '芳华里', '北门', 0, 0, '00:00', '00:00', 4, 1)`.execute(
        db,
      );
      await sql`insert into devices (id, site_id, kind, name, secret_hash, created_at)
        values ('old-1-occ', 'old-1', 'occupancy_counter', '计数器', 'x', 1)`.execute(db);
      await migrate(db);
      const site = await new SiteRepo(db, new EventBus()).get('old-1');
      expect(site?.community).toEqual({ zh: '芳华里' });
      expect(site?.address).toEqual({ zh: '北门' });
      const devices = new DeviceRepo(db, new EventBus());
      await devices.load();
      expect(devices.get('old-1-occ')?.name).toEqual({ zh: '计数器' });
    } finally {
      await db.destroy();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('names shown in the reader language', () => {
  it('falls back to the other language, and says so', () => {
    expect(pickText({ zh: '芳华里', en: 'Fanghuali' }, 'en')).toEqual({ text: 'Fanghuali', fallback: false });
    expect(pickText({ zh: '芳华里' }, 'en')).toEqual({ text: '芳华里', fallback: true });
    expect(pickText({ zh: '', en: 'Hall' }, 'zh-CN')).toEqual({ text: 'Hall', fallback: true });
    expect(pickText({ zh: '' }, 'en')).toEqual({ text: '', fallback: false });
  });

  it('the demo fleet has every community, address and device name in English too', () => {
    for (const s of demoSites()) {
      for (const text of [s.community, s.address]) {
        expect(typeof text === 'object' && text.en, s.id).toBeTruthy();
      }
      for (const d of demoDevices(s)) expect(typeof d.name === 'object' && d.name.en, d.id).toBeTruthy();
    }
  });
});
