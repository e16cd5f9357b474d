import path from 'node:path';
import { type Broker, createBroker } from '../broker/broker.js';
import { buildApi } from './api/server.js';
import { type Appointments, createAppointments } from './appointments/module.js';
import { randomToken } from './auth/passwords.js';
import { type Config, type ConfigInput, loadConfig } from './config.js';
import { GroupCommit } from './ingest/group-commit.js';
import { Ingest } from './ingest/ingest.js';
import { DeviceRateLimit } from './ingest/rate-limit.js';
import { LiveState } from './live/live-state.js';
import { ALL_ROOM, attachLiveSocket, siteRoom } from './live/socket.js';
import { openStateDb } from './state/db.js';
import { DeviceRepo } from './state/devices.js';
import { IngestErrorLog } from './state/ingest-errors.js';
import { SiteRepo } from './state/sites.js';
import { UserRepo } from './state/users.js';
import { openDuckDbStore } from './telemetry/duckdb-store.js';

export interface Hub {
  config: Config;
  httpUrl: string;
  mqttUrl: string;
  wsUrl: string;
  /** Set when this start created the admin user and generated its password. */
  generatedAdminPassword?: string;
  broker: Broker;
  ingest: Ingest;
  appointments: Appointments;
  close(): Promise<void>;
}

export interface HubOptions {
  /** The clock of appointment rules (cut-off, no-shows, retention); tests pass their own. */
  now?: () => number;
}

/**
 * Starts the whole hub in this process: stores, broker, ingest, live state, HTTP API, socket.io and
 * the dashboard. `overrides` take precedence over the environment (tests and the demo use them).
 */
export async function startHub(overrides: ConfigInput = {}, options: HubOptions = {}): Promise<Hub> {
  const config = loadConfig({ ...process.env, ...stringify(overrides) });
  const db = await openStateDb(config.dataDir);
  const telemetry = await openDuckDbStore(path.join(config.dataDir, 'telemetry.duckdb'));
  const sites = new SiteRepo(db);
  const devices = new DeviceRepo(db);
  await devices.load();
  const users = new UserRepo(db, config.SESSION_TTL_H * 3_600_000);
  const generatedAdminPassword = await ensureAdmin(users, config);
  const ingestErrors = new IngestErrorLog(db);
  const appointments = await createAppointments({ db, sites, config, now: options.now });

  const live = new LiveState(devices, { timeZone: config.HUB_TZ, staleAfterMs: config.STALE_AFTER_S * 1000 });
  for (const site of await sites.list()) live.setSite(site);
  live.seed(await telemetry.latest());

  const commit = new GroupCommit(telemetry, 200_000, (failure) => live.setStoreFailure(failure));
  const ingest = new Ingest(
    commit,
    live,
    ingestErrors,
    {
      maxPayloadBytes: config.MAX_PAYLOAD_BYTES,
      maxFutureMs: config.MAX_CLOCK_SKEW_S * 1000,
      maxAgeMs: config.MAX_READING_AGE_D * 86_400_000,
    },
    new DeviceRateLimit(config.DEVICE_RATE_PER_S, config.DEVICE_RATE_BURST),
  );
  const broker = await createBroker({
    devices,
    // Twice the payload limit: a somewhat large payload is refused and counted with the connection
    // kept; a packet beyond this is cut off before it is buffered.
    maxPacketBytes: 2 * config.MAX_PAYLOAD_BYTES + 1024,
    ingest: (device, channel, packet) => ingest.handle(device, channel, packet),
    refused: (deviceId, code, message) => ingestErrors.record(deviceId, code, message),
    connected: (device) => live.setOnline(device, true),
    disconnected: (device) => live.setOnline(device, false),
  });

  let mqttPort = config.MQTT_PORT;
  const api = await buildApi({
    config,
    sites,
    devices,
    users,
    live,
    telemetry,
    ingest,
    ingestErrors,
    broker,
    appointments,
    mqttPort: () => mqttPort,
    ready: async () => ({
      state: await db
        .selectFrom('sites')
        .select('id')
        .limit(1)
        .execute()
        .then(
          () => true,
          () => false,
        ),
      telemetry:
        !commit.failure &&
        (await telemetry.check().then(
          () => true,
          () => false,
        )),
      broker: !broker.aedes.closed,
    }),
  });
  const socket = attachLiveSocket(api.server, live, users, {
    maxQueuedPackets: config.LIVE_CLIENT_MAX_QUEUE,
    maxBufferedBytes: 4 * 1024 * 1024,
    everyMs: 1000,
  });
  appointments.setLogger(api.log);
  appointments.live.attach((siteId, day) =>
    socket.io.to([ALL_ROOM, siteRoom(siteId)]).emit('appointments', day),
  );
  broker.attachWebSocket(api.server);

  /**
   * Graceful stop: take no new connections or publishes, write what was accepted so its PUBACKs
   * go out, then close the devices' connections and the stores.
   */
  const stopAll = async () => {
    broker.stopAccepting();
    commit.close();
    await commit.drain();
    // Let the PUBACKs of the last batch reach the sockets before they are closed.
    await new Promise((r) => setImmediate(r));
    await broker.close().catch(() => {});
    await appointments.close();
    await socket.close();
    await api.close();
    live.close();
    await ingestErrors.close();
    await telemetry.close();
    await db.destroy();
  };
  try {
    mqttPort = await broker.listen(config.MQTT_PORT, config.MQTT_HOST);
    await api.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
    await appointments.start();
  } catch (err) {
    await stopAll();
    throw err;
  }
  const httpPort = (api.server.address() as { port: number }).port;
  const host = config.HTTP_HOST === '0.0.0.0' ? '127.0.0.1' : config.HTTP_HOST;
  const mqttHost = config.MQTT_HOST === '0.0.0.0' ? '127.0.0.1' : config.MQTT_HOST;

  let closing: Promise<void> | undefined;
  return {
    config,
    httpUrl: `http://${host}:${httpPort}`,
    mqttUrl: `mqtt://${mqttHost}:${mqttPort}`,
    wsUrl: `ws://${host}:${httpPort}/mqtt`,
    generatedAdminPassword,
    broker,
    ingest,
    appointments,
    close: () => {
      closing ??= stopAll();
      return closing;
    },
  };
}

/** First start: create the admin user, with the configured password or a generated one. */
async function ensureAdmin(users: UserRepo, config: Config): Promise<string | undefined> {
  if ((await users.count()) > 0) return undefined;
  const password = config.HUB_ADMIN_PASSWORD ?? randomToken(12);
  await users.create('admin', password, 'admin');
  return config.HUB_ADMIN_PASSWORD ? undefined : password;
}

function stringify(o: ConfigInput): Record<string, string> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, String(v)]),
  );
}
