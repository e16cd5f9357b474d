import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

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
