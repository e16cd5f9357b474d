import { HubError } from '../../contract/index.js';
import { randomToken } from '../auth/passwords.js';
import type { UserRepo } from '../state/users.js';

/**
 * A one-time password for a user who lost theirs: their sessions end, and the password opens
 * nothing but the form to choose a new one (must_change_password).
 */
export async function resetPassword(
  users: UserRepo,
  username: string,
): Promise<{ username: string; password: string }> {
  const user = await users.byName(username);
  if (!user) throw new HubError('USER_NOT_FOUND', `no user ${username}`);
  const password = randomToken(12);
  await users.setPassword(user.id, password, undefined, { mustChange: true });
  return { username, password };
}
