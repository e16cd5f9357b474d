import fs from 'node:fs/promises';
import path from 'node:path';
import type { Part } from '../parts.js';
import type { BackupManifest } from './manifest.js';

export interface ScheduleOptions {
  /** BACKUP_DIR: each backup goes into a new directory in it, named for its time (UTC). */
  dir: string;
  everyMs: number;
  /** BACKUP_KEEP: backups kept; older ones (and unfinished ones) are deleted after each new one. */
  keep: number;
  backup(dir: string): Promise<BackupManifest>;
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const NAME = /^yizhan-\d{8}T\d{6}Z$/;

/** `yizhan-20261201T231500Z`: sorts by time, and is a valid name on every file system. */
export function backupName(at: Date): string {
  return `yizhan-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

/** Scheduled backups with a retention count; the first one an interval after start. */
export function scheduledBackups(opts: ScheduleOptions): Part {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const run = async () => {
    const into = path.join(opts.dir, backupName(new Date()));
    try {
      const m = await opts.backup(into);
      opts.log.info(
        { dir: into, ms: Math.round(m.timings.totalMs), heldMs: Math.round(m.timings.telemetryHeldMs) },
        'scheduled backup taken',
      );
      await prune(opts.dir, opts.keep);
    } catch (err) {
      opts.log.error({ err, dir: into }, 'scheduled backup failed');
    }
  };
  return {
    name: 'scheduled backups',
    async start() {
      await fs.mkdir(opts.dir, { recursive: true });
      timer = setInterval(() => {
        running ??= run().finally(() => (running = undefined));
      }, opts.everyMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

/** Keeps the newest `keep` finished backups; deletes older ones and unfinished ones. */
export async function prune(dir: string, keep: number): Promise<string[]> {
  const names = (await fs.readdir(dir)).filter((n) => NAME.test(n)).sort();
  const finished: string[] = [];
  const unfinished: string[] = [];
  for (const n of names) {
    const done = await fs.stat(path.join(dir, n, 'backup.json')).then(
      () => true,
      () => false,
    );
    (done ? finished : unfinished).push(n);
  }
  const newest = finished.at(-1) ?? '';
  // An unfinished one newer than every finished one may be the backup running now.
  const gone = [
    ...finished.slice(0, Math.max(0, finished.length - keep)),
    ...unfinished.filter((n) => n < newest),
  ];
  for (const n of gone) await fs.rm(path.join(dir, n), { recursive: true, force: true });
  return gone;
}
