import type { Aedes } from 'aedes';
import { type Command, HubError, parseTopic, topicFor } from '../contract/index.js';
import type { BrokerDevice } from './device-directory.js';

/**
 * Downlink commands, QoS 1, with a cap on how many a device may leave unacknowledged: a device
 * that subscribes and never acks (or never reads) would otherwise have the broker keep every
 * command for it, and enough of them would hold the delivery queue that all devices share.
 */
export class CommandOutbox {
  constructor(
    private readonly aedes: Aedes,
    private readonly unacked: UnackedCounts = new LocalUnackedCounts(),
    private readonly maxUnacked = 20,
  ) {
    aedes.on('ack', (packet) => {
      // aedes reports a PUBACK it has no stored packet for (a clean session, a stray id) as undefined.
      if (!packet || !('topic' in packet)) return;
      const parsed = parseTopic(packet.topic);
      if (parsed?.channel !== 'cmd') return;
      // Shared counts (Redis) may fail; a count left one too high clears at the next connect.
      this.unacked.add(parsed.deviceId, -1).catch(() => {});
    });
  }

  /**
   * Forgets the count when a device connects or goes: what a clean session had queued is gone,
   * and a persistent session's queue is sent again and acknowledged afresh.
   */
  reset(deviceId: string): void {
    this.unacked.reset(deviceId).catch(() => {});
  }

  async send(device: BrokerDevice, command: Command): Promise<void> {
    const n = await this.unacked.add(device.id, 1);
    if (n > this.maxUnacked) {
      await this.unacked.add(device.id, -1);
      throw new HubError('DEVICE_BUSY', `device ${device.id} has ${n - 1} commands it has not acknowledged`);
    }
    await new Promise<void>((resolve, reject) =>
      this.aedes.publish(
        {
          cmd: 'publish',
          topic: topicFor(device.siteId, device.id, 'cmd'),
          payload: Buffer.from(JSON.stringify(command)),
          qos: 1,
          retain: false,
          dup: false,
        },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }
}

/**
 * Commands sent and not yet acknowledged, per device. One hub counts in memory; hubs in a cluster
 * share the count, since a command may be sent by one hub and acknowledged on another.
 */
export interface UnackedCounts {
  /** Adds `delta` (never going below 0) and returns the new count. */
  add(deviceId: string, delta: 1 | -1): Promise<number>;
  reset(deviceId: string): Promise<void>;
}

export class LocalUnackedCounts implements UnackedCounts {
  private readonly counts = new Map<string, number>();

  async add(deviceId: string, delta: 1 | -1): Promise<number> {
    const n = Math.max(0, (this.counts.get(deviceId) ?? 0) + delta);
    if (n === 0) this.counts.delete(deviceId);
    else this.counts.set(deviceId, n);
    return n;
  }

  async reset(deviceId: string): Promise<void> {
    this.counts.delete(deviceId);
  }
}
