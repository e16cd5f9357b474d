import type { Client } from 'aedes';

interface AckState {
  chain: Promise<void>;
  waiting: number;
  failed: boolean;
  /** Message ids whose PUBACK is due, written together once the current commit's callbacks ran. */
  due: number[];
}

/**
 * One write for every PUBACK of a connection that one commit released: a commit resolves its
 * callers' promises in one go, and process.nextTick runs after all of those callbacks. One
 * writeToStream per PUBACK was one syscall each: `writev` was 20 % of the hub's main thread at
 * full rate (bench/results, 2026-11-26). A PUBACK is 4 bytes: type 0x40, length 2, packet id
 * [MQTT-3.4]; a 2-byte remaining length is also a success PUBACK in MQTT 5.
 */
function writeDue(client: Client, state: AckState): void {
  const ids = state.due;
  state.due = [];
  if (state.failed || client.conn.destroyed) return;
  const buf = Buffer.allocUnsafe(4 * ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    buf[4 * i] = 0x40;
    buf[4 * i + 1] = 0x02;
    buf[4 * i + 2] = id >> 8;
    buf[4 * i + 3] = id & 0xff;
  }
  client.conn.write(buf);
}

/** PUBACKs a connection has not read yet, beyond which it is not read from either. */
const MAX_UNSENT_BYTES = 64 * 1024;

/**
 * PUBACKs sent by the hub itself, once a publish is durably stored, in the order the publishes
 * arrived [MQTT-4.6.0-2]. Left to aedes, a PUBACK goes out when the authorizePublish callback
 * runs, and aedes reads nothing more from that connection until it has: every device's next
 * publishes waited for the previous commit, which halved throughput (measured). Here aedes reads
 * on while up to `maxWaiting` publishes of a connection wait for their commit; beyond that, or
 * while the device is not reading its PUBACKs, it is held again, so a slow store or a stuck
 * device still pushes back instead of filling memory.
 */
export class DurableAcks {
  private readonly state = new WeakMap<Client, AckState>();
  /** Chains not yet settled, on any connection: a graceful stop waits for them. */
  private readonly unsettled = new Set<Promise<void>>();

  constructor(
    private readonly maxWaiting = 64,
    private readonly drainTimeoutMs = 30_000,
  ) {}

  /**
   * Sends the PUBACK for `messageId` once `stored` resolves; if it rejects, the connection is
   * closed instead, so the device keeps the publish and sends it again. Resolves when aedes may
   * read the connection's next packets.
   */
  track(client: Client, messageId: number, stored: Promise<void>): Promise<void> {
    let s = this.state.get(client);
    if (!s) {
      s = { chain: Promise.resolve(), waiting: 0, failed: false, due: [] };
      this.state.set(client, s);
    }
    const state = s;
    state.waiting += 1;
    // Observed now, not when the chain reaches it: a rejection must never go unhandled.
    const ok = stored.then(
      () => true,
      () => false,
    );
    const chain = state.chain.then(async () => {
      const stored = await ok;
      state.waiting -= 1;
      if (!stored) {
        state.failed = true;
        client.close();
      } else if (!state.failed && !client.conn.destroyed) {
        if (state.due.push(messageId) === 1) process.nextTick(() => writeDue(client, state));
      }
    });
    state.chain = chain;
    this.unsettled.add(chain);
    void chain.finally(() => this.unsettled.delete(chain));
    if (state.waiting > this.maxWaiting) return state.chain;
    if (client.conn.writableLength > MAX_UNSENT_BYTES) return this.drained(client);
    return Promise.resolve();
  }

  /** Resolves once every publish taken so far has had its PUBACK written, or its connection closed. */
  async settled(): Promise<void> {
    while (this.unsettled.size > 0) await Promise.all([...this.unsettled]);
  }

  /** Waits until the device reads what it was sent; one that never does is disconnected. */
  private drained(client: Client): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        client.conn.off('drain', done);
        client.close();
        resolve();
      }, this.drainTimeoutMs);
      const done = () => {
        clearTimeout(timer);
        client.conn.off('drain', done);
        client.conn.off('close', done);
        resolve();
      };
      client.conn.once('drain', done);
      client.conn.once('close', done);
    });
  }
}
