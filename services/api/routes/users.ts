import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  type FieldError,
  HubError,
  passwordResetBody,
  type Role,
  user,
  userCreateBody,
  userParams,
  userUpdateBody,
} from '../../../contract/index.js';
import { currentUser, requireUser, SESSION_COOKIE } from '../../auth/session.js';
import { sessionId } from '../../state/users.js';
import type { ApiContext } from '../context.js';

/**
 * User administration, admins only. Role and site changes reach open dashboards at once (the live
 * socket follows UserRepo changes); a new password or a deleted user ends their sessions.
 */
export function userRoutes(ctx: Pick<ApiContext, 'sites' | 'users'>): FastifyPluginAsyncZod {
  return async (app) => {
    const admins = requireUser(ctx.users, ['admin']);

    /** A manager runs at least one site; admins and planners see every site and are given none. */
    const checkAssignment = async (role: Role, siteIds: readonly string[]): Promise<string[]> => {
      const fields: FieldError[] = [];
      if (role === 'manager' && siteIds.length === 0) {
        fields.push({ path: 'body.siteIds', message: 'a manager needs at least one site' });
      }
      if (role !== 'manager' && siteIds.length > 0) {
        fields.push({ path: 'body.siteIds', message: `a ${role} sees every site; give no siteIds` });
      }
      const known = new Set((await ctx.sites.list(siteIds)).map((s) => s.id));
      siteIds.forEach((id, i) => {
        if (!known.has(id)) fields.push({ path: `body.siteIds.${i}`, message: `no site ${id}` });
      });
      if (fields.length > 0) throw new HubError('VALIDATION', 'invalid body', fields);
      return [...new Set(siteIds)].sort();
    };

    const existing = async (id: number) => {
      const found = await ctx.users.get(id);
      if (!found) throw new HubError('USER_NOT_FOUND', `no user ${id}`);
      return found;
    };

    app.get(
      '/users',
      {
        onRequest: admins,
        schema: {
          tags: ['users'],
          summary: 'Every user (admins)',
          response: { 200: z.object({ users: z.array(user) }) },
        },
      },
      async () => ({ users: await ctx.users.list() }),
    );

    app.post(
      '/users',
      {
        onRequest: admins,
        schema: {
          tags: ['users'],
          summary: 'Create a user with a role and, for a manager, sites (admins)',
          body: userCreateBody,
          response: { 201: user },
        },
      },
      async (request, reply) => {
        const { username, password, role } = request.body;
        const siteIds = await checkAssignment(role, request.body.siteIds);
        return reply.code(201).send(await ctx.users.create(username, password, role, siteIds));
      },
    );

    app.patch(
      '/users/:userId',
      {
        onRequest: admins,
        schema: {
          tags: ['users'],
          summary: "Change a user's role or sites; open dashboards follow at once (admins)",
          params: userParams,
          body: userUpdateBody,
          response: { 200: user },
        },
      },
      async (request) => {
        const target = await existing(request.params.userId);
        const role = request.body.role ?? target.role;
        if (target.id === currentUser(request).id && role !== 'admin') {
          throw new HubError('CANNOT_CHANGE_SELF', 'an admin cannot demote themself');
        }
        // A new role that sees every site drops the old assignments unless sites are given.
        const siteIds = request.body.siteIds ?? (role === 'manager' ? target.siteIds : []);
        return ctx.users.update(target.id, { role, siteIds: await checkAssignment(role, siteIds) });
      },
    );

    app.post(
      '/users/:userId/password',
      {
        onRequest: admins,
        schema: {
          tags: ['users'],
          summary: "Set a user's password; ends their other sessions (admins)",
          params: userParams,
          body: passwordResetBody,
        },
      },
      async (request, reply) => {
        const target = await existing(request.params.userId);
        const own = target.id === currentUser(request).id ? request.cookies[SESSION_COOKIE] : undefined;
        await ctx.users.setPassword(target.id, request.body.password, own && sessionId(own));
        return reply.code(204).send();
      },
    );

    app.delete(
      '/users/:userId',
      {
        onRequest: admins,
        schema: {
          tags: ['users'],
          summary: 'Delete a user and end their sessions (admins)',
          params: userParams,
        },
      },
      async (request, reply) => {
        if (request.params.userId === currentUser(request).id) {
          throw new HubError('CANNOT_CHANGE_SELF', 'an admin cannot delete themself');
        }
        await ctx.users.delete(request.params.userId);
        return reply.code(204).send();
      },
    );
  };
}
