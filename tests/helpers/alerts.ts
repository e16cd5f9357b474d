import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MqttClient } from 'mqtt';
import type { Alert, AlertList, DeviceKind } from '../../contract/index.js';
import { topicFor } from '../../contract/index.js';
import type { Hub } from '../../services/hub.js';
import { FakeClock } from './fake-clock.js';
import { type ApiClient, connectDevice, eventually, provision, testHub } from './hub.js';

export const MIN = 60_000;

/** A hub whose alerts run on a fake clock ticking every second. */
export async function alertHub(extra: Record<string, string | number> = {}, dataDir?: string) {
  const clock = new FakeClock();
  const hub = await testHub(dataDir ? { ...extra, HUB_DATA_DIR: dataDir } : extra, {
    alerts: { clock, tickMs: 1000 },
  });
  return { hub, clock };
}

/** A provisioned, connected device that publishes readings and events with its own seq. */
export class TestDevice {
  private seq = 0;
  client!: MqttClient;
  constructor(
    readonly siteId: string,
    readonly id: string,
    readonly secret: string,
    /** Where it connects; a restarted hub listens on a new port. */
    public mqttUrl: string,
  ) {}

  static async connect(hub: Hub, api: ApiClient, siteId: string, id: string, kind: DeviceKind) {
    const p = await provision(api, siteId, id, kind);
    const d = new TestDevice(siteId, id, p.secret, hub.mqttUrl);
    await d.reconnect();
    return d;
  }

  /** Connects (again) with a Last Will, as the huts' devices do. */
  async reconnect(): Promise<void> {
    this.client = await connectDevice(this.mqttUrl, this.id, this.secret, {
      will: {
        topic: topicFor(this.siteId, this.id, 'status'),
        payload: Buffer.from('{"online":false}'),
        qos: 1,
        retain: true,
      },
    });
  }

  /** Publishes one reading and waits for its PUBACK (stored, on the bus). */
  async reading(values: Record<string, number | boolean>): Promise<void> {
    const payload = JSON.stringify({ readings: [{ seq: ++this.seq, ts: Date.now(), values }] });
    await this.client.publishAsync(topicFor(this.siteId, this.id, 'telemetry'), payload, { qos: 1 });
  }

  async event(type: string, extra: Record<string, unknown> = {}): Promise<void> {
    const payload = JSON.stringify({ events: [{ seq: ++this.seq, ts: Date.now(), type, ...extra }] });
    await this.client.publishAsync(topicFor(this.siteId, this.id, 'event'), payload, { qos: 1 });
  }

  async end(force = false): Promise<void> {
    await this.client.endAsync(force);
  }
}

export async function alertsOf(api: ApiClient, query = ''): Promise<Alert[]> {
  const res = await api.json<AlertList>('GET', `/api/alerts${query ? `?${query}` : ''}`);
  if (res.status !== 200) throw new Error(`GET /api/alerts: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.alerts;
}

/** Waits until the alert writes have landed, then returns the alerts of `ruleId`. */
export async function settledAlerts(hub: Hub, api: ApiClient, ruleId: string): Promise<Alert[]> {
  await hub.alerts.ledger.settled();
  return (await alertsOf(api)).filter((a) => a.ruleId === ruleId);
}

export function waitForAlert(api: ApiClient, match: (a: Alert) => boolean, ms = 5000): Promise<Alert> {
  return eventually(async () => (await alertsOf(api)).find(match), ms);
}

export interface Received {
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: Record<string, unknown>;
}

/** A local HTTP receiver on port 0 that records every POST; `status` is what it answers. */
export async function receiver(status = 200, reply = '{"errcode":0,"errmsg":"ok"}') {
  const got: Received[] = [];
  const state = { status };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (state.status < 300) {
        got.push({
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
          json: JSON.parse(body),
        });
      }
      res.writeHead(state.status, { 'content-type': 'application/json' }).end(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    got,
    state,
    port,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
