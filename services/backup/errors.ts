/** Why a backup or restore did not run; the CLI prints the message, tests assert on the code. */
export type BackupErrorCode =
  | 'BACKUP_TARGET_NOT_EMPTY'
  | 'BACKUP_NOT_FOUND'
  | 'BACKUP_INCOMPLETE'
  | 'BACKUP_CORRUPT'
  | 'BACKUP_TOO_NEW'
  | 'BACKUP_KIND_MISMATCH'
  | 'RESTORE_TARGET_NOT_EMPTY'
  | 'BACKUP_BUSY';

export class BackupError extends Error {
  constructor(
    readonly code: BackupErrorCode,
    message: string,
  ) {
    super(message);
  }
}
