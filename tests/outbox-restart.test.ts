import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OutboxReply, ResidentBooking } from '../contract/index.js';
import { startHub } from '../services/hub.js';
import { OutboxRepo } from '../services/outbox/repo.js';
import { openStateDb } from '../services/state/db.js';
import { createSession, mobile, publicJson, WEBHOOK_SECRET } from './helpers/appointments.js';
import { ApiClient, eventually, siteFixture } from './helpers/hub.js';
import { freePorts } from './helpers/hub-process.js';
import { STATE_BACKENDS } from './helpers/state-backends-probed.js';

const PASSWORD = 'outbox-test-password';

describe.each(STATE_BACKENDS)('the notification outbox on $name', (backend) => {
  const undo: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const u of undo.reverse()) await u().catch(() => {});
  });

  it('keeps booking notifications through a restart and delivers each delivery id once when the receiver is back', async () => {
    const store = await backend.create();
    undo.push(() => store.drop());
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-outbox-'));
    undo.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    // The receiver's port, with nothing listening on it yet: the receiver is down.
    const [port] = await freePorts(1);
    const env = {
      HUB_DATA_DIR: dataDir,
      HTTP_PORT: 0,
      HTTP_HOST: '127.0.0.1',
      MQTT_PORT: 0,
      MQTT_HOST: '127.0.0.1',
      HUB_ADMIN_PASSWORD: PASSWORD,
      LOG_LEVEL: 'silent',
      PUBLIC_RATE_LIMIT_MAX: 10_000,
      WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      WEBHOOK_SECRET,
      WEBHOOK_RETRY_BASE_MS: 100,
      WEBHOOK_MAX_ATTEMPTS: 20,
      ...store.env,
    };
    let hub = await startHub(env as never);
    undo.push(() => hub.close());
    let api = new ApiClient(hub.httpUrl);
    await api.login('admin', PASSWORD);
    await api.json('POST', '/api/sites', siteFixture('ob-1'));
    const s = await createSession(api, 'ob-1', { date: '2031-03-03' });
    const codes: string[] = [];
    for (let i = 0; i < 3; i++) {
      const b = await publicJson<ResidentBooking>(hub.httpUrl, 'POST', '/api/public/bookings', {
        sessionId: s.id,
        slotStartAt: s.slots[i]!.startAt,
        name: `居民${i}`,
        mobile: mobile(7000 + i),
        screening: 'blood_pressure',
      });
      expect(b.status).toBe(201);
      codes.push(b.body.code);
    }
    const cancelled = await publicJson(hub.httpUrl, 'POST', '/api/public/bookings/cancel', {
      code: codes[0],
      mobile: mobile(7000),
    });
    expect(cancelled.status).toBe(200);

    // Admins see all four waiting, each with why its last attempt failed.
    const failing = await eventually(async () => {
      const r = await api.json<OutboxReply>('GET', '/api/admin/outbox?state=pending');
      const tried = r.body.deliveries.filter((d) => d.attempts >= 1 && d.lastError);
      return tried.length === 4 ? r.body : undefined;
    }, 10_000);
    expect(failing.counts.pending).toBe(4);
    expect(failing.deliveries.map((d) => d.event).sort()).toEqual([
      'booking.cancelled',
      'booking.created',
      'booking.created',
      'booking.created',
    ]);
    expect(failing.deliveries[0]!.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    // Only admins.
    const manager = new ApiClient(hub.httpUrl);
    expect((await manager.json('GET', '/api/admin/outbox')).status).toBe(401);
    await hub.close();

    const received: string[] = [];
    const receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['x-yizhan-delivery']));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(port, '127.0.0.1', r));
    undo.push(() => new Promise((r) => receiver.close(r)));

    hub = await startHub(env as never);
    undo.push(() => hub.close());
    await eventually(() => (received.length >= 4 ? true : undefined), 15_000);
    await hub.appointments.webhook.idle();
    // Time for a duplicate to show up, were there one.
    await new Promise((r) => setTimeout(r, 500));
    expect(received.length).toBe(4);
    expect(new Set(received).size).toBe(4);
    expect(received.sort()).toEqual(failing.deliveries.map((d) => d.id).sort());

    api = new ApiClient(hub.httpUrl);
    await api.login('admin', PASSWORD);
    const after = await api.json<OutboxReply>('GET', '/api/admin/outbox');
    expect(after.body.counts).toEqual({ pending: 0, failed: 0 });
    expect(after.body.deliveries.every((d) => d.state === 'sent' && d.lastError === null)).toBe(true);
    await hub.close();
  }, 60_000);

  it('queues one delivery per id, and a delivered one never again', async () => {
    const store = await backend.create();
    undo.push(() => store.drop());
    const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-outbox-'));
    undo.push(() => fs.rm(dataDir, { recursive: true, force: true }));
    const db = await openStateDb(dataDir, { databaseUrl: store.env.DATABASE_URL });
    undo.push(() => db.destroy());
    const repo = new OutboxRepo(db);
    const row = {
      id: 'booking-1-booking.created-5',
      channel: 'booking-webhook',
      event: 'booking.created',
      body: '{}',
    };
    expect(await repo.add(row, 1000)).toBe(true);
    expect(await repo.add(row, 2000)).toBe(false);
    const [due] = await repo.due('booking-webhook', 5000, 10);
    // Two hubs see it due; only one claims it.
    expect(await repo.claim(due!, 9000)).toBe(true);
    expect(await repo.claim(due!, 9000)).toBe(false);
    await repo.sent(row.id, 1, 3000);
    expect(await repo.add(row, 4000)).toBe(false);
    expect(await repo.due('booking-webhook', 99_999, 10)).toEqual([]);
    const [listed] = await repo.list({ limit: 10 });
    expect(listed).toMatchObject({ id: row.id, state: 'sent', attempts: 1, lastError: null });
  });
});
