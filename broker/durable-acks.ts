import type { Client } from 'aedes';
import mqttPacket from 'mqtt-packet';

interface AckState {
  chain: Promise<void>;
  waiting: number;
  failed: boolean;
}

/**
 * PUBACKs sent by the hub itself, once a publish is durably stored, in the order the publishes
 * arrived [MQTT-4.6.0-2]. Left to aedes, a PUBACK goes out when the authorizePublish callback
 * runs, and aedes reads nothing more from that connection until it has: every device's next
 * publishes waited for the previous commit, which halved throughput (measured). Here aedes reads
 * on while up to `maxWaiting` publishes of a connection wait for their commit; beyond that it is
 * held again, so a slow or failing store still pushes back on the device.
 */
export class DurableAcks {
  private readonly state = new WeakMap<Client, AckState>();

  constructor(private readonly maxWaiting = 64) {}

  /**
   * Sends the PUBACK for `messageId` once `stored` resolves; if it rejects, the connection is
   * closed instead, so the device keeps the publish and sends it again. Resolves when aedes may
   * read the connection's next packets.
   */
  track(client: Client, messageId: number, stored: Promise<void>): Promise<void> {
    let s = this.state.get(client);
    if (!s) {
      s = { chain: Promise.resolve(), waiting: 0, failed: false };
      this.state.set(client, s);
    }
    const state = s;
    state.waiting += 1;
    state.chain = state.chain
      .then(() => stored)
      .then(
        () => {
          state.waiting -= 1;
          if (!state.failed && !client.conn.destroyed)
            mqttPacket.writeToStream({ cmd: 'puback', messageId }, client.conn);
        },
        () => {
          state.waiting -= 1;
          state.failed = true;
          client.close();
        },
      );
    return state.waiting > this.maxWaiting ? state.chain : Promise.resolve();
  }
}
