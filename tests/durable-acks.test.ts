import type { Client } from 'aedes';
import { describe, expect, it } from 'vitest';
import { DurableAcks } from '../broker/durable-acks.js';

/** A connection that records what is written to it. */
function fakeClient() {
  const writes: Buffer[] = [];
  const client = {
    closed: false,
    conn: { destroyed: false, writableLength: 0, write: (b: Buffer) => writes.push(b), once() {}, off() {} },
    close() {
      this.closed = true;
    },
  };
  const acked = () =>
    writes.flatMap((b) => Array.from({ length: b.length / 4 }, (_, i) => b.readUInt16BE(4 * i + 2)));
  return { client, writes, acked, asClient: client as unknown as Client };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('durable acks', () => {
  it('writes PUBACKs in arrival order, those one commit released in one write', async () => {
    const acks = new DurableAcks();
    const c = fakeClient();
    const d = [1, 2, 3, 4].map(() => deferred());
    for (const [i, x] of d.entries()) void acks.track(c.asClient, i + 1, x.promise);
    d[1]!.resolve();
    await tick();
    expect(c.acked()).toEqual([]);
    d[0]!.resolve();
    d[2]!.resolve();
    await tick();
    expect(c.acked()).toEqual([1, 2, 3]);
    expect(c.writes).toHaveLength(1);
    d[3]!.resolve();
    await acks.settled();
    await tick();
    expect(c.acked()).toEqual([1, 2, 3, 4]);
  });

  it('closes the connection instead of acknowledging a publish that was not stored', async () => {
    const acks = new DurableAcks();
    const c = fakeClient();
    const a = deferred();
    const b = deferred();
    acks.track(c.asClient, 1, a.promise);
    acks.track(c.asClient, 2, b.promise);
    a.reject(new Error('disk full'));
    b.resolve();
    await acks.settled();
    await tick();
    expect(c.client.closed).toBe(true);
    expect(c.acked()).toEqual([]);
  });

  it('holds the connection past maxWaiting, and keeps its queue short when a publish is always in flight', async () => {
    const acks = new DurableAcks(4);
    const c = fakeClient();
    const held = [1, 2, 3, 4, 5].map((id) => acks.track(c.asClient, id, new Promise(() => {})));
    let released = false;
    void held[4]!.then(() => {
      released = true;
    });
    await tick();
    expect(released).toBe(false);

    const c2 = fakeClient();
    let prev = deferred();
    acks.track(c2.asClient, 1, prev.promise);
    for (let id = 2; id <= 5000; id++) {
      const next = deferred();
      acks.track(c2.asClient, id % 65536, next.promise);
      prev.resolve();
      await Promise.resolve();
      prev = next;
    }
    await tick();
    const state = (acks as unknown as { state: WeakMap<Client, { queue: unknown[] }> }).state.get(
      c2.asClient,
    )!;
    expect(state.queue.length).toBeLessThan(300);
    expect(c2.acked()).toHaveLength(4999);
  });
});
