import { TlsFilesError } from '../broker/tls-certificates.js';
import { ConfigError } from './config.js';
import { startHub } from './hub.js';
import { DataTooNewError } from './state/data-version.js';
import { StateDbUnreachableError } from './state/postgres.js';

/** `npm start`: the hub on its configured ports, or a one-line reason why not. */
const SHUTDOWN_TIMEOUT_MS = 15_000;

try {
  const hub = await startHub();
  const mqtts = hub.mqttsUrl ? `  MQTT/TLS ${hub.mqttsUrl}` : '';
  console.log(
    `Yizhan Hub: dashboard ${hub.httpUrl}  MQTT ${hub.mqttUrl}${mqtts}  MQTT/WebSocket ${hub.wsUrl}`,
  );
  if (hub.generatedAdminPassword) {
    console.log(`First start: log in as "admin" with password ${hub.generatedAdminPassword} (shown once).`);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    // A store that hangs must not keep the process from stopping: what was not written was not
    // acknowledged either, so the devices still hold it.
    setTimeout(() => {
      console.error(`Yizhan Hub: not stopped after ${SHUTDOWN_TIMEOUT_MS / 1000} s, exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS).unref();
    await hub.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // A renewed certificate: new connections get it, open ones keep theirs (also noticed by polling).
  process.on('SIGHUP', () => hub.reloadTls());
} catch (err) {
  console.error(explain(err));
  process.exit(1);
}

function explain(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  if (err instanceof TlsFilesError) return `Yizhan Hub cannot start: ${err.message}`;
  if (err instanceof DataTooNewError) return `Yizhan Hub cannot start: ${err.message}`;
  if (err instanceof StateDbUnreachableError) {
    return `Yizhan Hub cannot start: ${err.message}. Start the server, or unset DATABASE_URL to keep state in SQLite.`;
  }
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e.code === 'EADDRINUSE') {
    const port = e.port ?? Number(/:(\d+)$/.exec(e.message)?.[1]);
    const mqtt = port === Number(process.env.MQTT_PORT ?? 1883);
    const hint = mqtt ? `MQTT_PORT=${port + 1}` : `HTTP_PORT=${port + 1}`;
    return `Yizhan Hub cannot start: port ${port} is already in use (${mqtt ? 'MQTT' : 'HTTP'}). Stop what holds it, or choose another port, e.g. ${hint} npm start`;
  }
  return `Yizhan Hub cannot start: ${(err as Error).stack ?? String(err)}`;
}
