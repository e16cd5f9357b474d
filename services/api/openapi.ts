import type { FastifyDynamicSwaggerOptions, SwaggerTransform } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { loginRequired, SESSION_COOKIE } from '../auth/session.js';

const description = `The HTTP API of Yizhan Hub: sites, devices, telemetry, users and screening appointments.

**Logging in.** \`POST /api/auth/login\` sets an httpOnly session cookie, \`${SESSION_COOKIE}\`; every
operation marked with the lock needs it. A manager sees only the sites assigned to them: another
site's data answers 404, as if it did not exist.

**Writes.** Every POST, PATCH and DELETE must be \`Content-Type: application/json\` or carry
\`X-Requested-With\`, and a browser's \`Origin\` must be the hub's own; otherwise 403 \`CSRF_REFUSED\`.

**Errors** are JSON \`{code, message, fields: [{path, message}]}\`; clients act on \`code\`, which is
stable, never on \`message\`.

**Devices** speak MQTT, not HTTP: see the [AsyncAPI document](/docs/asyncapi.json).`;

const apiError = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string', description: 'stable error code, e.g. VALIDATION, SITE_NOT_FOUND' },
    message: { type: 'string' },
    fields: {
      type: 'array',
      items: {
        type: 'object',
        properties: { path: { type: 'string', example: 'body.seats' }, message: { type: 'string' } },
      },
    },
  },
} as const;

const error = (text: string) => ({ description: text, ...apiError });

type Schema = Record<string, unknown> & { response?: Record<string, unknown> };

/** The errors any route of this shape can answer; a route's own codes are in its summary or the README. */
function errorResponses(route: RouteOptions, schema: Schema, guard: ReturnType<typeof loginRequired>) {
  const out: Record<string, unknown> = {};
  const url = route.url;
  const method = Array.isArray(route.method) ? route.method[0] : route.method;
  const validated = ['params', 'querystring', 'body'].some((k) => k in schema);
  if (validated) out[400] = error('VALIDATION (with the invalid fields), or a rule of the operation');
  if (guard) out[401] = error('UNAUTHENTICATED: not logged in (checked before anything else)');
  const forbidden = [
    guard?.roles ? `FORBIDDEN: needs role ${guard.roles.join(' or ')}` : undefined,
    method !== 'GET' ? 'CSRF_REFUSED: not JSON and no X-Requested-With, or another Origin' : undefined,
  ].filter(Boolean);
  if (forbidden.length > 0) out[403] = error(forbidden.join('; '));
  if (url.includes(':'))
    out[404] = error('the site, device, session, booking or user does not exist or is not yours');
  if (url.startsWith('/api/public/') || url === '/api/auth/login') out[429] = error('RATE_LIMITED');
  out[500] = error('INTERNAL: a fault of the hub, logged; the message says nothing more');
  return out;
}

/**
 * Each operation as fastify-type-provider-zod documents it, plus what every operation shares and
 * routes do not repeat: the session cookie where the route's onRequest guard asks for it (read from
 * the guard itself, so the document cannot drift from what is enforced), and its error answers.
 */
const documentRoute: SwaggerTransform = (input) => {
  const out = jsonSchemaTransform(input as Parameters<typeof jsonSchemaTransform>[0]);
  const schema = out.schema as Schema | undefined;
  if (!schema || schema.hide) return out;
  const guard = loginRequired(input.route.onRequest);
  const response = { ...schema.response, ...errorResponses(input.route, schema, guard) };
  return {
    ...out,
    schema: { ...schema, response, ...(guard ? { security: [{ session: [] }] } : { security: [] }) },
  };
};

export const openApiOptions: FastifyDynamicSwaggerOptions = {
  openapi: {
    info: { title: 'Yizhan Hub API', version: '1', description },
    components: {
      securitySchemes: {
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: SESSION_COOKIE,
          description: 'Set by POST /api/auth/login; httpOnly, SameSite=Lax, Secure over HTTPS.',
        },
      },
    },
    tags: [
      { name: 'auth', description: 'Dashboard login' },
      { name: 'sites', description: 'Health and caring stations' },
      { name: 'live', description: 'Current state; socket.io pushes the same live' },
      { name: 'devices', description: 'Provisioning and operating devices' },
      { name: 'telemetry', description: 'Stored readings and events' },
      { name: 'appointments', description: "Volunteer doctors' screening sessions and bookings (staff)" },
      { name: 'booking', description: "The residents' booking page: no login, rate-limited" },
      { name: 'users', description: 'Users, roles and site assignments (admins)' },
      { name: 'config', description: 'Settings for the dashboard' },
      { name: 'health', description: 'Liveness, readiness and counters' },
    ],
  },
  transform: documentRoute,
};
