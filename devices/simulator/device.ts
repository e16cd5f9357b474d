import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type MqttClient } from 'mqtt';
import {
  commandSchema,
  type DeviceEvent,
  type DeviceKind,
  deviceKinds,
  type OpeningHours,
  type Reading,
  type Status,
  topicFor,
} from '../../contract/index.js';
import { createModel, type DeviceModel, hashSeed, mulberry32, type PatternEvent } from './patterns.js';

/**
 * One simulated device, written the way the reference firmware behaves: QoS 1 everywhere, a
 * persistent session, its own clock and sequence numbers, and a bounded buffer while offline.
 */

export interface SimulatedDeviceOptions {
  url: string;
  siteId: string;
  deviceId: string;
  kind: DeviceKind;
  secret: string;
  seats?: number;
  openingHours?: OpeningHours;
  /** A water dispenser that starts wearing out at this instant. */
  wearingSince?: number;
  /** Real milliseconds between readings. */
  intervalMs?: number;
  seed?: number;
  /** The clock the patterns follow (may run faster than real time); readings are stamped with Date.now(). */
  simTime?: () => number;
  /** First seq; defaults to Date.now() so a restarted simulator never reuses a stored (device, seq). */
  initialSeq?: number;
  bufferLimit?: number;
  batchSize?: number;
  /** First reconnect delay; doubles per failed attempt up to 30 s, with jitter. */
  reconnectMs?: number;
  fw?: string;
  /** Lines are about this device; the caller adds its id. */
  log?: (line: string) => void;
}

export interface DeviceStats {
  deviceId: string;
  kind: DeviceKind;
  connected: boolean;
  /** Next seq to be used. */
  seq: number;
  /** Readings + events handed to MQTT (each once, however often mqtt.js retransmits it). */
  sent: number;
  /** Readings + events whose PUBACK came back. */
  acked: number;
  buffered: number;
  dropped: number;
  lastError: string | null;
}

type Outgoing = { channel: 'telemetry'; body: Reading } | { channel: 'event'; body: DeviceEvent };

const MAX_BACKOFF_MS = 30_000;

export class SimulatedDevice {
  readonly id: string;
  readonly kind: DeviceKind;
  lastError: string | null = null;
  private readonly opts: SimulatedDeviceOptions;
  private readonly model: DeviceModel;
  private readonly rng: () => number;
  private readonly simTime: () => number;
  private readonly log: (line: string) => void;
  private readonly supportsResult: boolean;
  private client: MqttClient | null = null;
  private timer: NodeJS.Timeout | null = null;
  private queue: Outgoing[] = [];
  private seq: number;
  private sent = 0;
  private acked = 0;
  private dropped = 0;
  private failures = 0;
  private pumping = false;
  private stopped = false;
  private loggedError: string | null = null;
  private lastTick = 0;

  constructor(opts: SimulatedDeviceOptions) {
    this.opts = opts;
    this.id = opts.deviceId;
    this.kind = opts.kind;
    const seed = opts.seed ?? 1;
    this.model = createModel(opts.kind, { ...opts, seed });
    this.rng = mulberry32(hashSeed(seed, opts.deviceId, 'link'));
    this.simTime = opts.simTime ?? Date.now;
    this.log = opts.log ?? ((line) => console.log(`${opts.deviceId}: ${line}`));
    this.seq = opts.initialSeq ?? Date.now();
    this.supportsResult = (deviceKinds[opts.kind].events as readonly string[]).includes('cmd_result');
  }

