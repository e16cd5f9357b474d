import fs from 'node:fs/promises';
import path from 'node:path';
import { APP_VERSION } from '../version.js';
import type { StateDb } from './db.js';
import { migrations } from './migrations.js';

/** Written into HUB_DATA_DIR at every start: which release last ran on these files. */
export const VERSION_FILE = 'hub-version.json';

/**
 * The data was written by a newer release. Migrations only go forward, and a newer release may
 * have changed the files in ways this one would misread: it refuses to start rather than guess.
 */
export class DataTooNewError extends Error {
  readonly code = 'HUB_DATA_TOO_NEW';
}

/** -1, 0, 1 for a < b, a = b, a > b, by major.minor.patch (a pre-release tag is ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) =>
    v
      .split('-')[0]!
      .split('.')
      .map((n) => Number(n) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) < (y[i] ?? 0) ? -1 : 1;
  return 0;
}

const refusal = (where: string, version: string, extra = '') =>
  new DataTooNewError(
    `${where} was written by Yizhan Hub ${version}${extra}; this is ${APP_VERSION}, which cannot read it. ` +
      `Start ${version} or newer, or restore a backup taken with ${APP_VERSION} into an empty data directory (npm run restore -- DIR)`,
  );

/** Refuses a data directory whose hub-version.json names a newer release. */
export async function checkDataDir(dataDir: string): Promise<void> {
  const text = await fs.readFile(path.join(dataDir, VERSION_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return;
  const { app } = JSON.parse(text) as { app?: string };
  if (app && compareVersions(app, APP_VERSION) > 0) throw refusal(`the data directory ${dataDir}`, app);
}

/**
 * Refuses state that has migrations this release does not know (a newer release ran on it), before
 * any migration runs; `writtenBy` is hub_meta's app_version when there is one.
 */
export function checkMigrations(applied: readonly string[], writtenBy: string | undefined): void {
  const unknown = applied.filter((m) => !(m in migrations));
  if (unknown.length === 0) return;
  throw refusal('the state database', writtenBy ?? 'a newer release', ` (migrations ${unknown.join(', ')})`);
}

/** Records this release as the last to run, in the state database and beside the files. */
export async function recordVersion(db: StateDb, dataDir: string): Promise<void> {
  await db
    .insertInto('hub_meta')
    .values({ key: 'app_version', value: APP_VERSION })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: APP_VERSION }))
    .execute();
  const body = { app: APP_VERSION, migrations: Object.keys(migrations).at(-1), at: new Date().toISOString() };
  await fs.mkdir(dataDir, { recursive: true });
  await fs.writeFile(path.join(dataDir, VERSION_FILE), `${JSON.stringify(body)}\n`);
}
