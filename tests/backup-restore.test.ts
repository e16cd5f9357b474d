import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { BackupManifest } from '../services/backup/manifest.js';
import { restoreBackup } from '../services/backup/restore.js';
import { runCli } from './helpers/cli.js';
import { ApiClient, eventually, provision, siteFixture, testHub } from './helpers/hub.js';
import { cleanupAfterAll, type HubProcess, loadHubEnv, startHubProcess } from './helpers/hub-process.js';
import { devicePublisher, type Publisher, storedSeqs } from './helpers/publisher.js';

const DEVICES = 12;
const PASSWORD = 'backup-test-password';
const backupCli = 'services/backup/cli.ts';

/** Readings of `keys` (device/seq) in a stopped hub's telemetry file, as comparable text. */
async function rowsOf(file: string, keys: string[]): Promise<Map<string, string>> {
  const db = await DuckDBInstance.create(file);
  const conn = await db.connect();
  const out = new Map<string, string>();
  for (const k of keys) {
    const [device, seq] = k.split('/');
    const rows = (
      await conn.runAndReadAll(
        `SELECT device_id, seq, site_id, kind, epoch_ms(ts) AS ts, occupancy FROM readings WHERE device_id = '${device}' AND seq = ${seq}`,
      )
    ).getRowObjectsJS();
    out.set(
      k,
      JSON.stringify(rows, (_, v) => (typeof v === 'bigint' ? Number(v) : v)),
    );
  }
  conn.closeSync();
  db.closeSync();
  return out;
}

