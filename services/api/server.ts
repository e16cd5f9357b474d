import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { HubError } from '../../contract/index.js';
import { alertRoutes } from '../alerts/routes.js';
import { analyticsRoutes, analyticsUnavailable } from '../analytics/routes.js';
import { appointmentRoutes } from '../appointments/routes.js';
import { publicFeedbackRoutes, staffFeedbackRoutes } from '../feedback/routes.js';
import { finderRoutes, posterRoutes } from '../finder/routes.js';
import { asyncApiDocument } from './asyncapi.js';
import type { ApiContext } from './context.js';
import { openApiOptions } from './openapi.js';
import { authRoutes } from './routes/auth.js';
import { configRoutes } from './routes/config.js';
import { deviceRoutes } from './routes/devices.js';
import { healthRoutes } from './routes/health.js';
import { siteRoutes } from './routes/sites.js';
import { telemetryRoutes } from './routes/telemetry.js';
import { userRoutes } from './routes/users.js';
import { refuseCrossSiteWrites } from './same-origin.js';
import { securityHeaders } from './security-headers.js';

export type Api = FastifyInstance;

// The built dashboard, seen from the source tree (tsx) or from the compiled one (dist/).
const here = path.dirname(fileURLToPath(import.meta.url));
const builtDashboardDir = ['../../dashboard/dist', '../../../dashboard/dist']
  .map((rel) => path.resolve(here, rel))
  .find((d) => fs.existsSync(path.join(d, 'index.html')));

export async function buildApi(ctx: ApiContext): Promise<Api> {
  const app = Fastify({
    loggerInstance: ctx.log,
    bodyLimit: 256 * 1024,
    // Behind a TLS proxy: the client's address (rate limits), https (Secure cookie) and host (Origin check).
    trustProxy: ctx.config.TRUST_PROXY,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return reply.code(400).send({
        code: 'VALIDATION',
        message: `invalid ${err.validationContext ?? 'request'}`,
        fields: err.validation.map((v) => ({
          // A whole-body issue (refine, unknown key) has instancePath '/': report it as 'body', not 'body.'.
          path: `${err.validationContext ?? ''}${v.instancePath.replaceAll('/', '.')}`.replace(/\.$/, ''),
          message: v.message ?? 'invalid',
        })),
      });
    }
    if (err instanceof HubError) {
      return reply.code(err.statusCode).send({ code: err.code, message: err.message, fields: err.fields });
    }
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ code: err.code ?? 'BAD_REQUEST', message: err.message });
    }
    request.log.error(err);
    return reply.code(500).send({ code: 'INTERNAL', message: 'internal error' });
  });

  refuseCrossSiteWrites(app);
  await securityHeaders(app);
  await app.register(cookie);
  await app.register(swagger, openApiOptions);
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // Swagger UI inserts its own <style> elements; inline style (never script) is allowed on /docs only.
    transformStaticCSP: (policy) => policy.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
    uiConfig: { validatorUrl: null },
  });

  // The MQTT side, beside the OpenAPI document; Swagger UI reads only OpenAPI, so this is JSON.
  app.get('/docs/asyncapi.json', { schema: { hide: true } }, async (request) =>
    asyncApiDocument({ hostname: request.hostname, mqttPort: ctx.mqttPort(), httpHost: request.host }),
  );

  await app.register(healthRoutes(ctx));
  await app.register(authRoutes(ctx), { prefix: '/api/auth' });
  await app.register(siteRoutes(ctx), { prefix: '/api' });
  await app.register(deviceRoutes(ctx), { prefix: '/api' });
  await app.register(telemetryRoutes(ctx), { prefix: '/api/telemetry' });
  await app.register(appointmentRoutes(ctx), { prefix: '/api' });
  await app.register(userRoutes(ctx), { prefix: '/api' });
  await app.register(configRoutes(ctx), { prefix: '/api' });
  await app.register(finderRoutes(ctx.finder, ctx.config), { prefix: '/api/public' });
  await app.register(publicFeedbackRoutes(ctx), { prefix: '/api/public' });
  await app.register(staffFeedbackRoutes(ctx), { prefix: '/api' });
  await app.register(posterRoutes(ctx), { prefix: '/api' });
  await app.register(alertRoutes(ctx), { prefix: '/api' });
  await app.register(
    ctx.analytics
      ? analyticsRoutes({
          users: ctx.users,
          analytics: ctx.analytics.service,
          rollups: ctx.analytics.rollups,
        })
      : analyticsUnavailable,
    { prefix: '/api/analytics' },
  );

  if (builtDashboardDir) {
    await app.register(fastifyStatic, {
      root: builtDashboardDir,
      wildcard: false,
      // Asset names carry a content hash, so they never change; index.html must always be fresh.
      setHeaders: (res, file) =>
        res.setHeader(
          'cache-control',
          file.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable',
        ),
    });
    // The residents' booking page is its own small entry (dashboard/book.html), not the staff app.
    app.get('/book', { schema: { hide: true } }, (_request, reply) => reply.sendFile('book.html'));
    // The public station finder (issue 16), a third entry; a site's QR code opens /stations/<id>.
    app.get('/stations', { schema: { hide: true } }, (_request, reply) => reply.sendFile('stations.html'));
    app.get('/stations/:siteId', { schema: { hide: true } }, (_request, reply) =>
      reply.sendFile('stations.html'),
    );
    app.setNotFoundHandler((request, reply) =>
      request.url.startsWith('/api/') || request.method !== 'GET'
        ? reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` })
        : reply.sendFile('index.html'),
    );
  } else {
    app.setNotFoundHandler((request, reply) =>
      reply.code(404).send({ code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}` }),
    );
  }
  return app;
}
