import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../api/context.js';
import { publicAppointmentRoutes } from './routes-public.js';
import { sessionRoutes } from './routes-sessions.js';
import { staffAppointmentRoutes } from './routes-staff.js';

/** Every appointment route, registered under `/api`: staff routes, and `/api/public/*` for residents. */
export function appointmentRoutes(
  ctx: Pick<ApiContext, 'appointments' | 'config' | 'sites' | 'users'>,
): FastifyPluginAsyncZod {
  return async (app) => {
    await app.register(publicAppointmentRoutes(ctx), { prefix: '/public' });
    await app.register(sessionRoutes(ctx));
    await app.register(staffAppointmentRoutes(ctx));
  };
}