describe('backup and restore', () => {
  const cleanup = cleanupAfterAll();
  const tmp = async (prefix: string) => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
    cleanup.push(() => fs.rm(d, { recursive: true, force: true }));
    return d;
  };

  it('backs up a hub under load, restores into an empty directory, and loses no acknowledged reading', async () => {
    const { env, dataDir, mqttUrl } = await loadHubEnv('yz-backup-', PASSWORD, cleanup);
    let hub: HubProcess = startHubProcess(env);
    cleanup.push(async () => hub.child.kill('SIGKILL'));
    const url = await hub.started;
    const api = new ApiClient(url);
    await api.login('admin', PASSWORD);
    await api.json('POST', '/api/sites', siteFixture('bk-1'));
    await api.json('POST', '/api/sites', siteFixture('bk-2', { type: 'caring' }));
    await api.json('POST', '/api/users', {
      username: 'manager1',
      password: 'manager-password-1',
      role: 'manager',
      siteIds: ['bk-1'],
    });
    const devices = [];
    for (let i = 0; i < DEVICES; i++)
      devices.push(await provision(api, `bk-${(i % 2) + 1}`, `bk-dev-${i}`, 'occupancy_counter'));
    const publishers: Publisher[] = await Promise.all(
      devices.map((d) => devicePublisher(mqttUrl, d, cleanup)),
    );
    for (const p of publishers) p.pump();
    const total = () => publishers.reduce((n, p) => n + p.acked.size, 0);
    await eventually(() => (total() > 3000 ? true : undefined), 30_000);

    // Everything acknowledged before the backup starts must be in it.
    const ackedBefore = publishers.map((p) => new Set(p.acked));
    const backupDir = path.join(await tmp('yz-bk-'), 'b1');
    const taken = await runCli(backupCli, ['backup', backupDir], env);
    expect(taken.stderr).toBe('');
    expect(taken.code).toBe(0);
    expect(taken.stdout).toContain('The running hub backed up');
    const ackedDuring = total() - ackedBefore.reduce((n, s) => n + s.size, 0);
    const manifest = JSON.parse(
      await fs.readFile(path.join(backupDir, 'backup.json'), 'utf8'),
    ) as BackupManifest;
    expect(manifest.files.map((f) => f.name).sort()).toEqual([
      'journal.sqlite',
      'state.sqlite',
      'telemetry.duckdb',
    ]);
    expect(manifest.counts.state).toMatchObject({ sites: 2, devices: DEVICES, users: 2 });

    // Devices kept publishing through the backup, and the hub still takes readings after it.
    const afterBackup = total();
    await eventually(() => (total() > afterBackup + 500 ? true : undefined), 20_000);
    for (const p of publishers) p.stop();
    await eventually(() => (publishers.every((p) => p.settled) ? true : undefined), 20_000);
    for (const p of publishers) await p.client.endAsync();
    const users = (await api.json<{ users: unknown[] }>('GET', '/api/users')).body.users;
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);

    // A backup is never restored over data.
    const overData = await runCli(backupCli, ['restore', backupDir], env);
    expect(overData.code).toBe(1);
    expect(overData.stderr).toMatch(/is not empty: restore into an empty data directory/);

    const restoredDir = await tmp('yz-restored-');
    const restoredEnv = { ...env, HUB_DATA_DIR: restoredDir };
    const restored = await runCli(backupCli, ['restore', backupDir], restoredEnv);
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);

    hub = startHubProcess(restoredEnv);
    const restoredUrl = await hub.started;
    const api2 = new ApiClient(restoredUrl);
    expect((await api2.login('admin', PASSWORD)).status).toBe(200);
    expect((await api2.json<{ users: unknown[] }>('GET', '/api/users')).body.users).toEqual(users);
    const sites = (await api2.json<{ sites: { id: string }[] }>('GET', '/api/sites')).body.sites;
    expect(sites.map((s) => s.id).sort()).toEqual(['bk-1', 'bk-2']);
    // A restored device still logs in with its secret.
    const again = await devicePublisher(mqttUrl, devices[0]!, cleanup);
    await again.client.endAsync();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);

    // Every reading acknowledged before the backup is in the restored store, exactly once, as it was.
    const restoredFile = path.join(restoredDir, 'telemetry.duckdb');
    const stored = await storedSeqs(restoredFile);
    const keys: string[] = [];
    ackedBefore.forEach((acked, i) => {
      for (const seq of acked) keys.push(`bk-dev-${i}/${seq}`);
    });
    expect(keys.filter((k) => stored.get(k) !== 1)).toEqual([]);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    expect(stored.size).toBeGreaterThanOrEqual(manifest.counts.readings!);
    const sample = keys.filter((_, i) => i % Math.ceil(keys.length / 40) === 0);
    expect(await rowsOf(restoredFile, sample)).toEqual(
      await rowsOf(path.join(dataDir, 'telemetry.duckdb'), sample),
    );

    // A stopped hub is backed up from its files.
    const offlineDir = path.join(await tmp('yz-bk-'), 'offline');
    const offline = await runCli(backupCli, ['backup', offlineDir], env);
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain('No hub is running');
    const offlineManifest = JSON.parse(
      await fs.readFile(path.join(offlineDir, 'backup.json'), 'utf8'),
    ) as BackupManifest;
    const original = await storedSeqs(path.join(dataDir, 'telemetry.duckdb'));
    expect(offlineManifest.counts.readings).toBe(original.size);

    const mib = manifest.files.reduce((n, f) => n + f.bytes, 0) / 1_048_576;
    console.log(
      `backup under load: ${manifest.counts.readings} readings + ${manifest.counts.journalRows} journal rows, ${mib.toFixed(1)} MiB, ` +
        `${Math.round(manifest.timings.totalMs)} ms, telemetry writes held ${Math.round(manifest.timings.telemetryHeldMs)} ms, ` +
        `${ackedDuring} readings acknowledged while the backup command ran`,
    );
  }, 180_000);

  it('refuses a backup into a non-empty directory, and an unfinished or damaged backup', async () => {
    const hub = await testHub();
    cleanup.push(() => hub.close());
    const parent = await tmp('yz-bk-');
    await fs.writeFile(path.join(parent, 'something'), 'x');
    await expect(hub.backup(parent)).rejects.toMatchObject({ code: 'BACKUP_TARGET_NOT_EMPTY' });
    const dir = path.join(parent, 'b');
    await hub.backup(dir);
    const target = { dataDir: await tmp('yz-restored-'), journalDir: '' };
    target.journalDir = target.dataDir;

    const unfinished = path.join(parent, 'unfinished');
    await fs.cp(dir, unfinished, { recursive: true });
    await fs.rm(path.join(unfinished, 'backup.json'));
    await expect(restoreBackup(unfinished, target)).rejects.toMatchObject({ code: 'BACKUP_INCOMPLETE' });

    const damaged = path.join(parent, 'damaged');
    await fs.cp(dir, damaged, { recursive: true });
    await fs.appendFile(path.join(damaged, 'state.sqlite'), 'x');
    await expect(restoreBackup(damaged, target)).rejects.toMatchObject({ code: 'BACKUP_CORRUPT' });

    const newer = path.join(parent, 'newer');
    await fs.cp(dir, newer, { recursive: true });
    const m = JSON.parse(await fs.readFile(path.join(newer, 'backup.json'), 'utf8')) as BackupManifest;
    m.migrations.push('999-from-the-future');
    await fs.writeFile(path.join(newer, 'backup.json'), JSON.stringify(m));
    await expect(restoreBackup(newer, target)).rejects.toMatchObject({ code: 'BACKUP_TOO_NEW' });
    await expect(restoreBackup(dir, { ...target, databaseUrl: 'postgres://x' })).rejects.toMatchObject({
      code: 'BACKUP_KIND_MISMATCH',
    });
    // Nothing was copied by a refused restore; the good backup then restores.
    expect(await fs.readdir(target.dataDir)).toEqual([]);
    await restoreBackup(dir, target);
    expect((await fs.readdir(target.dataDir)).sort()).toEqual([
      'journal.sqlite',
      'state.sqlite',
      'telemetry.duckdb',
    ]);
  }, 60_000);

  it('takes scheduled backups and keeps the newest BACKUP_KEEP', async () => {
    const { env } = await loadHubEnv('yz-backup-', PASSWORD, cleanup);
    const into = await tmp('yz-scheduled-');
    const hub = startHubProcess({ ...env, BACKUP_DIR: into, BACKUP_EVERY_H: '0.0003', BACKUP_KEEP: '2' });
    cleanup.push(async () => hub.child.kill('SIGKILL'));
    await hub.started;
    const finished = async () => {
      const names = (await fs.readdir(into)).sort();
      const done = [];
      for (const n of names)
        if (await fs.stat(path.join(into, n, 'backup.json')).catch(() => null)) done.push(n);
      return done;
    };
    const first = await eventually(async () => (await finished())[0], 20_000);
    // Pruned: the first one is gone once two newer ones finished.
    const kept = await eventually(async () => {
      const done = await finished();
      return !done.includes(first) && done.length >= 2 ? done : undefined;
    }, 30_000);
    expect(kept.length).toBeLessThanOrEqual(2);
    expect(kept.every((n) => /^yizhan-\d{8}T\d{6}Z$/.test(n))).toBe(true);
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  }, 60_000);
});
