import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient, eventually } from './helpers/hub.js';
import { startHubProcess } from './helpers/hub-process.js';

const startMain = (env: Record<string, string>) => startHubProcess(env);

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
    const hub = startMain({ HUB_DATA_DIR: await tmp(), MQTT_PORT: String(port), HTTP_PORT: '0' });
    const out = hub.output;
    expect(await hub.exited).toBe(1);
    holder.close();
    const lines = out.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`port ${port} is already in use`);
    expect(lines[0]).toContain(`MQTT_PORT=${port + 1}`);
  });

  it('creates an admin with a one-time password on first start and stops cleanly on SIGTERM', async () => {
    const hub = startMain({
      HUB_DATA_DIR: await tmp(),
      MQTT_PORT: '0',
      HTTP_PORT: '0',
      HUB_ADMIN_PASSWORD: '',
    });
    const url = await hub.started;
    const password = await eventually(() => /password (\S+)/.exec(hub.output.stdout)?.[1]);
    const api = new ApiClient(url);
    expect((await api.login('admin', password)).status).toBe(200);
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);
  });
});
