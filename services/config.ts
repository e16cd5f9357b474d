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
  HUB_JOURNAL_DIR: z
    .string()
    .optional()
    .describe('where the ingest journal (journal.sqlite) lives; HUB_DATA_DIR when unset'),
  JOURNAL_MAX_ROWS: z.coerce
    .number()
    .int()
    .min(1)
    .default(2_000_000)
    .describe('readings and events the ingest journal holds before PUBACKs are withheld'),
  JOURNAL_COMMIT_GAP_MS: z.coerce
    .number()
    .min(0)
    .max(20)
    .default(4)
    .describe(
      'least time between two journal commits: readings arriving closer together share one (0: every reading its own)',
    ),
  JOURNAL_MOVE_ROWS: z.coerce
    .number()
    .int()
    .min(1)
    .default(20_000)
    .describe('the journal is moved into the telemetry store once this many rows wait…'),
  JOURNAL_MOVE_EVERY_MS: z.coerce
    .number()
    .int()
    .min(1)
    .default(1000)
    .describe('…or once the oldest has waited this long'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'a postgres:// URL')
    .optional()
    .describe('state on this PostgreSQL server instead of SQLite in HUB_DATA_DIR'),
  DATABASE_POOL_SIZE: z.coerce
    .number()
    .int()
    .min(2)
    .max(100)
    .default(10)
    .describe('connections the hub opens to DATABASE_URL at most'),
  INFLUX_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe(
      'telemetry on this InfluxDB 2 instead of DuckDB in HUB_DATA_DIR (with INFLUX_TOKEN, _ORG, _BUCKET)',
    ),
  INFLUX_TOKEN: z.string().optional(),
  INFLUX_ORG: z.string().optional(),
  INFLUX_BUCKET: z.string().optional(),
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
  DEVICE_RATE_PER_S: z.coerce
    .number()
    .min(0.1)
    .default(20)
    .describe('messages a second one device may send on average'),
  DEVICE_RATE_BURST: z.coerce
    .number()
    .int()
    .min(1)
    .default(200)
    .describe('messages one device may send in a burst'),
  MAX_CLOCK_SKEW_S: z.coerce
    .number()
    .int()
    .min(0)
    .default(600)
    .describe('how far ahead of the hub a device clock may be'),
  MAX_READING_AGE_D: z.coerce
    .number()
    .min(0.01)
    .default(30)
    .describe('readings older than this many days are refused'),
  RAW_RETENTION_D: z.coerce
    .number()
    .min(1)
    .max(3650)
    .default(30)
    .describe('raw readings and events are purged after this many days; rollups are kept for years'),
  ROLLUP_EVERY_S: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(60)
    .describe('how often new readings are rolled up (queries include the rest from raw meanwhile)'),
  LIVE_CLIENT_MAX_QUEUE: z.coerce
    .number()
    .int()
    .min(10)
    .default(500)
    .describe('updates queued for a dashboard that stopped reading before it is dropped'),
  SESSION_TTL_H: z.coerce.number().int().min(1).default(12),
  // Screening appointments (services/appointments/).
  BOOKING_CUTOFF_MIN: z.coerce
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .default(30)
    .describe('residents cannot book or reschedule into a slot starting sooner than this'),
  PERSONAL_DATA_RETENTION_DAYS: z.coerce
    .number()
    .min(0)
    .max(3650)
    .default(30)
    .describe("residents' names and numbers are erased this many days after their session"),
  APPOINTMENT_SWEEP_S: z.coerce
    .number()
    .int()
    .min(1)
    .default(60)
    .describe('how often no-shows are marked and expired personal data is erased'),
  PUBLIC_RATE_LIMIT_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .default(60)
    .describe('requests one client address may make to the public booking API per window'),
  PUBLIC_RATE_LIMIT_WINDOW_S: z.coerce.number().int().min(1).default(60),
  LOGIN_RATE_LIMIT_MAX: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .describe('dashboard login attempts one client address may make a minute'),
  WEBHOOK_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('receives signed booking notifications'),
  WEBHOOK_SECRET: z.string().min(16).optional().describe('HMAC-SHA256 key for X-Yizhan-Signature'),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  WEBHOOK_RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(2000)
    .describe('first retry delay; each further one is four times longer'),
  TRUST_PROXY: z
    .string()
    .regex(
      /^(true|false|[\w.:/]+(\s*,\s*[\w.:/]+)*)$/,
      'true, false, or addresses and subnets, comma-separated',
    )
    .default('false')
    .transform(trustProxy)
    .describe(
      'a TLS proxy in front: its addresses or subnets, whose X-Forwarded-For/-Proto/-Host are believed',
    ),
  ALERTS: z.enum(['on', 'off']).default('on').describe('evaluate alert rules (off: benchmarks only)'),
  ALERT_RETRY_BASE_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(2000)
    .describe('first retry delay of an alert notification; each further one is four times longer'),
  HUB_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .optional()
    .describe('the dashboard as people reach it; alert messages link to its site pages'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

/**
 * fastify's `trustProxy`: whom to believe about the client's address, scheme and host. `true` trusts
 * any sender, so use it only when nothing but the proxy can reach the hub; prefer its address.
 */
function trustProxy(v: string): boolean | string {
  return v === 'true' || v === 'false' ? v === 'true' : v;
}

/** Settings that depend on each other, checked in the same pass so every problem is reported at once. */
const checkedConfigSchema = configSchema
  .refine((c) => !c.WEBHOOK_URL || c.WEBHOOK_SECRET, {
    path: ['WEBHOOK_SECRET'],
    message: 'required when WEBHOOK_URL is set: receivers must be able to verify who sent a notification',
  })
  .superRefine((c, ctx) => {
    const influx = ['INFLUX_URL', 'INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'] as const;
    if (!influx.some((k) => c[k])) return;
    for (const k of influx.filter((k) => !c[k])) {
      ctx.addIssue({ code: 'custom', path: [k], message: 'required with the other INFLUX_* settings' });
    }
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = Readonly<z.output<typeof configSchema> & { dataDir: string; journalDir: string }>;

export class ConfigError extends Error {
  readonly code = 'HUB_CONFIG_INVALID';
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // An empty variable (`HUB_ADMIN_PASSWORD= npm start`) means "not set", as in most shells' tools.
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = checkedConfigSchema.safeParse(given);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const dataDir = path.resolve(parsed.data.HUB_DATA_DIR);
  const journalDir = parsed.data.HUB_JOURNAL_DIR ? path.resolve(parsed.data.HUB_JOURNAL_DIR) : dataDir;
  return Object.freeze({ ...parsed.data, dataDir, journalDir });
}
