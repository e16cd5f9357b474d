import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRow, ReadingRow, TelemetryBatch } from '../contract/index.js';
import { Dedupe } from '../services/ingest/dedupe.js';
import { entryBatch, Journal, JournalFullError } from '../services/ingest/journal.js';
import { JournalMover, type MoverOptions } from '../services/ingest/journal-mover.js';
import { JournalWriter } from '../services/ingest/journal-writer.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import type { TelemetryStore } from '../services/telemetry/store.js';

const HOUR = 3_600_000;
const t0 = Date.UTC(2025, 8, 1, 6, 0, 0);
const reading = (device: string, seq: number): ReadingRow => ({
  siteId: 'fanghuali-n1',
  deviceId: device,
  kind: 'occupancy_counter',
  seq,
  ts: t0 + seq * 1000,
  values: { occupancy: seq % 40 },
});
const door = (seq: number): EventRow => ({
  siteId: 'fanghuali-n1',
  deviceId: 'fanghuali-n1-door',
  kind: 'door_sensor',
  seq,
  ts: t0 + seq * 1000,
  type: 'door_opened',
  code: null,
  item: null,
  ok: null,
  message: null,
});
const batchOf = (device: string, from: number, n: number, events: EventRow[] = []): TelemetryBatch => ({
  readings: Array.from({ length: n }, (_, i) => reading(device, from + i)),
  events,
});

/** A store that refuses writes while `down` is set, as a full disk or a stopped server would. */
function flaky(store: TelemetryStore) {
  const state = { down: false, writes: 0 };
  const wrapped: TelemetryStore = {
    ...store,
    write: async (batch) => {
      if (state.down) throw new Error('store down');
      state.writes += 1;
      return store.write(batch);
    },
  };
  return { store: wrapped, state };
}

