import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ReadingRow, TelemetryBatch } from '../contract/index.js';
import { GroupCommit } from '../services/ingest/group-commit.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import type { TelemetryStore } from '../services/telemetry/store.js';

const t0 = Date.UTC(2025, 8, 1, 6, 0, 0);
const one = (seq: number): TelemetryBatch => ({
  readings: [
    {
      siteId: 'fanghuali-n1',
      deviceId: 'fanghuali-n1-occ',
      kind: 'occupancy_counter',
      seq,
      ts: t0 + seq * 1000,
      values: { occupancy: seq % 40 },
    } satisfies ReadingRow,
  ],
  events: [],
});
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('group commit spacing (JOURNAL_COMMIT_GAP_MS)', () => {
  let dir: string;
  let store: TelemetryStore;
  let writes: number[];
  const counted = () => ({
    write: async (batch: TelemetryBatch) => {
      writes.push(batch.readings.length);
      return store.write(batch);
    },
  });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'yizhan-gc-'));
    store = await openDuckDbStore(join(dir, 't.duckdb'));
    writes = [];
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a lone reading at once, then lets readings that follow closely share one write', async () => {
    const commit = new GroupCommit(counted(), { minIntervalMs: 1000 });
    const started = performance.now();
    await commit.submit(one(1));
    // The first write did not wait for the gap: nothing was written before it.
    expect(performance.now() - started).toBeLessThan(1000);
    // Readings arriving a few ms apart, inside the gap: all wait for the next write together.
    const acks: Promise<void>[] = [];
    for (let seq = 2; seq <= 6; seq++) {
      acks.push(commit.submit(one(seq)));
      await pause(5);
    }
    await Promise.all(acks);
    expect(writes).toEqual([1, 5]);
    const latest = await store.latest(['fanghuali-n1-occ']);
    expect(latest.map((v) => v.value)).toEqual([6]);
  });

  it('with no gap writes each reading that arrives after the previous write as its own', async () => {
    const commit = new GroupCommit(counted(), { minIntervalMs: 0 });
    for (let seq = 1; seq <= 3; seq++) await commit.submit(one(seq));
    expect(writes).toEqual([1, 1, 1]);
  });
});
