import { parentPort, workerData } from 'node:worker_threads';
import mqtt from 'mqtt';
import { io } from 'socket.io-client';
import type { SiteLive } from '../contract/index.js';
import { epochNow, type ObserverSpec, type RunSpec } from './protocol.js';

/**
 * The receiving end, in its own worker thread of the load generator: a subscriber counting what a
 * reference broker delivers, or a dashboard's socket.io client watching the hub's `sites` events.
 */

export interface ObserverInit {
  observer: ObserverSpec;
  /** Int32Array over it: [sent, delivered, forgiven]; this thread adds to `delivered`. */
  credit: SharedArrayBuffer;
}

export interface Observed {
  type: 'observed';
  deliveredInWindow: number;
  deliveredTotal: number;
  siteEventsInWindow: number;
  /** Each new marker valuesTs and when it first arrived. */
  markerReceipts: { valuesTs: number; at: number }[];
  /** Device id → newest valuesTs seen in any `sites` event. */
  valuesTs: Record<string, number>;
  errors: string[];
}

const init = workerData as ObserverInit;
const port = parentPort!;
const credit = new Int32Array(init.credit);
const errors: string[] = [];
const note = (what: string) => {
  if (errors.length < 20) errors.push(what);
};

let window = { from: Infinity, to: -Infinity };
const counts = { deliveredInWindow: 0, deliveredTotal: 0, siteEventsInWindow: 0 };
let markerReceipts: Observed['markerReceipts'] = [];
const valuesTs = new Map<string, number>();
let arm: (run: RunSpec) => Promise<void>;
let close: () => Promise<void>;

const inWindow = (t: number) => t >= window.from && t < window.to;

if (init.observer.kind === 'mqtt') {
  const spec = init.observer;
  const client = await mqtt.connectAsync(spec.url, {
    clientId: `bench-subscriber-${process.pid}`,
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    connectTimeout: 30_000,
  });
  client.on('error', (err) => note(`subscriber: ${err.message}`));
  client.on('message', () => {
    Atomics.add(credit, 1, 1);
    counts.deliveredTotal++;
    if (inWindow(epochNow())) counts.deliveredInWindow++;
  });
  let subscribedQos: 0 | 1 | undefined;
  arm = async (run) => {
    if (subscribedQos === run.qos) return;
    if (subscribedQos !== undefined) await client.unsubscribeAsync(spec.topic);
    const granted = await client.subscribeAsync(spec.topic, { qos: run.qos });
    if (granted[0]?.qos !== run.qos) throw new Error(`subscription granted ${JSON.stringify(granted)}`);
    subscribedQos = run.qos;
  };
  close = () => client.endAsync(true);
} else {
  const spec = init.observer;
  const socket = io(spec.url, {
    extraHeaders: { cookie: spec.cookie },
    transports: ['websocket'],
    reconnection: false,
  });
  let lastMarker = 0;
  const seen = (lives: SiteLive[], at: number) => {
    for (const live of lives) {
      for (const d of live.devices) {
        const ts = d.valuesTs ?? 0;
        if (ts > (valuesTs.get(d.id) ?? 0)) valuesTs.set(d.id, ts);
        if (d.id === spec.markerDeviceId && ts > lastMarker) {
          lastMarker = ts;
          markerReceipts.push({ valuesTs: ts, at });
        }
      }
    }
  };
  socket.on('sites', (lives) => {
    const at = epochNow();
    if (inWindow(at)) counts.siteEventsInWindow += lives.length;
    seen(lives, at);
  });
  socket.on('disconnect', (reason) => note(`socket.io disconnected: ${reason}`));
  await new Promise<void>((resolve, reject) => {
    socket.once('snapshot', (s) => {
      seen(s.live, epochNow());
      resolve();
    });
    socket.once('connect_error', (err) => reject(new Error(`socket.io: ${err.message}`)));
    setTimeout(() => reject(new Error('socket.io: no snapshot within 15 s')), 15_000).unref();
  });
  arm = async () => {};
  close = async () => {
    socket.close();
  };
}

port.on('message', async (m: { type: 'arm'; run: RunSpec } | { type: 'collect' } | { type: 'close' }) => {
  try {
    if (m.type === 'arm') {
      window = { from: m.run.measureFrom, to: m.run.measureTo };
      counts.deliveredInWindow = 0;
      counts.deliveredTotal = 0;
      counts.siteEventsInWindow = 0;
      markerReceipts = [];
      errors.length = 0;
      await arm(m.run);
      port.postMessage({ type: 'armed' });
    } else if (m.type === 'collect') {
      const observed: Observed = {
        type: 'observed',
        ...counts,
        markerReceipts,
        valuesTs: Object.fromEntries(valuesTs),
        errors: [...errors],
      };
      port.postMessage(observed);
    } else {
      await close();
      port.postMessage({ type: 'closed' });
    }
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).message });
  }
});
port.postMessage({ type: 'ready' });