describe('journal mover (real SQLite journal and DuckDB store)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c().catch(() => {});
  });

  const setup = async (dir?: string) => {
    const d = dir ?? (await mkdtemp(join(tmpdir(), 'yz-mover-')));
    if (!dir) cleanup.push(() => rm(d, { recursive: true, force: true }));
    const store = await openDuckDbStore(join(d, 'telemetry.duckdb'));
    const journal = new Journal(join(d, 'journal.sqlite'), 1_000_000);
    await journal.start();
    cleanup.push(
      () => journal.stop(),
      () => store.close(),
    );
    return { dir: d, store, journal };
  };
  const mover = (journal: Journal, store: TelemetryStore, opts: Partial<MoverOptions> = {}) => {
    const m = new JournalMover(journal, store, { moveRows: 1000, moveEveryMs: 20, ...opts });
    cleanup.push(() => m.stop());
    return m;
  };
  const count = async (store: TelemetryStore, device: string) => {
    const [p] = await store.range({
      deviceId: device,
      metric: 'occupancy',
      from: t0 - (t0 % HOUR),
      to: t0 - (t0 % HOUR) + 2 * HOUR,
      bucketMs: 2 * HOUR,
      agg: 'count',
    });
    return p?.count ?? 0;
  };

  it('moves what was journaled into the store in batches and empties the journal', async () => {
    const { store, journal } = await setup();
    const m = mover(journal, store, { moveRows: 250 });
    await m.start();
    for (let i = 0; i < 10; i++) m.enqueue(await journal.append(batchOf('dev-a', 1 + i * 100, 100)));
    m.enqueue(await journal.append(batchOf('dev-b', 1, 1, [door(1)])));
    await m.settled(10_000);
    expect(await count(store, 'dev-a')).toBe(1000);
    expect(await count(store, 'dev-b')).toBe(1);
    expect(
      await store.events({ deviceId: 'fanghuali-n1-door', from: t0, to: t0 + HOUR, limit: 5 }),
    ).toHaveLength(1);
    expect(journal.rows).toBe(0);
    // About moveRows at a time, not one store write per journal entry.
    expect(m.stats.moves).toBeGreaterThanOrEqual(4);
    expect(m.stats.moves).toBeLessThanOrEqual(6);
  });

  it('replays entries that reached the store but not their release, exactly once, after a crash', async () => {
    const first = await setup();
    const entry = await first.journal.append(batchOf('dev-c', 1, 50));
    // The crash: the store committed the batch, the process died before the journal released it.
    await first.store.write(entryBatch(entry));
    await first.journal.stop();
    await first.store.close();

    const again = await setup(first.dir);
    expect(again.journal.rows).toBe(50);
    const m = mover(again.journal, again.store);
    await m.start();
    await again.journal.append(batchOf('dev-c', 51, 10)).then((e) => m.enqueue(e));
    await m.settled(10_000);
    expect(await count(again.store, 'dev-c')).toBe(60);
    expect(again.journal.rows).toBe(0);
  });

  it('keeps entries through a store outage, spilling to the journal, and moves them in order after', async () => {
    const { store: real, journal } = await setup();
    const { store, state } = flaky(real);
    const failures: (string | null)[] = [];
    const m = mover(journal, store, {
      moveRows: 100,
      maxMemoryRows: 150,
      onFailureChange: (f) => failures.push(f ? f.message : null),
    });
    await m.start();
    state.down = true;
    for (let i = 0; i < 8; i++) m.enqueue(await journal.append(batchOf('dev-d', 1 + i * 50, 50)));
    await new Promise((r) => setTimeout(r, 300));
    expect(m.failure?.message).toBe('store down');
    expect(journal.rows).toBe(400);
    state.down = false;
    await m.settled(15_000);
    expect(await count(real, 'dev-d')).toBe(400);
    expect(journal.rows).toBe(0);
    expect(failures).toEqual(['store down', null]);
  });

  it('tries a last move when stopped, and leaves the rest in the journal when the store is down', async () => {
    const { store: real, journal } = await setup();
    const { store, state } = flaky(real);
    const m = mover(journal, store, { moveEveryMs: 60_000, stopWithinMs: 2000 });
    await m.start();
    m.enqueue(await journal.append(batchOf('dev-e', 1, 30)));
    await m.stop();
    expect(await count(real, 'dev-e')).toBe(30);
    expect(journal.rows).toBe(0);

    const m2 = mover(journal, store, { moveEveryMs: 60_000, stopWithinMs: 300 });
    await m2.start();
    state.down = true;
    m2.enqueue(await journal.append(batchOf('dev-e', 31, 5)));
    const t = performance.now();
    await m2.stop();
    expect(performance.now() - t).toBeLessThan(1500);
    expect(journal.rows).toBe(5);
  });

  it('journals only new rows, tells a resend from the store or the journal, and refuses when full', async () => {
    const { dir, store, journal: big } = await setup();
    await store.write(batchOf('dev-f', 1, 10));
    await big.stop();
    const journal = new Journal(join(dir, 'journal-small.sqlite'), 25);
    await journal.start();
    cleanup.push(() => journal.stop());
    const dedupe = new Dedupe(store);
    await dedupe.load(journal);
    const m = mover(journal, store, { moveEveryMs: 60_000 });
    const writer = new JournalWriter(journal, dedupe, m);
    // 1-10 are in the store, 11-15 new; the repeated 12 is kept once.
    const r1 = await writer.write({
      readings: [...batchOf('dev-f', 5, 11).readings, reading('dev-f', 12)],
      events: [],
    });
    expect(r1.fresh.readings.map((r) => r.seq)).toEqual([11, 12, 13, 14, 15]);
    // 11-15 are in the journal only.
    const r2 = await writer.write(batchOf('dev-f', 14, 4));
    expect(r2.fresh.readings.map((r) => r.seq)).toEqual([16, 17]);
    expect(journal.rows).toBe(7);
    await writer.write(batchOf('dev-f', 18, 18));
    await expect(writer.write(batchOf('dev-f', 36, 1))).rejects.toBeInstanceOf(JournalFullError);
  });

  it('asks the store about a device whose seqs are too scattered to index, and the journal about its pending rows', async () => {
    const { store, journal } = await setup();
    // Every other seq: more runs than SeqIndex keeps for one device.
    const odd = Array.from({ length: 4200 }, (_, i) => reading('dev-g', 2 * i + 1));
    await store.write({ readings: odd, events: [] });
    const dedupe = new Dedupe(store);
    await dedupe.load(journal);
    const m = mover(journal, store, { moveEveryMs: 60_000 });
    const writer = new JournalWriter(journal, dedupe, m);
    const r1 = await writer.write({ readings: [reading('dev-g', 7), reading('dev-g', 8)], events: [] });
    expect(r1.fresh.readings.map((r) => r.seq)).toEqual([8]);
    // 8 is in the journal, not yet in the store.
    const r2 = await writer.write({ readings: [reading('dev-g', 8), reading('dev-g', 10)], events: [] });
    expect(r2.fresh.readings.map((r) => r.seq)).toEqual([10]);
    await m.start();
    await m.settled(10_000);
    const r3 = await writer.write({ readings: [reading('dev-g', 10), reading('dev-g', 12)], events: [] });
    expect(r3.fresh.readings.map((r) => r.seq)).toEqual([12]);
  });

  it('journals a row once when two writes in flight at once both carry it', async () => {
    const { store, journal } = await setup();
    const dedupe = new Dedupe(store);
    await dedupe.load(journal);
    const m = mover(journal, store, { moveEveryMs: 60_000 });
    const writer = new JournalWriter(journal, dedupe, m);
    const [a, b] = await Promise.all([
      writer.write(batchOf('dev-h', 1, 10)),
      writer.write(batchOf('dev-h', 6, 10)),
    ]);
    expect(a.fresh.readings.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(b.fresh.readings.map((r) => r.seq)).toEqual([11, 12, 13, 14, 15]);
    expect(journal.rows).toBe(15);
  });
});
