import { createHash } from 'node:crypto';
import type { Role, User } from '../api/schemas.js';
import { hashSecret, randomToken, USER_COST, verifySecret } from '../auth/passwords.js';
import type { StateDb } from './db.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** Users, their site assignments (for managers) and login sessions. */
export class UserRepo {
  constructor(
    private readonly db: StateDb,
    private readonly sessionTtlMs: number,
  ) {}

  async count(): Promise<number> {
    const r = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async create(username: string, password: string, role: Role, siteIds: string[] = []): Promise<User> {
    const passwordHash = await hashSecret(password, USER_COST);
    return this.db.transaction().execute(async (tx) => {
      const { id } = await tx
        .insertInto('users')
        .values({ username, password_hash: passwordHash, role, created_at: Date.now() })
        .returning('id')
        .executeTakeFirstOrThrow();
      if (siteIds.length > 0) {
        await tx
          .insertInto('user_sites')
          .values(siteIds.map((site_id) => ({ user_id: id, site_id })))
          .execute();
      }
      return { id, username, role, siteIds };
    });
  }

  async get(id: number): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'role'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const sites = await this.db
      .selectFrom('user_sites')
      .select('site_id')
      .where('user_id', '=', id)
      .execute();
    return {
      id: row.id,
      username: row.username,
      role: row.role as Role,
      siteIds: sites.map((s) => s.site_id),
    };
  }

  /** Returns the user when the password matches; the same work is done for unknown names. */
  async verify(username: string, password: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'password_hash'])
      .where('username', '=', username)
      .executeTakeFirst();
    const ok = await verifySecret(password, row?.password_hash ?? DUMMY_HASH);
    return ok && row ? this.get(row.id) : undefined;
  }

  /** The cookie carries the token; the database keeps only its hash. */
  async openSession(userId: number): Promise<{ token: string; expiresAt: number }> {
    const token = randomToken();
    const expiresAt = Date.now() + this.sessionTtlMs;
    await this.db
      .insertInto('sessions')
      .values({ token_hash: sha256(token), user_id: userId, expires_at: expiresAt })
      .execute();
    return { token, expiresAt };
  }

  async userForSession(token: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select(['user_id', 'expires_at'])
      .where('token_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row || Number(row.expires_at) < Date.now()) return undefined;
    return this.get(row.user_id);
  }

  async closeSession(token: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('token_hash', '=', sha256(token)).execute();
  }

  async purgeExpiredSessions(): Promise<void> {
    await this.db.deleteFrom('sessions').where('expires_at', '<', Date.now()).execute();
  }
}

// A real hash of a random password, so that a wrong user name costs as much as a wrong password.
const DUMMY_HASH = await hashSecret(randomToken(), USER_COST);
