import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../../contract/index.js';

/** Methods that change state. GET and HEAD must not (so `/api/stats` resets by POST). */
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Whether a browser's `Origin` header names the host the request was sent to. The scheme is not
 * compared here: one host and port serve one scheme, and behind a TLS proxy the hub may not know it.
 */
export function originIsHost(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  try {
    return new URL(origin).host === host.toLowerCase();
  } catch {
    // `Origin: null` (a sandboxed frame, a file:// page) is nobody's own page.
    return false;
  }
}

/**
 * Refuses a state-changing request that a page of another origin could have made (issue 8): an HTML
 * form can send only urlencoded, multipart or text/plain bodies and no custom header, and SameSite=Lax
 * still sends the session cookie from a page on another port or a sibling subdomain. So every
 * mutation must be JSON or carry `X-Requested-With` (either needs a CORS preflight from another
 * origin, which the hub never grants), and a browser's `Origin` must be the hub's own.
 * Checked at onRequest, before the session, so a forged request does nothing at all.
 */
export function refuseCrossSiteWrites(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (!UNSAFE.has(request.method)) return;
    if (!isJson(request) && !request.headers['x-requested-with']) {
      throw new HubError(
        'CSRF_REFUSED',
        'a request that changes something must be Content-Type: application/json or carry X-Requested-With',
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!originIsHost(origin, request.host)) {
        throw new HubError(
          'CSRF_REFUSED',
          `origin ${origin} is not this hub (${request.host}); behind a proxy, see TRUST_PROXY`,
        );
      }
      return;
    }
    // No Origin (an old browser, or not a browser): Fetch Metadata, where sent, still tells.
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw new HubError('CSRF_REFUSED', `a ${site} request may not change anything`);
    }
  });
}

function isJson(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return type?.split(';')[0]?.trim().toLowerCase() === 'application/json';
}
