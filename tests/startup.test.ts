import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from './helpers/hub.js';

const root = path.resolve(import.meta.dirname, '..');

function startMain(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'services/main.ts'], {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', HTTP_HOST: '127.0.0.1', MQTT_HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess) {
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d) => (out.stdout += d));
  child.stderr?.on('data', (d) => (out.stderr += d));
  return out;
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('npm start', () => {
  const dirs: string[] = [];
  const tmp = async () => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-start-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
  });

  it('fails with one clear line and a MQTT_PORT hint when its MQTT port is taken', async () => {
    const holder = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => holder.once('listening', r));
    const port = (holder.address() as net.AddressInfo).port;
    const child = startMain({ HUB_DATA_DIR: await tmp(), MQTT_PORT: String(port), HTTP_PORT: '0' });
    const out = collect(child);
    expect(await exited(child)).toBe(1);
    holder.close();
    const lines = out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`port ${port} is already in use`);
    expect(lines[0]).toContain(`MQTT_PORT=${port + 1}`);
  });

  it('creates an admin with a one-time password on first start and stops cleanly on SIGTERM', async () => {
    const child = startMain({
      HUB_DATA_DIR: await tmp(),
      MQTT_PORT: '0',
      HTTP_PORT: '0',
      HUB_ADMIN_PASSWORD: '',
    });
    const out = collect(child);
    const started = await new Promise<string>((resolve, reject) => {
      child.stdout?.on(
        'data',
        () => /password (\S+)/.test(out.stdout) && /dashboard (\S+)/.test(out.stdout) && resolve(out.stdout),
      );
      child.once('exit', () => reject(new Error(`exited early: ${out.stderr}`)));
    });
    const password = /password (\S+)/.exec(started)![1]!;
    const url = /dashboard (\S+)/.exec(started)![1]!;
    const api = new ApiClient(url);
    expect((await api.login('admin', password)).status).toBe(200);
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
  });
});
