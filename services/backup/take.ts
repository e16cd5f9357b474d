import fs from 'node:fs/promises';
import path from 'node:path';
import type { TelemetryStore } from '../telemetry/store.js';
import { APP_VERSION } from '../version.js';
import { journalRows, stateCounts, telemetryCounts } from './counts.js';
import { BackupError } from './errors.js';
import { isEmptyDir, sha256File } from './files.js';
import {
  type BackupManifest,
  INFLUX_NOTE,
  JOURNAL_FILE,
  MANIFEST,
  PG_NOTE,
  STATE_FILE,
  TELEMETRY_FILE,
} from './manifest.js';

/** Where a backup copies from: the running hub's own handles, or the files of a stopped one. */
export interface BackupSources {
  /** Copies SQLite state; undefined on PostgreSQL. */
  state(file: string): Promise<{ pages: number } | undefined>;
  /** Applied state migrations, for PostgreSQL state (SQLite's are read from the copy). */
  migrations(): Promise<string[]>;
  /** Copies the ingest journal. */
  journal(file: string): Promise<unknown>;
  telemetry: Pick<TelemetryStore, 'snapshot'>;
}

/**
 * Takes a consistent backup into `dir` (created; refused when not empty) while devices publish.
 * The order is what makes it consistent: the journal is copied before the store, so a reading
 * acknowledged before the journal copy ended is in the journal copy, or it had been moved (and
 * released) earlier and is in the store copy, which is taken later; a reading in both is stored
 * once when the restored hub replays its journal. State is copied first, on its own: no row of
 * state refers to a reading.
 */
export async function takeBackup(dir: string, sources: BackupSources): Promise<BackupManifest> {
  if (!(await isEmptyDir(dir))) {
    throw new BackupError('BACKUP_TARGET_NOT_EMPTY', `${dir} is not empty: back up into a new directory`);
  }
  await fs.mkdir(dir, { recursive: true });
  const t0 = performance.now();
  const notes: string[] = [];

  const stateCopied = await sources.state(path.join(dir, STATE_FILE));
  const stateMs = performance.now() - t0;
  if (!stateCopied) notes.push(PG_NOTE);

  const t1 = performance.now();
  await sources.journal(path.join(dir, JOURNAL_FILE));
  const journalMs = performance.now() - t1;

  const held = sources.telemetry.snapshot
    ? await sources.telemetry.snapshot(path.join(dir, TELEMETRY_FILE))
    : undefined;
  if (!held) notes.push(INFLUX_NOTE);
  const totalMs = performance.now() - t0;

  const state = stateCopied
    ? stateCounts(path.join(dir, STATE_FILE))
    : { tables: {}, migrations: await sources.migrations() };
  const telemetry = held ? await telemetryCounts(path.join(dir, TELEMETRY_FILE)) : undefined;
  const names = [stateCopied && STATE_FILE, JOURNAL_FILE, held && TELEMETRY_FILE].filter((n): n is string =>
    Boolean(n),
  );
  const files = [];
  for (const name of names) {
    const f = path.join(dir, name);
    files.push({ name, bytes: (await fs.stat(f)).size, sha256: await sha256File(f) });
  }
  const manifest: BackupManifest = {
    format: 1,
    app: { version: APP_VERSION },
    migrations: state.migrations,
    createdAt: new Date().toISOString(),
    state: stateCopied ? { kind: 'sqlite', file: STATE_FILE } : { kind: 'postgresql' },
    telemetry: held ? { kind: 'duckdb', file: TELEMETRY_FILE } : { kind: 'influxdb' },
    journal: { file: JOURNAL_FILE },
    files,
    counts: {
      state: state.tables,
      readings: telemetry?.readings ?? null,
      events: telemetry?.events ?? null,
      journalRows: journalRows(path.join(dir, JOURNAL_FILE)),
    },
    timings: { stateMs, journalMs, telemetryHeldMs: held?.heldMs ?? 0, totalMs },
    notes,
  };
  await fs.writeFile(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** One backup at a time per hub: a second waits for none, it is refused. */
export function oneAtATime<A extends unknown[], R>(fn: (...a: A) => Promise<R>) {
  let running = false;
  return async (...a: A): Promise<R> => {
    if (running) throw new BackupError('BACKUP_BUSY', 'a backup is already running');
    running = true;
    try {
      return await fn(...a);
    } finally {
      running = false;
    }
  };
}
