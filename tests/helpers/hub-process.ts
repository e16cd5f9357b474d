import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');

/** The hub as `npm start` runs it, in a child process, so a test can kill it like a power cut. */
export interface HubProcess {
  child: ChildProcess;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
  /** Resolves with the dashboard URL once the hub says it is listening. */
  started: Promise<string>;
}

export function startHubProcess(env: Record<string, string>): HubProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/main.ts'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => (output.stdout += d));
  child.stderr?.on('data', (d) => (output.stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', () => {
      const url = /dashboard (\S+)/.exec(output.stdout)?.[1];
      if (url) resolve(url);
    });
    child.once('exit', (code) => reject(new Error(`hub exited (${code}) before starting: ${output.stderr}`)));
  });
  started.catch(() => {});
  return { child, output, exited, started };
}

/** Ports that were free a moment ago, for a hub that must come back on the same ones. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer().listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** What a test undoes when it is over, last first. */
export type Cleanup = (() => Promise<unknown>)[];

/** A Cleanup run after the file's tests, each step even when an earlier one failed. */
export function cleanupAfterAll(): Cleanup {
  const cleanup: Cleanup = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => {});
  });
  return cleanup;
}

/**
 * The environment of a hub process under load: its own data directory (removed by `cleanup`), ports
 * that were free (a restarted hub comes back on the same ones), the admin's password, and device rate
 * limits that publishers at full speed stay under.
 */
export async function loadHubEnv(dirPrefix: string, adminPassword: string, cleanup: Cleanup) {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), dirPrefix));
  cleanup.push(() => fs.rm(dataDir, { recursive: true, force: true }));
  const [httpPort, mqttPort] = await freePorts(2);
  const env = {
    HUB_DATA_DIR: dataDir,
    HTTP_PORT: String(httpPort),
    MQTT_PORT: String(mqttPort),
    HUB_ADMIN_PASSWORD: adminPassword,
    DEVICE_RATE_PER_S: '1000',
    DEVICE_RATE_BURST: '1000',
  };
  return { env, dataDir, mqttUrl: `mqtt://127.0.0.1:${mqttPort}` };
}
