import { createHash } from 'node:crypto';
import type { Role, User, UserChange } from '../../contract/index.js';
import { HubError } from '../../contract/index.js';
import { hashSecret, randomToken, USER_COST, verifySecret } from '../auth/passwords.js';
import type { EventBus } from '../bus/event-bus.js';
import type { StateDb } from './db.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

/** The id a session is known by everywhere but in its cookie. */
export const sessionId = sha256;

export interface Session {
  id: string;
  user: User;
  expiresAt: number;
}

/** Users, their site assignments (for managers) and login sessions. */
export class UserRepo {
  constructor(
    private readonly db: StateDb,
    private readonly sessionTtlMs: number,
    private readonly bus: EventBus,
  ) {}

  /**
   * Who may see what changed: the live socket listens, so an open dashboard follows a new role or
   * site assignment at once and a deleted user or closed session loses its live feed.
   */
  private emit(change: UserChange): void {
    this.bus.emit('user.changed', change);
  }

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
      const inserted = await tx
        .insertInto('users')
        .values({ username, password_hash: passwordHash, role, created_at: Date.now() })
        .onConflict((oc) => oc.column('username').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) {
        throw new HubError('USER_EXISTS', `user ${username} already exists`, [
          { path: 'body.username', message: 'already exists' },
        ]);
      }
      const { id } = inserted;
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
      .select(['id', 'username', 'role', 'must_change_password'])
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
      ...(row.must_change_password === 1 && { mustChangePassword: true }),
    };
  }

  async byName(username: string): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirst();
    return row && this.get(row.id);
  }

  /** Every user with their site assignments, by user name. */
  async list(): Promise<User[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'username', 'role', 'must_change_password'])
      .orderBy('username')
      .execute();
    const assignments = await this.db
      .selectFrom('user_sites')
      .select(['user_id', 'site_id'])
      .orderBy('site_id')
      .execute();
    const sitesOf = new Map<number, string[]>();
    for (const a of assignments) sitesOf.set(a.user_id, [...(sitesOf.get(a.user_id) ?? []), a.site_id]);
    return rows.map((r) => ({
      id: r.id,
      username: r.username,
      role: r.role as Role,
      siteIds: sitesOf.get(r.id) ?? [],
      ...(r.must_change_password === 1 && { mustChangePassword: true }),
    }));
  }

  /** Replaces the role and site assignments in one transaction; open sessions follow at once. */
  async update(id: number, change: { role: Role; siteIds: string[] }): Promise<User> {
    const updated = await this.db.transaction().execute(async (tx) => {
      const res = await tx
        .updateTable('users')
        .set({ role: change.role })
        .where('id', '=', id)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      await tx.deleteFrom('user_sites').where('user_id', '=', id).execute();
      if (change.siteIds.length > 0) {
        await tx
          .insertInto('user_sites')
          .values(change.siteIds.map((site_id) => ({ user_id: id, site_id })))
          .execute();
      }
      return true;
    });
    const user = updated ? await this.get(id) : undefined;
    if (!user) throw new HubError('USER_NOT_FOUND', `no user ${id}`);
    this.emit({ type: 'updated', user });
    return user;
  }

  /**
   * Sets a new password and ends the user's other sessions: whoever knew the old one is logged out.
   * `keepSession` (a session id) survives, so an admin changing their own password stays logged in.
   * `mustChange`: a one-time password, which only opens the form to choose a new one. A lock ends.
   */
  async setPassword(
    id: number,
    password: string,
    keepSession?: string,
    opts: { mustChange?: boolean } = {},
  ): Promise<void> {
    const passwordHash = await hashSecret(password, USER_COST);
    const res = await this.db
      .updateTable('users')
      .set({
        password_hash: passwordHash,
        must_change_password: opts.mustChange ? 1 : 0,
        failed_logins: 0,
        locked_until: null,
      })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new HubError('USER_NOT_FOUND', `no user ${id}`);
    let q = this.db.deleteFrom('sessions').where('user_id', '=', id);
    if (keepSession) q = q.where('token_hash', '!=', keepSession);
    await q.execute();
    this.emit({ type: 'sessions-closed', userId: id, except: keepSession });
  }

  /** Deletes the user; their sessions and site assignments go with them (ON DELETE CASCADE). */
  async delete(id: number): Promise<void> {
    const res = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    if (Number(res.numDeletedRows) === 0) throw new HubError('USER_NOT_FOUND', `no user ${id}`);
    this.emit({ type: 'deleted', userId: id });
  }

  /** Returns the user when the password matches; the same work is done for unknown names. */
  async verify(username: string, password: string): Promise<User | undefined> {
    const r = await this.login(username, password, { lockAfter: 0, lockMs: 0 }, Date.now());
    return r.ok ? r.user : undefined;
  }

  /**
   * A login attempt, counted per account: after `lockAfter` wrong passwords in a row the account
   * is locked for `lockMs` (0: never), whichever address they came from — the per-address limit
   * alone lets a botnet guess one account slowly. While locked even the right password is refused;
   * the lock ends by itself, or when an admin sets a password. Unknown names cost the same hash.
   */
  async login(
    username: string,
    password: string,
    policy: { lockAfter: number; lockMs: number },
    now: number,
  ): Promise<{ ok: true; user: User } | { ok: false; lockedUntil?: number }> {
    const row = await this.db
      .selectFrom('users')
      .select(['id', 'password_hash', 'failed_logins', 'locked_until'])
      .where('username', '=', username)
      .executeTakeFirst();
    const matches = await verifySecret(password, row?.password_hash ?? DUMMY_HASH);
    if (!row) return { ok: false };
    const lockedUntil = row.locked_until === null ? 0 : Number(row.locked_until);
    if (lockedUntil > now) return { ok: false, lockedUntil };
    if (matches) {
      if (row.failed_logins > 0 || row.locked_until !== null) {
        await this.db
          .updateTable('users')
          .set({ failed_logins: 0, locked_until: null })
          .where('id', '=', row.id)
          .execute();
      }
      const user = await this.get(row.id);
      return user ? { ok: true, user } : { ok: false };
    }
    if (policy.lockAfter === 0) return { ok: false };
    // Counted in the database, so concurrent attempts and every hub of a cluster count together.
    const counted = await this.db
      .updateTable('users')
      .set((eb) => ({ failed_logins: eb('failed_logins', '+', 1) }))
      .where('id', '=', row.id)
      .returning('failed_logins')
      .executeTakeFirst();
    if ((counted?.failed_logins ?? 0) < policy.lockAfter) return { ok: false };
    const until = now + policy.lockMs;
    await this.db
      .updateTable('users')
      .set({ failed_logins: 0, locked_until: until })
      .where('id', '=', row.id)
      .execute();
    return { ok: false, lockedUntil: until };
  }

  /** True when `password` is this user's (for a change of password, which asks for the current one). */
  async checkPassword(id: number, password: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', id)
      .executeTakeFirst();
    return verifySecret(password, row?.password_hash ?? DUMMY_HASH).then((ok) => ok && row !== undefined);
  }

  /** The cookie carries the token; the database keeps only its hash. */
  async openSession(userId: number): Promise<{ token: string; expiresAt: number }> {
    // Expired sessions go as new ones come, so the table stays as small as the logins in use.
    await this.purgeExpiredSessions();
    const token = randomToken();
    const expiresAt = Date.now() + this.sessionTtlMs;
    await this.db
      .insertInto('sessions')
      .values({ token_hash: sha256(token), user_id: userId, expires_at: expiresAt })
      .execute();
    return { token, expiresAt };
  }

  async userForSession(token: string): Promise<User | undefined> {
    return (await this.session(token))?.user;
  }

  /** The live session a cookie token names, or undefined when it is unknown or expired. */
  async session(token: string): Promise<Session | undefined> {
    const id = sha256(token);
    const row = await this.db
      .selectFrom('sessions')
      .select(['user_id', 'expires_at'])
      .where('token_hash', '=', id)
      .executeTakeFirst();
    if (!row || Number(row.expires_at) < Date.now()) return undefined;
    const user = await this.get(row.user_id);
    return user && { id, user, expiresAt: Number(row.expires_at) };
  }

  async closeSession(token: string): Promise<void> {
    const id = sha256(token);
    await this.db.deleteFrom('sessions').where('token_hash', '=', id).execute();
    this.emit({ type: 'session-closed', sessionId: id });
  }

  async purgeExpiredSessions(): Promise<void> {
    await this.db.deleteFrom('sessions').where('expires_at', '<', Date.now()).execute();
  }
}

// A real hash of a random password, so that a wrong user name costs as much as a wrong password.
const DUMMY_HASH = await hashSecret(randomToken(), USER_COST);
