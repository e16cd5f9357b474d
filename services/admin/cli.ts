import path from 'node:path';
import pino from 'pino';
import { EventBus } from '../bus/event-bus.js';
import { ConfigError, loadConfig } from '../config.js';
import { openStateDb } from '../state/db.js';
import { UserRepo } from '../state/users.js';
import { askHub } from './control-socket.js';
import { CONTROL_SOCKET } from './operations.js';
import { resetPassword } from './reset-password.js';

/**
 * `npm run admin -- reset-password USER`: a one-time password for a user who lost theirs (the first
 * admin included). Through the running hub's control socket, so its open dashboards log out at
 * once; on the state database directly when no hub runs.
 */
const [command, username] = process.argv.slice(2);

try {
  if (command !== 'reset-password' || !username) {
    console.error('usage: npm run admin -- reset-password USER');
    process.exit(2);
  }
  const config = loadConfig();
  const reply = await askHub(path.join(config.dataDir, CONTROL_SOCKET), { op: 'reset-password', username });
  let password: string;
  if (reply === undefined) {
    const db = await openStateDb(config.dataDir, { databaseUrl: config.DATABASE_URL, poolSize: 2 });
    try {
      const users = new UserRepo(
        db,
        config.SESSION_TTL_H * 3_600_000,
        new EventBus(pino({ level: 'silent' })),
      );
      ({ password } = await resetPassword(users, username));
    } finally {
      await db.destroy();
    }
  } else if (!reply.ok) {
    throw new Error(reply.message);
  } else {
    ({ password } = reply.result as { password: string });
  }
  console.log(`One-time password for ${username}: ${password}`);
  console.log(
    'Their sessions have ended; after logging in with it they must choose a new password before anything else.',
  );
} catch (err) {
  console.error(
    err instanceof ConfigError ? err.message : `reset-password failed: ${(err as Error).message}`,
  );
  process.exit(1);
}
