import type { Client } from 'aedes';

/** A publish waiting for its commit: 0 waiting, 1 stored, 2 not stored. */
interface Pending {
  messageId: number;
  outcome: 0 | 1 | 2;
  /** Set when aedes waits for this PUBACK before reading the connection on. */
  written?: () => void;
}

interface AckState {
  /** This connection's publishes in arrival order; those before `head` are done. */
  queue: Pending[];
  head: number;
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
  /** Publishes taken and not yet acknowledged or refused, on any connection. */
  private pending = 0;
  private idle: (() => void)[] = [];

  constructor(
    private readonly maxWaiting = 64,
    private readonly drainTimeoutMs = 30_000,
  ) {}

  /**
   * Sends the PUBACK for `messageId` once `stored` resolves; if it rejects, the connection is
   * closed instead, so the device keeps the publish and sends it again. Resolves when aedes may
   * read the connection's next packets. One `then` per publish and a queue per connection: the
   * promise chain this replaced made five promises per publish, which the garbage collector paid
   * for at full rate.
   */
  track(client: Client, messageId: number, stored: Promise<void>): Promise<void> {
    let state = this.state.get(client);
    if (!state) {
      state = { queue: [], head: 0, failed: false, due: [] };
      this.state.set(client, state);
    }
    const p: Pending = { messageId, outcome: 0 };
    state.queue.push(p);
    this.pending += 1;
    const s = state;
    // Observed now: a rejection must never go unhandled.
    stored.then(
      () => this.settle(client, s, p, 1),
      () => this.settle(client, s, p, 2),
    );
    if (state.queue.length - state.head > this.maxWaiting) {
      return new Promise((resolve) => {
        p.written = resolve;
      });
    }
    if (client.conn.writableLength > MAX_UNSENT_BYTES) return this.drained(client);
    return Promise.resolve();
  }

  /** Resolves once every publish taken so far has had its PUBACK written, or its connection closed. */
  async settled(): Promise<void> {
    while (this.pending > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  /** Marks one publish done and sends every PUBACK now due, in arrival order [MQTT-4.6.0-2]. */
  private settle(client: Client, state: AckState, p: Pending, outcome: 1 | 2): void {
    p.outcome = outcome;
    const q = state.queue;
    while (state.head < q.length && q[state.head]!.outcome !== 0) {
      const done = q[state.head++]!;
      this.pending -= 1;
      if (done.outcome === 2) {
        if (!state.failed) client.close();
        state.failed = true;
      } else if (!state.failed && !client.conn.destroyed) {
        if (state.due.push(done.messageId) === 1) process.nextTick(() => writeDue(client, state));
      }
      done.written?.();
    }
    // A connection that always has a publish in flight never empties its queue: drop the done
    // part now and then, or the queue would grow with every publish the connection ever made.
    if (state.head === q.length) {
      state.queue = [];
      state.head = 0;
    } else if (state.head >= 256) {
      state.queue = q.slice(state.head);
      state.head = 0;
    }
    if (this.pending === 0) for (const resolve of this.idle.splice(0)) resolve();
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
