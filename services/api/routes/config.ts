import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { appConfig } from '../../../contract/index.js';
import type { ApiContext } from '../context.js';

/** Settings the dashboard needs before anyone logs in: nothing secret, so no session is required. */
export function configRoutes(ctx: Pick<ApiContext, 'config'>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/config',
      {
        schema: {
          tags: ['config'],
          summary: 'Settings the dashboard needs before login: time zone, staleness',
          response: { 200: appConfig },
        },
      },
      async () => ({
        timeZone: ctx.config.HUB_TZ,
        staleAfterMs: ctx.config.STALE_AFTER_S * 1000,
      }),
    );
  };
}
