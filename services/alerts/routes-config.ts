import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assertSiteVisible,
  contact,
  contactInput,
  deviceId,
  effectiveRule,
  HubError,
  ruleBody,
  ruleParams,
  ruleScopeQuery,
  silence,
  silenceInput,
  siteId,
  type User,
  visibleSites,
} from '../../contract/index.js';
import type { ApiContext } from '../api/context.js';
import { currentUser, requireUser } from '../auth/session.js';
import { toContact } from './repo.js';

const ruleUpdate = z.strictObject({ siteId, deviceId: deviceId.optional(), body: ruleBody });
const idParams = (name: string) => z.object({ [name]: z.coerce.number().int().min(1) });

/**
 * Alert configuration under `/api/alerts`: rules per site and device (admins and the site's
 * managers change them, planners read), silences (same), contact points (admins only).
 */
export function alertConfigRoutes(
  ctx: Pick<ApiContext, 'alerts' | 'devices' | 'sites' | 'users'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    const anyone = requireUser(ctx.users);
    const operators = requireUser(ctx.users, ['admin', 'manager']);
    const admins = requireUser(ctx.users, ['admin']);
    const { repo, rules } = ctx.alerts;
    const now = () => ctx.alerts.clock.now();

    /** The site must be visible (404 otherwise) and the device, if any, one of its devices. */
    const scope = async (user: User, site: string, device: string | undefined) => {
      assertSiteVisible(user, site);
      if (!(await ctx.sites.get(site))) throw new HubError('SITE_NOT_FOUND', `no site ${site}`);
      if (device === undefined) return null;
      const d = ctx.devices.get(device);
      if (!d || d.siteId !== site) throw new HubError('DEVICE_NOT_FOUND', `no device ${device}`);
      return d;
    };

    app.get(
      '/alerts/rules',
      {
        onRequest: anyone,
        schema: {
          tags: ['alerts'],
          summary: 'Alert rules in force for a site or one of its devices, and where each comes from',
          querystring: ruleScopeQuery,
          response: { 200: z.object({ rules: z.array(effectiveRule) }) },
        },
      },
      async (request) => {
        const d = await scope(currentUser(request), request.query.siteId, request.query.deviceId);
        const all = rules.resolve(request.query.siteId, d);
        return { rules: d ? all.filter((r) => r.kinds.includes(d.kind)) : all };
      },
    );

    app.put(
      '/alerts/rules/:ruleId',
      {
        onRequest: operators,
        schema: {
          tags: ['alerts'],
          summary:
            "Override a rule, or add a threshold rule, for a site or a device (admins, the site's managers)",
          params: ruleParams,
          body: ruleUpdate,
          response: { 200: z.object({ rules: z.array(effectiveRule) }) },
        },
      },
      async (request) => {
        const { siteId: site, deviceId: dev, body } = request.body;
        const d = await scope(currentUser(request), site, dev);
        rules.check(request.params.ruleId, body, d);
        await rules.set(
          { siteId: site, deviceId: d?.id ?? null, ruleId: request.params.ruleId, body },
          currentUser(request).username,
          now(),
        );
        ctx.alerts.rulesChanged();
        return { rules: rules.resolve(site, d) };
      },
    );

    app.delete(
      '/alerts/rules/:ruleId',
      {
        onRequest: operators,
        schema: {
          tags: ['alerts'],
          summary: "Drop a site's or device's override: the default applies again",
          params: ruleParams,
          querystring: ruleScopeQuery,
        },
      },
      async (request, reply) => {
        const d = await scope(currentUser(request), request.query.siteId, request.query.deviceId);
        if (!(await rules.remove(request.query.siteId, d?.id ?? null, request.params.ruleId))) {
          throw new HubError('RULE_NOT_FOUND', `no override of ${request.params.ruleId} here`);
        }
        ctx.alerts.rulesChanged();
        return reply.code(204).send();
      },
    );

    app.get(
      '/alerts/silences',
      {
        onRequest: anyone,
        schema: {
          tags: ['alerts'],
          summary: 'Maintenance windows that have not ended',
          querystring: z.strictObject({ siteId: siteId.optional() }),
          response: { 200: z.object({ silences: z.array(silence) }) },
        },
      },
      async (request) => {
        const only = visibleSites(currentUser(request));
        const q = request.query.siteId;
        if (q) assertSiteVisible(currentUser(request), q);
        return { silences: await repo.silences(q ? [q] : only, now()) };
      },
    );

    app.post(
      '/alerts/silences',
      {
        onRequest: operators,
        schema: {
          tags: ['alerts'],
          summary: 'Silence a site, device or rule for a while: alerts are recorded, not sent',
          body: silenceInput,
          response: { 201: silence },
        },
      },
      async (request, reply) => {
        await scope(currentUser(request), request.body.siteId, request.body.deviceId);
        const created = await repo.insertSilence(request.body, currentUser(request).username, now());
        await ctx.alerts.reloadSilences();
        return reply.code(201).send(created);
      },
    );

    app.delete(
      '/alerts/silences/:silenceId',
      {
        onRequest: operators,
        schema: { tags: ['alerts'], summary: 'End a silence', params: idParams('silenceId') },
      },
      async (request, reply) => {
        const id = Number((request.params as { silenceId: number }).silenceId);
        const found = await repo.silence(id);
        const only = visibleSites(currentUser(request));
        if (!found || (only && !only.includes(found.siteId)))
          throw new HubError('SILENCE_NOT_FOUND', `no silence ${id}`);
        await repo.deleteSilence(id);
        await ctx.alerts.reloadSilences();
        return reply.code(204).send();
      },
    );

    app.get(
      '/alerts/contacts',
      {
        onRequest: admins,
        schema: {
          tags: ['alerts'],
          summary: 'Contact points (admins)',
          response: { 200: z.object({ contacts: z.array(contact) }) },
        },
      },
      async () => ({ contacts: (await repo.contacts()).map(toContact) }),
    );

    app.post(
      '/alerts/contacts',
      {
        onRequest: admins,
        schema: {
          tags: ['alerts'],
          summary: 'Add a contact point: signed webhook, WeCom, DingTalk or Feishu robot (admins)',
          body: contactInput,
          response: { 201: contact },
        },
      },
      async (request, reply) => {
        const row = await repo.insertContact(request.body, now());
        await ctx.alerts.reloadContacts();
        return reply.code(201).send(toContact(row));
      },
    );

    app.put(
      '/alerts/contacts/:contactId',
      {
        onRequest: admins,
        schema: {
          tags: ['alerts'],
          summary: 'Change a contact point; its secret is kept unless a new one is given (admins)',
          params: idParams('contactId'),
          body: contactInput,
          response: { 200: contact },
        },
      },
      async (request) => {
        const id = Number((request.params as { contactId: number }).contactId);
        const row = await repo.updateContact(id, request.body);
        if (!row) throw new HubError('CONTACT_NOT_FOUND', `no contact point ${id}`);
        await ctx.alerts.reloadContacts();
        return toContact(row);
      },
    );

    app.delete(
      '/alerts/contacts/:contactId',
      {
        onRequest: admins,
        schema: {
          tags: ['alerts'],
          summary: 'Delete a contact point (admins)',
          params: idParams('contactId'),
        },
      },
      async (request, reply) => {
        const id = Number((request.params as { contactId: number }).contactId);
        if (!(await repo.deleteContact(id)))
          throw new HubError('CONTACT_NOT_FOUND', `no contact point ${id}`);
        await ctx.alerts.reloadContacts();
        return reply.code(204).send();
      },
    );
  };
}
