import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { ApiClient } from './hub.js';
import { type Cleanup, type HubProcess, loadHubEnv, startHubProcess } from './hub-process.js';
import { freePort } from './influxd.js';
import { stateBackend, stateBackends } from './state-backends.js';

export const REDIS_TEST_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
export const CLUSTER_PASSWORD = 'cluster-test-password';

/** Why the cluster tests cannot run here, or undefined: they need the machine's PostgreSQL and Redis. */
export async function clusterServicesMissing(): Promise<string | undefined> {
  const redis = new Redis(REDIS_TEST_URL, {
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    lazyConnect: true,
  });
  const redisUp = await redis.connect().then(
    () => redis.ping(),
    () => undefined,
  );
  redis.disconnect();
  if (!redisUp) return `no Redis at ${REDIS_TEST_URL}`;
  const backends = await stateBackends();
  if (!backends.some((b) => b.name === 'postgres')) return 'no PostgreSQL at 127.0.0.1:5432/test';
  return undefined;
}

export interface ClusterHub {
  proc: HubProcess;
  env: Record<string, string>;
  url: string;
  mqttUrl: string;
  /** The admin, logged in on this hub. */
  api: ApiClient;
}

/**
 * Hub processes linked by Redis, as `npm start` runs them: state on the machine's PostgreSQL in a
 * schema of their own, Redis keys and channels under a prefix of their own (so parallel test files
 * never meet), each hub with its own data directory and ports.
 */
export async function startCluster(
  cleanup: Cleanup,
  opts: { hubs?: number; env?: Record<string, string>; redisUrl?: string } = {},
) {
  const store = await stateBackend('postgres').create();
  cleanup.push(store.drop);
  const prefix = `yzt-${randomBytes(5).toString('hex')}`;
  const redisUrl = opts.redisUrl ?? REDIS_TEST_URL;
  cleanup.push(() => dropKeys(redisUrl, prefix));
  const shared = {
    ...store.env,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    CLUSTER_DEAD_AFTER_MS: '1500',
    ...opts.env,
  };
  // At once, as docker compose starts them: migrations and the first admin must take that.
  const hubs = await Promise.all(
    Array.from({ length: opts.hubs ?? 2 }, async (_, i) => {
      const { env, mqttUrl } = await loadHubEnv(`yz-cluster-${i}-`, CLUSTER_PASSWORD, cleanup);
      return startClusterHub({ ...env, ...shared }, mqttUrl, cleanup);
    }),
  );
  return { hubs, prefix, redisUrl };
}

export async function startClusterHub(
  env: Record<string, string>,
  mqttUrl: string,
  cleanup: Cleanup,
): Promise<ClusterHub> {
  const proc = startHubProcess(env);
  cleanup.push(async () => {
    proc.child.kill('SIGKILL');
    await proc.exited;
  });
  const url = await proc.started;
  const api = new ApiClient(url);
  await api.login('admin', CLUSTER_PASSWORD);
  return { proc, env, url, mqttUrl, api };
}

async function dropKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 500 })) {
      if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
    }
  } finally {
    redis.disconnect();
  }
}

/** A redis-server of the test's own, on a free port, in a temp dir: one test may restart it. */
export async function startRedis(cleanup: Cleanup) {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = c;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      c.stdout?.on('data', (d) => {
        out += d;
        if (/Ready to accept connections/.test(out)) resolve();
      });
      c.once('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out}`)));
    });
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGKILL');
    await new Promise((r) => c.once('exit', r));
  };
  await start();
  cleanup.push(async () => {
    await stop();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return { url: `redis://127.0.0.1:${port}`, stop, start };
}
