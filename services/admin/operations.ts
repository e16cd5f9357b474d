import path from 'node:path';
import { scheduledBackups } from '../backup/schedule.js';
import { oneAtATime, takeBackup } from '../backup/take.js';
import type { Config } from '../config.js';
import type { Part } from '../parts.js';
import { appliedMigrations, backupStateDb, type StateDb } from '../state/db.js';
import type { UserRepo } from '../state/users.js';
import type { TelemetryStore } from '../telemetry/store.js';
import { controlSocket } from './control-socket.js';
import { resetPassword } from './reset-password.js';

export const CONTROL_SOCKET = 'hub.sock';

/**
 * What an operator runs against a live hub: backups (on request through the control socket, and on
 * a schedule with BACKUP_DIR) and password resets. Started after the stores, stopped before them.
 */
export function operationsParts(deps: {
  config: Config;
  db: StateDb;
  users: UserRepo;
  telemetry: TelemetryStore;
  backupJournal(file: string): Promise<unknown>;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
}): { parts: Part[]; backup(dir: string): ReturnType<typeof takeBackup> } {
  const { config, db } = deps;
  const backup = oneAtATime((dir: string) =>
    takeBackup(dir, {
      state: (file) => backupStateDb(db, file),
      migrations: () => appliedMigrations(db),
      journal: deps.backupJournal,
      telemetry: deps.telemetry,
    }),
  );
  const parts: Part[] = [
    controlSocket(
      path.join(config.dataDir, CONTROL_SOCKET),
      async (request) => {
        if (request.op === 'backup') return backup(request.dir);
        return resetPassword(deps.users, request.username);
      },
      deps.log,
    ),
  ];
  if (config.BACKUP_DIR) {
    parts.push(
      scheduledBackups({
        dir: path.resolve(config.BACKUP_DIR),
        everyMs: config.BACKUP_EVERY_H * 3_600_000,
        keep: config.BACKUP_KEEP,
        backup,
        log: deps.log,
      }),
    );
  }
  return { parts, backup };
}
