import { parentPort, workerData } from 'node:worker_threads';
import mqtt, { type MqttClient } from 'mqtt';
import {
  epochNow,
  type GeneratorSetup,
  markerPayload,
  type PublisherSpec,
  type RunSpec,
  readingPayload,
} from './protocol.js';

/**
 * One worker thread of the load generator: a share of the publishers (one mqtt.js client each)
 * and, in worker 0, the marker device. Runs one RunSpec at a time and posts what it counted.
 */

export interface WorkerInit {
  url: string;
  publishers: PublisherSpec[];
  totalPublishers: number;
  marker?: GeneratorSetup['marker'];
  /** Int32Array over it: [sent, delivered, forgiven], shared with the subscriber (credit). */
  credit: SharedArrayBuffer;
}

export interface MarkerSample {
  ts: number;
  sentAt: number;
  ackAt: number;
}

export interface WorkerResult {
  type: 'result';
  sentInWindow: number;
  ackedInWindow: number;
  sentTotal: number;
  ackedTotal: number;
  unacked: number;
  latencies: Float64Array;
  /** Device (client id) → ts of its newest acknowledged reading. */
  lastAcked: Record<string, number>;
  markers: MarkerSample[];
  payloadBytes: number;
  errors: string[];
}

interface Publisher {
  spec: PublisherSpec;
  client: MqttClient;
  inflight: number;
  next: number;
  lastAckedTs: number;
}

const init = workerData as WorkerInit;
const port = parentPort!;
const credit = new Int32Array(init.credit);
const errors: string[] = [];
const note = (what: string) => {
  if (errors.length < 20) errors.push(what);
};

function connect(spec: PublisherSpec): Promise<MqttClient> {
  return mqtt
    .connectAsync(init.url, {
      clientId: spec.clientId,
      username: spec.username,
      password: spec.password,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      reconnectPeriod: 0,
      connectTimeout: 30_000,
    })
    .then((client) => {
      client.on('error', (err) => note(`${spec.clientId}: ${err.message}`));
      client.on('close', () => {
        if (!closing) note(`${spec.clientId}: connection closed`);
      });
      return client;
    });
}

async function connectAll(specs: PublisherSpec[]): Promise<MqttClient[]> {
  const clients: MqttClient[] = [];
  // A few at a time: the hub verifies each CONNECT with scrypt.
  for (let i = 0; i < specs.length; i += 10) {
    clients.push(...(await Promise.all(specs.slice(i, i + 10).map(connect))));
  }
  return clients;
}

let closing = false;
let publishers: Publisher[] = [];
let markerClient: MqttClient | undefined;

