import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  assertSiteVisible,
  commandSchema,
  device,
  deviceId,
  deviceInput,
  HubError,
  ingestErrorCount,
  mayNameDevice,
  provisionedDevice,
  siteId,
  TOPIC_PREFIX,
  visibleSites,
} from '../../../contract/index.js';
import { currentUser, requireUser } from '../../auth/session.js';
import { type DeviceRecord, publicDevice } from '../../state/devices.js';
import type { ApiContext } from '../context.js';

const deviceParams = z.object({ deviceId });

export function deviceRoutes(
  ctx: Pick<ApiContext, 'broker' | 'devices' | 'ingestErrors' | 'mqttPort' | 'mqttsPort' | 'sites' | 'users'>,
): FastifyPluginAsyncZod {
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
      tlsPort: ctx.mqttsPort(),
    });

    app.post(
      '/sites/:siteId/devices',
      {
        onRequest: operators,
        schema: {
          tags: ['devices'],
          summary: "Provision a device; its MQTT secret is shown this once (admins, the site's managers)",
          params: z.object({ siteId }),
          body: deviceInput,
          response: { 201: provisionedDevice },
        },
      },
      async (request, reply) => {
        const user = currentUser(request);
        assertSiteVisible(user, request.params.siteId);
        if (!mayNameDevice(user, request.params.siteId, request.body.id)) {
          throw new HubError('VALIDATION', 'invalid body', [
            { path: 'body.id', message: `a manager's device ids start with ${request.params.siteId}-` },
          ]);
        }
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
        onRequest: anyone,
        schema: {
          tags: ['devices'],
          summary: 'Devices of the sites the caller may see, or of one site',
          querystring: z.object({ siteId: siteId.optional() }),
          response: { 200: z.object({ devices: z.array(device) }) },
        },
      },
      async (request) => {
        const only = visibleSites(currentUser(request));
        const wanted = request.query.siteId;
        if (wanted) assertSiteVisible(currentUser(request), wanted);
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
          onRequest: operators,
          schema: {
            tags: ['devices'],
            summary: enabled
              ? 'Enable a disabled device again'
              : 'Disable a device: it is refused at its next connect and its live connection is dropped',
            params: deviceParams,
            response: { 200: device },
          },
        },
        async (request) => {
          const target = operable(currentUser(request), request.params.deviceId);
          // The repo tells the bus; the broker drops a disabled device's live connection too.
          const updated = await ctx.devices.setEnabled(target.id, enabled);
          return publicDevice(updated);
        },
      );
    }

    app.post(
      '/devices/:deviceId/rotate-secret',
      {
        onRequest: operators,
        schema: {
          tags: ['devices'],
          summary: 'Issue a new MQTT secret, shown this once; the old one stops working at once',
          params: deviceParams,
          response: { 200: provisionedDevice },
        },
      },
      async (request) => {
        const target = operable(currentUser(request), request.params.deviceId);
        const { device: updated, secret } = await ctx.devices.rotateSecret(target.id);
        return { device: publicDevice(updated), secret, mqtt: mqttInfo(updated) };
      },
    );

    app.post(
      '/devices/:deviceId/commands',
      {
        onRequest: operators,
        schema: {
          tags: ['devices'],
          summary: 'Send a device a command over MQTT (202 once queued)',
          params: deviceParams,
          body: commandSchema,
        },
      },
      async (request, reply) => {
        const target = operable(currentUser(request), request.params.deviceId);
        await ctx.broker.sendCommand(target, request.body);
        return reply.code(202).send({ sent: true, id: request.body.id });
      },
    );

    app.get(
      '/ingest/errors',
      {
        onRequest: anyone,
        schema: {
          tags: ['devices'],
          summary: 'Messages refused per device and reason (see the device contract)',
          querystring: z.object({ deviceId: deviceId.optional(), siteId: siteId.optional() }),
          response: { 200: z.object({ errors: z.array(ingestErrorCount) }) },
        },
      },
      async (request) => {
        const { deviceId: wanted, siteId: site } = request.query;
        if (wanted) operable(currentUser(request), wanted);
        if (site) assertSiteVisible(currentUser(request), site);
        const only = site ? [site] : visibleSites(currentUser(request));
        const ids = wanted ? [wanted] : only ? ctx.devices.list(only).map((d) => d.id) : undefined;
        return { errors: await ctx.ingestErrors.list(ids) };
      },
    );
  };
}
