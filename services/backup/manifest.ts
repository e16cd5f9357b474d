import { z } from 'zod';

/** backup.json: written last, so a directory without it is an unfinished backup. */
export const MANIFEST = 'backup.json';

const file = z.object({ name: z.string(), bytes: z.number().int(), sha256: z.string() });

export const backupManifest = z.object({
  format: z.literal(1),
  app: z.object({ version: z.string() }),
  /** State migrations applied when the copy was taken: a hub restores only a backup it knows all of. */
  migrations: z.array(z.string()),
  createdAt: z.string(),
  state: z.object({ kind: z.enum(['sqlite', 'postgresql']), file: z.string().optional() }),
  telemetry: z.object({ kind: z.enum(['duckdb', 'influxdb']), file: z.string().optional() }),
  journal: z.object({ file: z.string() }),
  files: z.array(file),
  counts: z.object({
    /** Rows per state table, counted in the copy. */
    state: z.record(z.string(), z.number().int()),
    readings: z.number().int().nullable(),
    events: z.number().int().nullable(),
    /** Readings and events in the journal copy, not yet in the store copy (or both: replay is harmless). */
    journalRows: z.number().int(),
  }),
  timings: z.object({
    stateMs: z.number(),
    journalMs: z.number(),
    /** How long the store's writes waited (the journal mover's; PUBACKs never wait on a backup). */
    telemetryHeldMs: z.number(),
    totalMs: z.number(),
  }),
  /** What this backup does not hold, and the tool that backs it up instead. */
  notes: z.array(z.string()),
});
export type BackupManifest = z.infer<typeof backupManifest>;

export const STATE_FILE = 'state.sqlite';
export const TELEMETRY_FILE = 'telemetry.duckdb';
export const JOURNAL_FILE = 'journal.sqlite';

export const PG_NOTE =
  'state is on PostgreSQL (DATABASE_URL): back it up with pg_dump -Fc, restore with pg_restore';
export const INFLUX_NOTE = 'telemetry is on InfluxDB (INFLUX_URL): back it up with `influx backup`';