  start(): void {
    if (this.client || this.stopped) return;
    const status = this.topic('status');
    // clean: false — the broker keeps the cmd subscription and queues QoS 1 commands while the
    // device is away on a flaky 4G link, so a command sent during a dropout is not lost.
    const client = connect(this.opts.url, {
      clientId: this.id,
      username: this.id,
      password: this.opts.secret,
      clean: false,
      keepalive: 30,
      protocolVersion: 4,
      connectTimeout: 10_000,
      reconnectPeriod: this.backoff(0),
      // Keep retrying after a refused CONNACK too: a secret can be fixed on the hub side.
      reconnectOnConnackError: true,
      will: { topic: status, payload: Buffer.from(JSON.stringify({ online: false })), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => this.onConnect(client));
    client.on('reconnect', () => {
      this.failures++;
      client.options.reconnectPeriod = this.backoff(this.failures);
    });
    client.on('error', (err) => this.noteError(err));
    client.on('close', () => {
      if (this.loggedError !== null || this.stopped) return;
      this.log('connection lost, buffering');
      this.loggedError = 'connection lost';
    });
    client.on('message', (_topic, payload) => this.onCommand(payload));
    this.lastTick = this.simTime();
    this.tick();
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 5000);
  }

  /** Clean disconnect: retained offline status first, so the hub need not wait for a Last Will. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const client = this.client;
    if (!client) return;
    const connected = client.connected;
    if (connected) {
      const offline: Status = { online: false, ts: Date.now() };
      await withTimeout(
        client.publishAsync(this.topic('status'), JSON.stringify(offline), { qos: 1, retain: true }),
      );
    }
    const ended = await withTimeout(client.endAsync(!connected));
    // A connection that died while ending never calls back; drop the socket ourselves.
    if (!ended) client.stream?.destroy();
  }

  stats(): DeviceStats {
    return {
      deviceId: this.id,
      kind: this.kind,
      connected: this.client?.connected ?? false,
      seq: this.seq,
      sent: this.sent,
      acked: this.acked,
      buffered: this.queue.length,
      dropped: this.dropped,
      lastError: this.lastError,
    };
  }

  private topic(channel: 'telemetry' | 'event' | 'status' | 'cmd') {
    return topicFor(this.opts.siteId, this.id, channel);
  }

  private backoff(failures: number): number {
    const base = this.opts.reconnectMs ?? 1500;
    // Jitter so a whole fleet dropped by a hub restart does not come back in lock-step.
    return Math.round(Math.min(MAX_BACKOFF_MS, base * 2 ** failures) * (0.5 + this.rng()));
  }

  private onConnect(client: MqttClient) {
    if (this.loggedError !== null) this.log(`connected (after: ${this.loggedError})`);
    this.failures = 0;
    this.loggedError = null;
    this.lastError = null;
    client.options.reconnectPeriod = this.backoff(0);
    const rssi = -55 - Math.round(40 * this.rng()); // a roadside 4G modem: -55 to -95 dBm
    const online: Status = { online: true, fw: this.opts.fw ?? 'yz-sim/1.0.0', rssi, ts: Date.now() };
    client
      .publishAsync(this.topic('status'), JSON.stringify(online), { qos: 1, retain: true })
      .catch((err) => this.noteError(err));
    // Subscribing again is harmless when the session survived and needed when the broker lost it.
    client.subscribeAsync(this.topic('cmd'), { qos: 1 }).catch((err) => this.noteError(err));
    void this.pump();
  }

  private noteError(err: unknown) {
    if (this.stopped) return;
    const message = err instanceof Error ? err.message || err.name : String(err);
    this.lastError = message;
    // One line per distinct failure, not one per retry: a wrong secret would otherwise flood the log.
    if (message !== this.loggedError) this.log(`error: ${message}`);
    this.loggedError = message;
  }

  private tick() {
    const t = this.simTime();
    const { values, events, silent } = this.model.step(t, t - this.lastTick);
    this.lastTick = t;
    const ts = Date.now();
    // A browned-out controller measures nothing; its fault log still reaches the hub.
    if (!silent) this.enqueue({ channel: 'telemetry', body: { seq: this.seq++, ts, values } });
    for (const e of events) this.emit(e, ts);
    void this.pump();
  }

  private emit(event: PatternEvent, ts = Date.now()) {
    this.enqueue({ channel: 'event', body: { ...event, seq: this.seq++, ts } });
  }

  private enqueue(item: Outgoing) {
    this.queue.push(item);
    // A ring buffer in flash: when full, the oldest reading goes; the counter tells the hub's operator.
    if (this.queue.length > (this.opts.bufferLimit ?? 10_000)) {
      this.queue.shift();
      this.dropped++;
    }
  }

  private onCommand(payload: Buffer) {
    const text = payload.toString('utf8');
    let raw: unknown = null;
    try {
      raw = JSON.parse(text);
    } catch {}
    const parsed = commandSchema.safeParse(raw);
    if (parsed.success) {
      const result = this.model.command(parsed.data, this.simTime());
      for (const e of result.events ?? []) this.emit(e);
      this.answer(parsed.data.id, result.ok, result.message);
    } else {
      this.log(`ignored invalid command: ${text.slice(0, 200)}`);
      // Still answer when the id is usable, so whoever sent it is not left waiting for a result.
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id === 'string' && id.length > 0 && id.length <= 64)
        this.answer(id, false, 'invalid command');
    }
    void this.pump();
  }

  private answer(code: string, ok: boolean, message?: string) {
    if (this.supportsResult) this.emit({ type: 'cmd_result', code, ok, ...(message ? { message } : {}) });
  }

  /**
   * Sends the buffer oldest-first, one batch in flight at a time: a backlog goes out in order, and
   * a batch cut off mid-flight stays in mqtt.js's outgoing store and is resent (same seqs) on reconnect.
   */
  private async pump() {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.stopped && this.client?.connected && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.batchSize ?? 100);
        const readings: Reading[] = [];
        const events: DeviceEvent[] = [];
        for (const item of batch) {
          if (item.channel === 'telemetry') readings.push(item.body);
          else events.push(item.body);
        }
        await Promise.all([
          readings.length > 0 && this.publish(this.client, 'telemetry', { readings }, readings.length),
          events.length > 0 && this.publish(this.client, 'event', { events }, events.length),
        ]);
      }
    } finally {
      this.pumping = false;
    }
  }

  private async publish(client: MqttClient, channel: 'telemetry' | 'event', body: object, count: number) {
    this.sent += count;
    try {
      await client.publishAsync(this.topic(channel), JSON.stringify(body), { qos: 1 });
      this.acked += count;
    } catch (err) {
      this.noteError(err);
    }
  }
}

/** Resolves true if p settled in time: stop() must finish even when the link is gone. */
const withTimeout = (p: Promise<unknown>, ms = 3000) =>
  Promise.race([
    p.then(
      () => true,
      () => false,
    ),
    sleep(ms, false, { ref: false }),
  ]);
