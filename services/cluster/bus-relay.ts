import type { Redis } from 'ioredis';
import type { BusEventName, BusEvents } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';

/**
 * Events every hub must hear wherever they happened: what live state, the alerts engine and the
 * dashboards follow, caches to drop, and connections to cut. Not relayed: what one hub acts on
 * once for the cluster (`appointments.changed` sends a resident's notice), each hub's own store
 * health, and `live.sites`, which each hub derives from the relayed events: every hub's live state
 * is the whole cluster's, so no hub's partial view can overwrite another's.
 */
export const RELAYED = [
  'readings.stored',
  'events.stored',
  'status.reported',
  'device.connected',
  'device.disconnected',
  'device.refused',
  'device.changed',
  'site.changed',
  'user.changed',
  'live.appointments',
  'feedback.changed',
  'alert.changed',
  'alerts.settings',
] as const satisfies readonly BusEventName[];

type Relayed = (typeof RELAYED)[number];
type Message = { hub: string; name: Relayed | '$alive'; payload?: unknown };

export interface BusRelayOptions {
  pub: Redis;
  sub: Redis;
  channel: string;
  hub: string;
  /** A hub not heard from for this long is gone: its devices count as disconnected. */
  deadAfterMs: number;
  /** Runs before another hub's event is delivered here, e.g. to reload a cached record. */
  before?: { [K in Relayed]?: (payload: BusEvents[K]) => Promise<void> };
  /** Whether Redis can take messages now; while it cannot, live updates are dropped, not queued. */
  linkReady: () => boolean;
  onError: (err: unknown) => void;
}

/**
 * The event bus across hubs, over one Redis pub/sub channel. Another hub's events are delivered
 * in the order they were sent, with `bus.fromOtherHub` set. Each hub says it is alive every third
 * of `deadAfterMs`; a hub that stops (killed, cut off) has its devices' connections dropped from
 * the others' view, and a hub heard anew gets this hub's connections again.
 */
export class BusRelay {
  private readonly peers = new Map<string, { heardAt: number; devices: Map<string, string> }>();
  /** This hub's device connections: deviceId → siteId. */
  private readonly mine = new Map<string, string>();
  private off: () => void = () => {};
  private timer: NodeJS.Timeout | undefined;
  private inbound: Promise<void> = Promise.resolve();
  readonly stats = { sent: 0, received: 0, droppedWhileDown: 0, hubsGone: 0 };

  constructor(
    private readonly bus: EventBus,
    private readonly opts: BusRelayOptions,
  ) {}

  async start(): Promise<void> {
    this.opts.sub.on('message', (channel: string, text: string) => {
      if (channel === this.opts.channel) this.receive(text);
    });
    await this.opts.sub.subscribe(this.opts.channel);
    const listeners = Object.fromEntries(
      RELAYED.map((name) => [name, (payload: unknown) => this.send(name, payload)]),
    );
    this.off = this.bus.onMany(listeners);
    this.alive();
    this.timer = setInterval(() => this.alive(), this.opts.deadAfterMs / 3);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.off();
    await this.inbound;
  }

  private send(name: Relayed, payload: unknown): void {
    if (this.bus.fromOtherHub) return;
    if (name === 'device.connected' || name === 'device.disconnected') {
      const { deviceId, siteId } = payload as BusEvents['device.connected'];
      if (name === 'device.connected') this.mine.set(deviceId, siteId);
      else this.mine.delete(deviceId);
    }
    if (!this.opts.linkReady()) {
      this.stats.droppedWhileDown += 1;
      return;
    }
    this.publish({ hub: this.opts.hub, name, payload });
  }

  private publish(m: Message): void {
    this.stats.sent += 1;
    this.opts.pub.publish(this.opts.channel, JSON.stringify(m)).catch(this.opts.onError);
  }

  private alive(): void {
    if (this.opts.linkReady()) this.publish({ hub: this.opts.hub, name: '$alive' });
    const now = Date.now();
    for (const [hub, peer] of this.peers) {
      if (now - peer.heardAt <= this.opts.deadAfterMs) continue;
      this.peers.delete(hub);
      this.stats.hubsGone += 1;
      for (const [deviceId, siteId] of peer.devices) {
        this.deliver('device.disconnected', { deviceId, siteId, hub });
      }
    }
  }

  private receive(text: string): void {
    let m: Message;
    try {
      m = JSON.parse(text) as Message;
    } catch (err) {
      this.opts.onError(err);
      return;
    }
    if (m.hub === this.opts.hub) return;
    this.stats.received += 1;
    let peer = this.peers.get(m.hub);
    if (!peer) {
      peer = { heardAt: 0, devices: new Map() };
      this.peers.set(m.hub, peer);
      // A hub that just started, or came back after losing Redis, learns who is connected here.
      for (const [deviceId, siteId] of this.mine) {
        this.publish({
          hub: this.opts.hub,
          name: 'device.connected',
          payload: { deviceId, siteId, hub: this.opts.hub },
        });
      }
    }
    peer.heardAt = Date.now();
    if (m.name === '$alive') return;
    if (m.name === 'device.connected' || m.name === 'device.disconnected') {
      const { deviceId, siteId } = m.payload as BusEvents['device.connected'];
      if (m.name === 'device.connected') peer.devices.set(deviceId, siteId);
      else peer.devices.delete(deviceId);
    }
    const name = m.name;
    const before = this.opts.before?.[name] as ((p: unknown) => Promise<void>) | undefined;
    this.inbound = this.inbound
      .then(() => before?.(m.payload))
      .then(() => this.deliver(name, m.payload as BusEvents[Relayed]))
      .catch(this.opts.onError);
  }

  private deliver<K extends Relayed>(name: K, payload: BusEvents[K]): void {
    this.bus.fromOtherHub = true;
    try {
      this.bus.emit(name, payload);
    } finally {
      this.bus.fromOtherHub = false;
    }
  }
}
