import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

/**
 * Security headers on every reply (issue 8 item 2), from the ecosystem's plugin. The policy is the
 * narrowest the dashboard, the booking page and /docs work under (tests/security-headers.browser):
 * Vite emits no inline script or style, Vue and ECharts style elements through the CSSOM, which CSP
 * does not govern, and Swagger UI 5 ships no inline code. The API, socket.io and its WebSocket are
 * all same-origin, which `connect-src 'self'` covers (CSP 3 lets 'self' match ws: and wss:).
 */
export async function securityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        // A same-site page framed the logged-in devices page with its buttons clickable (clickjacking).
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'"],
        // Not upgrade-insecure-requests: a hut's hub on a LAN is often plain HTTP, and the upgrade
        // would send every asset request to an https:// nobody serves.
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Browsers heed HSTS only over HTTPS (behind a TLS proxy); sibling hosts may still be plain HTTP.
    strictTransportSecurity: { maxAge: 180 * 24 * 3600, includeSubDomains: false },
  });
}
