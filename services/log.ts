import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Query parameters whose values are logged as sent. Every other value is replaced, so a search by
 * the last four digits of a number (`?q=4321`), a reason typed when opening a booking, or any
 * parameter added later stays out of the log until someone decides it is harmless (issue 15).
 */
const LOGGED_QUERY_KEYS = new Set([
  'date',
  'from',
  'to',
  'siteId',
  'deviceId',
  'metric',
  'kind',
  'bucketMs',
  'groupBy',
  'state',
  'severity',
  'limit',
  'before',
  'type',
  'sessionId',
  'bookingId',
]);

/**
 * Fields that carry a resident's name, number or booking code wherever they appear (one level
 * deep too), and credentials. `code` alone is not listed: it is also every error's code.
 */
export const REDACTED_PATHS = [
  'mobile',
  'phone',
  'name',
  'residentName',
  'confirmationCode',
  'bookingCode',
  'password',
  'secret',
  '*.mobile',
  '*.phone',
  '*.name',
  '*.residentName',
  '*.confirmationCode',
  '*.bookingCode',
  '*.password',
  '*.secret',
  'req.headers.cookie',
  'req.headers.authorization',
  'body',
  '*.body',
];

/** A URL as the log shows it: the path, and each query parameter with its value only if listed. */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  const shown = [...params].map(([k, v]) =>
    LOGGED_QUERY_KEYS.has(k) ? `${k}=${encodeURIComponent(v)}` : `${k}=[redacted]`,
  );
  return `${url.slice(0, q)}?${shown.join('&')}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  host?: string;
  socket?: { remotePort?: number } | null;
}

/** fastify's request serializer, with the query string passed through loggedUrl. */
function requestSerializer(req: LoggedRequest) {
  return {
    method: req.method,
    url: req.url === undefined ? undefined : loggedUrl(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

const REQUEST_ID = /^[\w.:-]{1,64}$/;

/**
 * Request ids: a proxy's or load balancer's `X-Request-Id` is kept, so one id follows a request
 * across both logs; otherwise a random one (fastify's default counter restarts with the process
 * and repeats across the hubs of a cluster).
 */
export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

export interface LogOptions {
  level: string;
  format: 'json' | 'pretty';
  /** Where lines go instead of stdout (tests capture them). */
  destination?: DestinationStream;
}

/**
 * The hub's root logger: JSON lines (pino), or coloured lines for people with LOG_FORMAT=pretty
 * (pino-pretty in a worker thread, so formatting costs the event loop nothing).
 */
export function createLog(opts: LogOptions): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { req: requestSerializer, err: pino.stdSerializers.err },
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.format === 'pretty') {
    return pino({
      ...options,
      transport: {
        target: 'pino-pretty',
        options: { translateTime: 'SYS:standard', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(options);
}
