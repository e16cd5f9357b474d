import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Child, makeTempDir, removeTempDir, startChild } from './processes.js';

/** The reference brokers: Debian's Mosquitto and bare aedes, each a child process on a free port. */
export interface ReferenceBroker {
  name: string;
  version: string;
  url: string;
  child: Child;
  stop(): Promise<void>;
}

export const MOSQUITTO = '/usr/sbin/mosquitto';

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitForPort(port: number, child: Child, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (child.proc.exitCode !== null) throw new Error(`${child.name} exited:\n${child.output()}`);
    if (Date.now() > until) throw new Error(`${child.name}: port ${port} not open in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Mosquitto with its own minimal config in a temp dir, never the system's instance on 1883.
 * Limits are lifted to match aedes, which has none: no cap on in-flight QoS 1 messages to the
 * subscriber and a queue deep enough for the bench's credit window.
 */
export async function startMosquitto(): Promise<ReferenceBroker> {
  if (!fs.existsSync(MOSQUITTO)) {
    throw new Error(`${MOSQUITTO} not found: apt-get install mosquitto (Debian's package)`);
  }
  const dir = makeTempDir('mosquitto');
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence false',
      'max_inflight_messages 0',
      'max_queued_messages 100000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      // Stay the same user: dropping privileges would also clear the parent-death signal.
      `user ${os.userInfo().username}`,
    ].join('\n'),
  );
  const child = startChild('mosquitto', MOSQUITTO, ['-c', conf]);
  try {
    await waitForPort(port, child, 10_000);
  } catch (err) {
    await child.stop(1000);
    removeTempDir(dir);
    throw err;
  }
  // `mosquitto -h` prints its version and exits with status 3.
  const help = spawnSync(MOSQUITTO, ['-h'], { encoding: 'utf8' });
  const version = /mosquitto version (\S+)/.exec(`${help.stdout}${help.stderr}`)?.[1] ?? '?';
  return {
    name: 'mosquitto',
    version,
    url: `mqtt://127.0.0.1:${port}`,
    child,
    async stop() {
      await child.stop(3000);
      removeTempDir(dir);
    },
  };
}

export async function startAedes(): Promise<ReferenceBroker> {
  const script = fileURLToPath(new URL('./aedes-broker.ts', import.meta.url));
  const child = startChild('aedes', process.execPath, ['--import', 'tsx', script]);
  const m = await child.waitFor(/listening (\d+)/, 20_000).catch(async (err) => {
    await child.stop(1000);
    throw err;
  });
  const pkg = new URL('../node_modules/aedes/package.json', import.meta.url);
  const version = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version: string }).version;
  return {
    name: 'aedes',
    version,
    url: `mqtt://127.0.0.1:${m[1]}`,
    child,
    stop: () => child.stop(3000),
  };
}
