import fs from 'node:fs/promises';
import path from 'node:path';
import { migrations } from '../state/migrations.js';
import { BackupError } from './errors.js';
import { isEmptyDir, sha256File } from './files.js';
import { type BackupManifest, backupManifest, JOURNAL_FILE, MANIFEST, PG_NOTE } from './manifest.js';

export interface RestoreTarget {
  dataDir: string;
  journalDir: string;
  /** Set when this hub keeps state on PostgreSQL: SQLite state in a backup would go unused. */
  databaseUrl?: string;
  influx?: boolean;
}

/** Reads and checks backup.json: present (else the backup never finished), known format, not newer. */
export async function readManifest(dir: string): Promise<BackupManifest> {
  const text = await fs.readFile(path.join(dir, MANIFEST), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err;
    return undefined;
  });
  if (text === undefined) {
    const exists = await fs.stat(dir).then(
      () => true,
      () => false,
    );
    throw exists
      ? new BackupError('BACKUP_INCOMPLETE', `${dir} has no ${MANIFEST}: the backup did not finish`)
      : new BackupError('BACKUP_NOT_FOUND', `no backup at ${dir}`);
  }
  const parsed = backupManifest.safeParse(JSON.parse(text));
  if (!parsed.success) throw new BackupError('BACKUP_CORRUPT', `${dir}/${MANIFEST} is not a backup manifest`);
  const unknown = parsed.data.migrations.filter((m) => !(m in migrations));
  if (unknown.length > 0) {
    throw new BackupError(
      'BACKUP_TOO_NEW',
      `the backup was taken by Yizhan Hub ${parsed.data.app.version}, whose state has migrations this hub does not know (${unknown.join(', ')}): restore it with that version or a newer one`,
    );
  }
  return parsed.data;
}

/**
 * Copies a backup into an empty data directory (and journal directory), checking every file's
 * checksum first. The hub must be stopped; it then starts on the restored files as after a clean
 * stop, and replays the journal copy into the store.
 */
export async function restoreBackup(dir: string, target: RestoreTarget): Promise<BackupManifest> {
  const manifest = await readManifest(dir);
  for (const d of new Set([target.dataDir, target.journalDir])) {
    if (!(await isEmptyDir(d))) {
      throw new BackupError(
        'RESTORE_TARGET_NOT_EMPTY',
        `${d} is not empty: restore into an empty data directory (move the old one aside first)`,
      );
    }
  }
  if (manifest.state.kind === 'sqlite' && target.databaseUrl) {
    throw new BackupError(
      'BACKUP_KIND_MISMATCH',
      'the backup holds SQLite state but DATABASE_URL is set: unset it to restore into SQLite',
    );
  }
  if (manifest.telemetry.kind === 'duckdb' && target.influx) {
    throw new BackupError(
      'BACKUP_KIND_MISMATCH',
      'the backup holds DuckDB telemetry but INFLUX_URL is set: unset it to restore into DuckDB',
    );
  }
  for (const f of manifest.files) {
    const sum = await sha256File(path.join(dir, f.name)).catch(() => 'missing');
    if (sum !== f.sha256)
      throw new BackupError(
        'BACKUP_CORRUPT',
        `${f.name} in ${dir} is ${sum === 'missing' ? 'missing' : 'damaged (checksum differs)'}`,
      );
  }
  await fs.mkdir(target.dataDir, { recursive: true });
  await fs.mkdir(target.journalDir, { recursive: true });
  for (const f of manifest.files) {
    const into = f.name === JOURNAL_FILE ? target.journalDir : target.dataDir;
    await fs.copyFile(path.join(dir, f.name), path.join(into, f.name));
  }
  return manifest;
}

/** What else the operator must do after a restore (PostgreSQL state, InfluxDB telemetry). */
export function restoreNotes(manifest: BackupManifest): string[] {
  return manifest.notes.map((n) => (n === PG_NOTE ? `${n} (this backup does not hold it)` : n));
}
