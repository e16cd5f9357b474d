import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  commandSchema,
  device,
  deviceId,
  deviceInput,
  HubError,
  ingestErrorCount,
  provisionedDevice,
  siteId,
  TOPIC_PREFIX,
} from '../../../contract/index.js';
import { assertSiteVisible, requireUser, visibleSites } from '../../auth/session.js';
import { type DeviceRecord, publicDevice } from '../../state/devices.js';
import type { ApiContext } from '../context.js';

const deviceParams = z.object({ deviceId });

export function deviceRoutes(ctx: ApiContext): FastifyPluginAsyncZod {
  return async (app) => {
    const anyone = requireUser(ctx.users);
    const operators = requireUser(ctx.users, ['admin', 'manager']);

    /** A device the caller may operate: admins any, managers only their sites' devices. */
    const operable = (user: Parameters<typeof assertSiteVisible>[0], id: string): DeviceRecord => {
      const found = ctx.devices.get(id);
      if (!found) throw new HubError('DEVICE_NOT_FOUND', `no device ${id}`);
      try {
        assertSiteVisible(user, found.siteId);
      } catch {
        throw new HubError('DEVICE_NOT_FOUND', `no device ${id}`);
      }
      return found;
    };
    /** How the device connects: shown with its secret, which is the only time the secret is known. */
    const mqttInfo = (d: DeviceRecord) => ({
      username: d.id,
      topicPrefix: `${TOPIC_PREFIX}/${d.siteId}/${d.id}`,
      port: ctx.mqttPort(),
    });

    app.post(
      '/sites/:siteId/devices',
      {
        preHandler: operators,
        schema: {
          tags: ['devices'],
          params: z.object({ siteId }),
          body: deviceInput,
          response: { 201: provisionedDevice },
        },
      },
      async (request, reply) => {
        assertSiteVisible(request.user!, request.params.siteId);
        if (!(await ctx.sites.get(request.params.siteId))) {
          throw new HubError('SITE_NOT_FOUND', `no site ${request.params.siteId}`);
        }
        const { device: created, secret } = await ctx.devices.provision(request.params.siteId, request.body);
        return reply.code(201).send({ device: publicDevice(created), secret, mqtt: mqttInfo(created) });
      },
    );

    app.get(
      '/devices',
      {
        preHandler: anyone,
        schema: {
          tags: ['devices'],
          querystring: z.object({ siteId: siteId.optional() }),
          response: { 200: z.object({ devices: z.array(device) }) },
        },
      },
      async (request) => {
        const only = visibleSites(request.user!);
        const wanted = request.query.siteId;
        if (wanted) assertSiteVisible(request.user!, wanted);
        return { devices: ctx.devices.list(wanted ? [wanted] : only).map(publicDevice) };
      },
    );

    for (const [action, enabled] of [
      ['disable', false],
      ['enable', true],
    ] as const) {
      app.post(
        `/devices/:deviceId/${action}`,
        {
          preHandler: operators,
          schema: { tags: ['devices'], params: deviceParams, response: { 200: device } },
        },
        async (request) => {
          const target = operable(request.user!, request.params.deviceId);
          // The repo tells the bus; the broker drops a disabled device's live connection too.
          const updated = await ctx.devices.setEnabled(target.id, enabled);
          return publicDevice(updated);
        },
      );
    }

    app.post(
      '/devices/:deviceId/rotate-secret',
      {
        preHandler: operators,
        schema: {
          tags: ['devices'],
          params: deviceParams,
          response: { 200: provisionedDevice },
        },
      },
      async (request) => {
        const target = operable(request.user!, request.params.deviceId);
        const { device: updated, secret } = await ctx.devices.rotateSecret(target.id);
        return { device: publicDevice(updated), secret, mqtt: mqttInfo(updated) };
      },
    );

    app.post(
      '/devices/:deviceId/commands',
      {
        preHandler: operators,
        schema: { tags: ['devices'], params: deviceParams, body: commandSchema },
      },
      async (request, reply) => {
        const target = operable(request.user!, request.params.deviceId);
        await ctx.broker.sendCommand(target, request.body);
        return reply.code(202).send({ sent: true, id: request.body.id });
      },
    );

    app.get(
      '/ingest/errors',
      {
        preHandler: anyone,
        schema: {
          tags: ['devices'],
          querystring: z.object({ deviceId: deviceId.optional(), siteId: siteId.optional() }),
          response: { 200: z.object({ errors: z.array(ingestErrorCount) }) },
        },
      },
      async (request) => {
        const { deviceId: wanted, siteId: site } = request.query;
        if (wanted) operable(request.user!, wanted);
        if (site) assertSiteVisible(request.user!, site);
        const only = site ? [site] : visibleSites(request.user!);
        const ids = wanted ? [wanted] : only ? ctx.devices.list(only).map((d) => d.id) : undefined;
        return { errors: await ctx.ingestErrors.list(ids) };
      },
    );
  };
}
