import { HubError } from '../../contract/index.js';
import { randomToken } from '../auth/passwords.js';
import type { Config } from '../config.js';
import type { UserRepo } from '../state/users.js';

/** First start: create the admin user, with the configured password or a generated one. */
export async function ensureAdmin(users: UserRepo, config: Config): Promise<string | undefined> {
  if ((await users.count()) > 0) return undefined;
  const password = config.HUB_ADMIN_PASSWORD ?? randomToken(12);
  try {
    await users.create('admin', password, 'admin');
  } catch (err) {
    // Another hub of the cluster, first started at the same moment, created it.
    if (err instanceof HubError && err.code === 'USER_EXISTS') return undefined;
    throw err;
  }
  return config.HUB_ADMIN_PASSWORD ? undefined : password;
}
