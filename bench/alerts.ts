import mqtt from 'mqtt';
import { io } from 'socket.io-client';
import type { Alert, ClientToServerEvents, ServerToClientEvents } from '../contract/index.js';
import type { HubProcess } from './hub-process.js';
import { type Percentiles, percentiles } from './protocol.js';

/**
 * An alert raised → shown on a dashboard: a custom threshold rule with no duration on the marker
 * site's occupancy, so each reading above it raises an alert and each one below clears it. Timed
 * from the publish (the bench process's clock) to the socket.io `alert` message an admin's
 * dashboard receives (a site and device of its own, so the load's marker never crosses the rule), while the hub carries whatever load the caller puts on it.
 */

export async function alertLatency(hub: HubProcess, cycles: number, tag = 'paced'): Promise<Percentiles> {
  const SITE = `bench-alerts-${tag}`;
  const DEVICE = `${SITE}-occ`;
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${hub.httpUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', cookie: hub.cookie },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<{ secret?: string }>;
  };
  await call('POST', '/api/sites', {
    id: SITE,
    name: { zh: '告警压测驿站', en: 'Alerts bench station' },
    type: 'health',
    community: 'bench',
    lat: 36.66,
    lng: 117.12,
    openingHours: { open: '00:00', close: '00:00' },
    seats: 8,
  });
  const { secret } = await call('POST', `/api/sites/${SITE}/devices`, {
    id: DEVICE,
    kind: 'occupancy_counter',
  });
  await call('PUT', '/api/alerts/rules/bench_crowd', {
    siteId: SITE,
    body: {
      type: 'threshold',
      enabled: true,
      severity: 'critical',
      muteWhenClosed: false,
      metric: 'occupancy',
      op: 'above',
      raise: 100,
      clear: 50,
      forMs: 0,
      clearForMs: 0,
      when: 'always',
    },
  });

  const socket = io(hub.httpUrl, {
    extraHeaders: { cookie: hub.cookie },
    transports: ['websocket'],
    reconnection: false,
  }) as import('socket.io-client').Socket<ServerToClientEvents, ClientToServerEvents>;
  await new Promise((resolve, reject) => {
    socket.once('snapshot', resolve);
    socket.once('connect_error', reject);
  });
  const device = await mqtt.connectAsync(hub.mqttUrl, {
    username: DEVICE,
    password: secret,
    clientId: DEVICE,
    reconnectPeriod: 0,
  });
  const samples: number[] = [];
  let seq = 9e14;
  const publish = (occupancy: number) =>
    device.publishAsync(
      `yz/v1/${SITE}/${DEVICE}/telemetry`,
      JSON.stringify({ readings: [{ seq: ++seq, ts: Date.now(), values: { occupancy } }] }),
      { qos: 1 },
    );
  const next = (state: Alert['state']) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${state} alert within 5 s`)), 5000);
      const on = (a: Alert) => {
        if (a.ruleId !== 'bench_crowd' || a.state !== state) return;
        clearTimeout(timer);
        socket.off('alert', on);
        resolve();
      };
      socket.on('alert', on);
    });
  try {
    for (let i = 0; i < cycles; i++) {
      const raised = next('active');
      const t0 = performance.now();
      await publish(150);
      await raised;
      samples.push(performance.now() - t0);
      const cleared = next('cleared');
      await publish(0);
      await cleared;
    }
  } finally {
    socket.disconnect();
    await device.endAsync(true);
  }
  return percentiles(samples);
}
