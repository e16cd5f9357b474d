import type { Aedes } from 'aedes';
import { type Command, HubError, parseTopic, topicFor } from '../contract/index.js';
import type { BrokerDevice } from './device-directory.js';

/**
 * Downlink commands, QoS 1, with a cap on how many a device may leave unacknowledged: a device
 * that subscribes and never acks (or never reads) would otherwise have the broker keep every
 * command for it, and enough of them would hold the delivery queue that all devices share.
 */
export class CommandOutbox {
  private readonly unacked = new Map<string, number>();

  constructor(
    private readonly aedes: Aedes,
    private readonly maxUnacked = 20,
  ) {
    aedes.on('ack', (packet) => {
      // aedes reports a PUBACK it has no stored packet for (a clean session, a stray id) as undefined.
      if (!packet || !('topic' in packet)) return;
      const parsed = parseTopic(packet.topic);
      if (parsed?.channel !== 'cmd') return;
      const n = (this.unacked.get(parsed.deviceId) ?? 1) - 1;
      if (n <= 0) this.unacked.delete(parsed.deviceId);
      else this.unacked.set(parsed.deviceId, n);
    });
  }

  /**
   * Forgets the count when a device connects or goes: what a clean session had queued is gone,
   * and a persistent session's queue is sent again and acknowledged afresh.
   */
  reset(deviceId: string): void {
    this.unacked.delete(deviceId);
  }

  async send(device: BrokerDevice, command: Command): Promise<void> {
    const n = this.unacked.get(device.id) ?? 0;
    if (n >= this.maxUnacked) {
      throw new HubError('DEVICE_BUSY', `device ${device.id} has ${n} commands it has not acknowledged`);
    }
    this.unacked.set(device.id, n + 1);
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
