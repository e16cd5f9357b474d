import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { io, type Socket } from 'socket.io-client';
import type {
  ClientToServerEvents,
  DeviceKind,
  ProvisionedDevice,
  ServerToClientEvents,
  SiteInput,
} from '../../contract/index.js';
import { type Hub, type HubOptions, startHub } from '../../services/hub.js';
import { STATE_SQLITE, type StateBackend, stateBackend } from './state-backends.js';

export const ADMIN_PASSWORD = 'test-admin-password';

/** A hub on free ports and its own data directory (and state store: `state`), as the tests need it. */
export async function testHub(
  extra: Record<string, string | number> = {},
  { state, ...options }: HubOptions & { state?: StateBackend } = {},
): Promise<Hub & { dataDir: string; stateEnv: Record<string, string> }> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-test-'));
  // HUB_TEST_STATE=postgres runs every suite's hubs on PostgreSQL, each in a fresh schema.
  const fallback = process.env.HUB_TEST_STATE === 'postgres' ? stateBackend('postgres') : STATE_SQLITE;
  const store = await (state ?? fallback).create();
  const hub = await startHub(
    {
      HUB_DATA_DIR: dataDir,
      HTTP_PORT: 0,
      HTTP_HOST: '127.0.0.1',
      MQTT_PORT: 0,
      MQTT_HOST: '127.0.0.1',
      HUB_ADMIN_PASSWORD: ADMIN_PASSWORD,
      LOG_LEVEL: 'silent',
      ...store.env,
      ...extra,
    } as never,
    options,
  ).catch(async (err) => {
    await store.drop();
    throw err;
  });
  const close = hub.close;
  return {
    ...hub,
    dataDir,
    stateEnv: store.env,
    close: async () => {
      await close();
      await store.drop();
      await fs.rm(dataDir, { recursive: true, force: true });
    },
  };
}

export class ApiClient {
  cookie = '';
  constructor(readonly baseUrl: string) {}

  async login(username = 'admin', password = ADMIN_PASSWORD): Promise<Response> {
    const res = await this.request('POST', '/api/auth/login', { username, password });
    const set = res.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    return res;
  }

  request(method: string, url: string, body?: unknown): Promise<Response> {
    return fetch(this.baseUrl + url, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        // As the dashboard does: the hub refuses a bodiless write without it (CSRF).
        ...(method === 'GET' ? {} : { 'x-requested-with': 'fetch' }),
        ...(this.cookie ? { cookie: this.cookie } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async json<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await this.request(method, url, body);
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }
}

export function siteFixture(id: string, overrides: Partial<SiteInput> = {}): SiteInput {
  return {
    id,
    name: { zh: '芳华里北门健康驿站', en: 'Fanghuali North Gate Health Station' },
    type: 'health',
    community: { zh: '芳华里', en: 'Fanghuali' },
    address: { zh: '芳华里小区北门', en: 'Fanghuali North Gate' },
    lat: 36.66,
    lng: 117.12,
    openingHours: { open: '00:00', close: '00:00' },
    seats: 8,
    ...overrides,
  };
}

/** The admin of `hub`, logged in, with a site `siteId` created: where most device tests start. */
export async function adminWithSite(hub: Hub, siteId: string): Promise<ApiClient> {
  const api = new ApiClient(hub.httpUrl);
  await api.login();
  await api.json('POST', '/api/sites', siteFixture(siteId));
  return api;
}

export async function provision(
  api: ApiClient,
  siteId: string,
  deviceId: string,
  kind: DeviceKind,
): Promise<ProvisionedDevice> {
  const res = await api.json<ProvisionedDevice>('POST', `/api/sites/${siteId}/devices`, {
    id: deviceId,
    kind,
  });
  if (res.status !== 201) throw new Error(`provision ${deviceId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function connectDevice(
  url: string,
  username: string,
  password: string,
  opts: mqtt.IClientOptions = {},
) {
  return mqtt.connectAsync(url, { username, password, clientId: username, reconnectPeriod: 0, ...opts });
}

/** Resolves with the CONNACK refusal (or any connection error) of a connection that must fail. */
export function connectRefusal(
  url: string,
  username: string,
  password: string,
): Promise<Error & { code?: number }> {
  return new Promise((resolve, reject) => {
    const client: MqttClient = mqtt.connect(url, {
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    client.on('connect', () => {
      client.end(true);
      reject(new Error('connection was accepted'));
    });
    client.on('error', (err) => {
      client.end(true);
      resolve(err as Error & { code?: number });
    });
  });
}

export function liveClient(
  baseUrl: string,
  cookie: string,
): Socket<ServerToClientEvents, ClientToServerEvents> {
  return io(baseUrl, { extraHeaders: { cookie }, transports: ['websocket'], reconnection: false });
}

/** Polls until `check` returns a value other than undefined, or fails after `ms`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  ms = 5000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
