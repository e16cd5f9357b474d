import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProvisionedDevice, topicFor } from '../contract/index.js';
import { ADMIN_PASSWORD, eventually, siteFixture, testHub } from './helpers/hub.js';
import { httpsRequest, read, TestPki } from './helpers/tls-certs.js';

const SITE = 'tls-site';
const A = `${SITE}-occ-a`;
const B = `${SITE}-occ-b`;
const reading = (seq: number) =>
  JSON.stringify({ readings: [{ seq, ts: Date.now(), values: { occupancy: 3 } }] });

/** Resolves with how a connection that must not reach CONNACK ended: the error, or 'closed'. */
function refusal(url: string, opts: IClientOptions): Promise<string> {
  return new Promise((resolve, reject) => {
    const client: MqttClient = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    client.on('connect', () => {
      client.end(true);
      reject(new Error('connection was accepted'));
    });
    client.on('error', (err) => {
      client.end(true);
      resolve(`${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`);
    });
    client.on('close', () => resolve('closed'));
  });
}

/** The serial number of the certificate a new TLS connection to `port` is served. */
function servedSerial(port: number, ca: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

describe('TLS: MQTTS, WSS and HTTPS on one certificate, device certificates', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'yz-tls-'));
  const pki = new TestPki(dir);
  pki.ca('hub-ca');
  pki.ca('device-ca');
  pki.ca('other-ca');
  const hubCa = read(path.join(dir, 'hub-ca.crt'));
  const served = { cert: path.join(dir, 'served.crt'), key: path.join(dir, 'served.key') };
  const first = pki.server('hub-ca');
  fs.copyFileSync(first.cert, served.cert);
  fs.copyFileSync(first.key, served.key);
  const devCert = (ca: string, cn: string, opts: { days?: number; san?: string } = {}) => {
    const c = pki.issue(ca, cn, opts);
    return { cert: read(c.cert), key: read(c.key) };
  };

  let hub: Awaited<ReturnType<typeof testHub>>;
  let mqtts: string;
  let cookie = '';
  let secretOfA = '';
  const api = async (method: string, url: string, body?: unknown) =>
    httpsRequest(hub.httpUrl + url, { ca: hubCa, method, body, cookie });

  beforeAll(async () => {
    hub = await testHub({
      TLS_CERT: served.cert,
      TLS_KEY: served.key,
      TLS_CA: path.join(dir, 'device-ca.crt'),
      MQTTS_PORT: 0,
      TLS_WATCH_MS: 100,
    });
    mqtts = hub.mqttsUrl!;
    const login = await api('POST', '/api/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    expect(login.status).toBe(200);
    const set = String(login.headers['set-cookie']);
    // Over HTTPS the session cookie is Secure.
    expect(set).toMatch(/;\s*Secure/i);
    cookie = set.split(';')[0]!;
    expect((await api('POST', '/api/sites', siteFixture(SITE))).status).toBe(201);
    for (const id of [A, B]) {
      const res = await api('POST', `/api/sites/${SITE}/devices`, { id, kind: 'occupancy_counter' });
      expect(res.status).toBe(201);
      const provisioned = JSON.parse(res.text) as ProvisionedDevice;
      expect(provisioned.mqtt.tlsPort).toBe(Number(new URL(mqtts).port));
      if (id === A) secretOfA = provisioned.secret;
    }
  });

  afterAll(async () => {
    await hub?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves the dashboard, the API and a request id over HTTPS', async () => {
    expect(hub.httpUrl).toMatch(/^https:\/\//);
    const page = await api('GET', '/');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<div id="app"');
    const health = await api('GET', '/healthz');
    expect(health.headers['x-request-id']).toBeTruthy();
    const asyncapi = JSON.parse((await api('GET', '/docs/asyncapi.json')).text);
    expect(asyncapi.servers.tls.protocol).toBe('mqtts');
    expect(asyncapi.servers.websocket.protocol).toBe('wss');
  });

  it('a device certificate from the device CA logs in without a secret and publishes to its own topics', async () => {
    const before = hub.ingest.stats.readings;
    const client = await mqtt.connectAsync(mqtts, {
      ca: hubCa,
      ...devCert('device-ca', A),
      clientId: A,
      reconnectPeriod: 0,
    });
    await client.publishAsync(topicFor(SITE, A, 'telemetry'), reading(1), { qos: 1 });
    expect(hub.ingest.stats.readings).toBe(before + 1);
    await client.endAsync();
  });

  it('the device id may come from a SAN URI instead of the CN', async () => {
    const client = await mqtt.connectAsync(mqtts, {
      ca: hubCa,
      ...devCert('device-ca', 'ignored-cn', { san: `URI:urn:yizhan:device:${B}` }),
      clientId: B,
      reconnectPeriod: 0,
    });
    await client.publishAsync(topicFor(SITE, B, 'telemetry'), reading(2), { qos: 1 });
    await client.endAsync();
  });

  it("a certificate for one device cannot log in as another, nor publish to another's topics", async () => {
    const certA = devCert('device-ca', A);
    const asB = await refusal(mqtts, { ca: hubCa, ...certA, clientId: B, username: B });
    expect(asB).toMatch(/Bad username or password|Identifier rejected/i);
    const asBClientOnly = await refusal(mqtts, { ca: hubCa, ...certA, clientId: B });
    expect(asBClientOnly).toMatch(/Identifier rejected/i);

    const before = hub.ingest.stats.readings;
    const client = await mqtt.connectAsync(mqtts, { ca: hubCa, ...certA, clientId: A, reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    client.publish(topicFor(SITE, B, 'telemetry'), reading(3), { qos: 1 });
    await closed;
    client.end(true);
    expect(hub.ingest.stats.readings).toBe(before);
  });

  it('refuses a certificate from another CA, and an expired one, before MQTT starts', async () => {
    const before = (await stats()).broker.tlsRefused;
    const wrongCa = await refusal(mqtts, { ca: hubCa, ...devCert('other-ca', A), clientId: A });
    const expired = await refusal(mqtts, {
      ca: hubCa,
      ...devCert('device-ca', A, { days: -1 }),
      clientId: A,
    });
    for (const outcome of [wrongCa, expired]) expect(outcome).not.toMatch(/accepted/);
    await eventually(async () => ((await stats()).broker.tlsRefused >= before + 2 ? true : undefined));
  });

  it('still takes secrets over MQTTS and WSS, and refuses a device with neither', async () => {
    const viaTls = await mqtt.connectAsync(mqtts, {
      ca: hubCa,
      clientId: A,
      username: A,
      password: secretOfA,
      reconnectPeriod: 0,
    });
    await viaTls.publishAsync(topicFor(SITE, A, 'telemetry'), reading(4), { qos: 1 });
    await viaTls.endAsync();
    const viaWss = await mqtt.connectAsync(hub.wsUrl, {
      ca: hubCa,
      clientId: A,
      username: A,
      password: secretOfA,
      reconnectPeriod: 0,
    });
    expect(hub.wsUrl).toMatch(/^wss:/);
    await viaWss.publishAsync(topicFor(SITE, A, 'telemetry'), reading(5), { qos: 1 });
    await viaWss.endAsync();
    expect(await refusal(mqtts, { ca: hubCa, clientId: A })).toMatch(/Bad username or password/i);
  });

  it('a device that does not trust the hub certificate fails the handshake', async () => {
    const outcome = await refusal(mqtts, {
      ca: read(path.join(dir, 'other-ca.crt')),
      clientId: A,
      username: A,
      password: secretOfA,
    });
    expect(outcome).toMatch(/certificate|closed/i);
  });

  it('a renewed certificate is served to new connections; connected devices stay connected', async () => {
    const port = Number(new URL(mqtts).port);
    const httpPort = Number(new URL(hub.httpUrl).port);
    const oldSerial = await servedSerial(port, hubCa);
    const client = await mqtt.connectAsync(mqtts, {
      ca: hubCa,
      ...devCert('device-ca', A),
      clientId: A,
      reconnectPeriod: 0,
    });
    let closed = false;
    client.on('close', () => {
      closed = true;
    });

    // As certbot does: the new files are written beside the old ones and renamed over them.
    const next = pki.server('hub-ca');
    fs.copyFileSync(next.key, `${served.key}.new`);
    fs.copyFileSync(next.cert, `${served.cert}.new`);
    fs.renameSync(`${served.key}.new`, served.key);
    fs.renameSync(`${served.cert}.new`, served.cert);
    const newSerial = await eventually(async () => {
      const s = await servedSerial(port, hubCa);
      return s !== oldSerial ? s : undefined;
    });
    expect(await servedSerial(httpPort, hubCa)).toBe(newSerial);

    await client.publishAsync(topicFor(SITE, A, 'telemetry'), reading(6), { qos: 1 });
    expect(closed).toBe(false);

    // A broken pair (SIGHUP while the key is half-written) is refused and the current one kept.
    fs.writeFileSync(served.key, 'not a key');
    expect(hub.reloadTls()).toBe(false);
    expect(await servedSerial(port, hubCa)).toBe(newSerial);
    fs.copyFileSync(next.key, served.key);
    expect(hub.reloadTls()).toBe(true);
    await client.publishAsync(topicFor(SITE, A, 'telemetry'), reading(7), { qos: 1 });
    await client.endAsync();
  });

  async function stats(): Promise<{ broker: { tlsRefused: number } }> {
    return JSON.parse((await api('GET', '/api/stats')).text);
  }
});
