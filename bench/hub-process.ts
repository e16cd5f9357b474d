import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Inspector } from './inspector.js';
import { type Child, startChild } from './processes.js';

/**
 * The hub under test: `node dist/services/main.js` as a child process (its CPU and RSS are its own)
 * on free ports of 127.0.0.1, with the V8 inspector on a free port so the bench can profile it.
 */

export interface HubStats {
  ingest: {
    messages: number;
    readings: number;
    events: number;
    refused: number;
    storeFailures: number;
    /** Trees with the ingest journal: rows waiting for the store, and moves made. */
    journal?: { rows: number; maxRows: number; moves: number; movedRows: number; moveFailures: number };
  };
  connectedDevices: number;
  rssBytes: number;
  uptimeS: number;
  eventLoopDelayMs: { max: number; p99: number };
}

export interface HubProcess {
  child: Child;
  pid: number;
  httpUrl: string;
  mqttUrl: string;
  cookie: string;
  inspector: Inspector;
  get<T>(pathAndQuery: string): Promise<{ status: number; body: T; ms: number }>;
  stats(reset?: boolean): Promise<HubStats>;
  stop(): Promise<void>;
}

export const ADMIN_PASSWORD = 'bench-admin-password';
const RATE_LIMIT_OFF = 10_000_000;
const MAIN = fileURLToPath(new URL('../dist/services/main.js', import.meta.url));

export async function startHubProcess(
  dataDir: string,
  env: Record<string, string> = {},
): Promise<HubProcess> {
  if (!fs.existsSync(MAIN))
    throw new Error(`${MAIN} is missing: build first (npx tsc -p tsconfig.build.json)`);
  const child = startChild('hub', process.execPath, ['--inspect=127.0.0.1:0', MAIN], {
    env: {
      ...process.env,
      HUB_DATA_DIR: dataDir,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      MQTT_HOST: '127.0.0.1',
      MQTT_PORT: '0',
      HUB_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      // As `npm start` and the Docker image run it (see package.json).
      MALLOC_ARENA_MAX: '2',
      // 100 connections stand in for a whole fleet here, each sending far more than one device may.
      DEVICE_RATE_PER_S: String(RATE_LIMIT_OFF),
      DEVICE_RATE_BURST: String(RATE_LIMIT_OFF),
      // The finder phase is one client address asking as fast as it can: a crowd, not one visitor.
      PUBLIC_RATE_LIMIT_MAX: String(RATE_LIMIT_OFF),
      ...env,
    },
  });
  let inspector: Inspector | undefined;
  try {
    const [, inspectUrl] = await child.waitFor(/Debugger listening on (ws:\/\/\S+)/, 20_000);
    const [, httpUrl, mqttUrl] = await child.waitFor(/Yizhan Hub: dashboard (\S+)\s+MQTT (\S+)/, 60_000);
    inspector = await Inspector.connect(inspectUrl!);
    const login = await fetch(`${httpUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
    });
    if (login.status !== 200) throw new Error(`hub login: ${login.status} ${await login.text()}`);
    const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
    const get = async <T>(pathAndQuery: string) => {
      const t0 = performance.now();
      const res = await fetch(`${httpUrl}${pathAndQuery}`, { headers: { cookie } });
      const body = (await res.json()) as T;
      return { status: res.status, body, ms: performance.now() - t0 };
    };
    const post = async <T>(path: string) => {
      const res = await fetch(`${httpUrl}${path}`, {
        method: 'POST',
        headers: { cookie, 'x-requested-with': 'bench' },
      });
      return { status: res.status, body: (await res.json()) as T };
    };
    const hubInspector = inspector;
    return {
      child,
      pid: child.pid,
      httpUrl: httpUrl!,
      mqttUrl: mqttUrl!,
      cookie,
      inspector,
      get,
      async stats(reset = false) {
        const r = reset ? await post<HubStats>('/api/stats/reset') : await get<HubStats>('/api/stats');
        if (r.status !== 200) throw new Error(`/api/stats: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body;
      },
      async stop() {
        hubInspector.close();
        // SIGTERM is the hub's graceful shutdown; allow it its bounded time, then kill.
        await child.stop(20_000);
      },
    };
  } catch (err) {
    inspector?.close();
    await child.stop(1000);
    throw err;
  }
}