function run(spec: RunSpec): Promise<WorkerResult> {
  const inWindow = (t: number) => t >= spec.measureFrom && t < spec.measureTo;
  const latencies: number[] = [];
  const markers: MarkerSample[] = [];
  const c = { sentInWindow: 0, ackedInWindow: 0, sentTotal: 0, ackedTotal: 0, outstanding: 0, bytes: 0 };
  const blocked = new Set<Publisher>();
  const timers: NodeJS.Timeout[] = [];
  let stopping = false;
  let finish: () => void = () => {};
  for (const p of publishers) p.next = 0;

  const creditOk = () =>
    spec.credit === undefined ||
    Atomics.load(credit, 0) - Atomics.load(credit, 1) - Atomics.load(credit, 2) < spec.credit;

  const send = (p: Publisher) => {
    const ts = Date.now();
    const payload = readingPayload(spec.seqBase + p.next++, ts);
    const sentAt = epochNow();
    const counted = inWindow(sentAt);
    c.bytes += payload.length;
    c.sentTotal++;
    if (counted) c.sentInWindow++;
    c.outstanding++;
    p.inflight++;
    if (spec.credit !== undefined) Atomics.add(credit, 0, 1);
    p.client.publish(p.spec.topic, payload, { qos: spec.qos }, (err) => {
      const now = epochNow();
      p.inflight--;
      c.outstanding--;
      if (err) note(`${p.spec.clientId}: ${err.message}`);
      else {
        c.ackedTotal++;
        if (inWindow(now)) c.ackedInWindow++;
        if (counted) latencies.push(now - sentAt);
        if (ts > p.lastAckedTs) p.lastAckedTs = ts;
      }
      if (spec.mode.kind === 'window') pump(p);
      if (stopping && c.outstanding === 0) finish();
    });
  };

  const pump = (p: Publisher) => {
    if (spec.mode.kind !== 'window') return;
    while (!stopping && p.inflight < spec.mode.inflight) {
      if (!creditOk()) {
        blocked.add(p);
        return;
      }
      send(p);
    }
  };

  // Credit: a publisher blocked on it retries every millisecond. Messages a broker dropped (QoS 0)
  // would hold credit forever, so when deliveries stop for 250 ms the outstanding ones are forgiven.
  let lastDelivered = -1;
  let lastProgress = 0;
  const retryBlocked = () => {
    if (blocked.size === 0) return;
    const delivered = Atomics.load(credit, 1);
    const now = epochNow();
    if (delivered !== lastDelivered) {
      lastDelivered = delivered;
      lastProgress = now;
    } else if (now - lastProgress > 250) {
      Atomics.add(credit, 2, Atomics.load(credit, 0) - delivered - Atomics.load(credit, 2));
      lastProgress = now;
    }
    const waiting = [...blocked];
    blocked.clear();
    for (const p of waiting) pump(p);
  };

  const startPaced = (rate: number) => {
    const perMs = (rate * publishers.length) / init.totalPublishers / 1000;
    let sent = 0;
    let rr = 0;
    const maxBurst = Math.max(20, Math.ceil(perMs * 20));
    timers.push(
      setInterval(() => {
        const due = Math.floor((epochNow() - spec.startAt) * perMs) - sent;
        for (let i = 0; i < Math.min(due, maxBurst) && !stopping; i++) {
          send(publishers[rr++ % publishers.length]!);
          sent++;
        }
        // Too far behind to catch up: skip rather than burst (reported as a lower achieved rate).
        if (due > maxBurst) sent += due - maxBurst;
      }, 1),
    );
  };

  const startMarker = (m: NonNullable<WorkerInit['marker']>, client: MqttClient) => {
    let k = 0;
    let lastTs = 0;
    timers.push(
      setInterval(() => {
        if (stopping) return;
        const ts = Math.max(Math.floor(epochNow()), lastTs + 1);
        lastTs = ts;
        const sentAt = epochNow();
        const sample: MarkerSample = { ts, sentAt, ackAt: NaN };
        if (inWindow(sentAt)) markers.push(sample);
        const payload = markerPayload(spec.seqBase + k, ts, (k % 400) + 1);
        k++;
        client.publish(m.topic, payload, { qos: 1 }, (err) => {
          if (err) note(`marker: ${err.message}`);
          else sample.ackAt = epochNow();
        });
      }, m.intervalMs),
    );
  };

  return new Promise((resolve) => {
    let done = false;
    finish = () => {
      if (done) return;
      done = true;
      for (const t of timers) clearInterval(t);
      const lastAcked: Record<string, number> = {};
      for (const p of publishers) lastAcked[p.spec.clientId] = p.lastAckedTs;
      resolve({
        type: 'result',
        sentInWindow: c.sentInWindow,
        ackedInWindow: c.ackedInWindow,
        sentTotal: c.sentTotal,
        ackedTotal: c.ackedTotal,
        unacked: c.outstanding,
        latencies: Float64Array.from(latencies),
        lastAcked,
        markers,
        payloadBytes: c.sentTotal ? c.bytes / c.sentTotal : 0,
        errors: [...errors],
      });
    };
    const at = (t: number, fn: () => void) => timers.push(setTimeout(fn, Math.max(0, t - epochNow())));
    at(spec.startAt, () => {
      if (spec.mode.kind === 'window') {
        for (const p of publishers) pump(p);
        timers.push(setInterval(retryBlocked, 1));
      } else startPaced(spec.mode.rate);
      if (init.marker && markerClient) startMarker(init.marker, markerClient);
    });
    at(spec.measureTo, () => {
      stopping = true;
      if (c.outstanding === 0) finish();
      at(spec.measureTo + spec.drainMs, finish);
    });
  });
}

port.on('message', async (m: { type: 'run'; run: RunSpec } | { type: 'close' }) => {
  try {
    if (m.type === 'run') {
      errors.length = 0;
      const result = await run(m.run);
      port.postMessage(result, [result.latencies.buffer as ArrayBuffer]);
    } else {
      closing = true;
      const all = [...publishers.map((p) => p.client), ...(markerClient ? [markerClient] : [])];
      await Promise.all(all.map((c) => c.endAsync(true).catch(() => undefined)));
      port.postMessage({ type: 'closed' });
    }
  } catch (err) {
    port.postMessage({ type: 'error', message: (err as Error).stack ?? String(err) });
  }
});

try {
  const clients = await connectAll(init.publishers);
  publishers = init.publishers.map((spec, i) => ({
    spec,
    client: clients[i]!,
    inflight: 0,
    next: 0,
    lastAckedTs: 0,
  }));
  if (init.marker) markerClient = await connect(init.marker);
  port.postMessage({ type: 'ready' });
} catch (err) {
  port.postMessage({ type: 'error', message: `connect to ${init.url}: ${(err as Error).message}` });
}
