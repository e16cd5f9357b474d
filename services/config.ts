import path from 'node:path';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/**
 * Every setting the hub reads, from the environment. Parsed once at start-up, reporting every
 * problem at once, then frozen so nothing can drift at run time.
 */
export const configSchema = z.object({
  HUB_DATA_DIR: z
    .string()
    .default('./data')
    .describe('where the SQLite state and DuckDB telemetry files live'),
  HTTP_HOST: z.string().default('0.0.0.0'),
  HTTP_PORT: port.default(8080).describe('HTTP API, dashboard, socket.io and MQTT over WebSocket (/mqtt)'),
  MQTT_HOST: z.string().default('0.0.0.0'),
  MQTT_PORT: port.default(1883).describe('MQTT over TCP'),
  HUB_ADMIN_PASSWORD: z
    .string()
    .min(8)
    .optional()
    .describe('password for the admin user created on first start; printed once when not given'),
  HUB_TZ: z.string().default('Asia/Shanghai').describe('time zone of opening hours and the dashboard'),
  STALE_AFTER_S: z.coerce
    .number()
    .int()
    .min(10)
    .default(300)
    .describe('a site with no data for this long is stale'),
  MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(256)
    .max(1_048_576)
    .default(32_768)
    .describe('larger MQTT payloads are refused; a packet announcing much more is cut off unread'),
  DEVICE_RATE_PER_S: z.coerce.number().min(0.1).default(20).describe('messages a second one device may send on average'),
  DEVICE_RATE_BURST: z.coerce.number().int().min(1).default(200).describe('messages one device may send in a burst'),
  MAX_CLOCK_SKEW_S: z.coerce.number().int().min(0).default(600).describe('how far ahead of the hub a device clock may be'),
  MAX_READING_AGE_D: z.coerce.number().min(0.01).default(30).describe('readings older than this many days are refused'),
  SESSION_TTL_H: z.coerce.number().int().min(1).default(12),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = Readonly<z.output<typeof configSchema> & { dataDir: string }>;

export class ConfigError extends Error {
  readonly code = 'HUB_CONFIG_INVALID';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable (`HUB_ADMIN_PASSWORD= npm start`) means "not set", as in most shells' tools.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return Object.freeze({ ...parsed.data, dataDir: path.resolve(parsed.data.HUB_DATA_DIR) });
}
