import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EventRow, ReadingRow } from '../contract/index.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';
import type { TelemetryStore } from '../services/telemetry/store.js';
import { telemetryStoreContract } from './telemetry-store.contract.js';

const freshDir = () => mkdtemp(join(tmpdir(), 'yizhan-duckdb-'));

let contractDir: string | undefined;
telemetryStoreContract(
  'duckdb',
  async () => {
    contractDir ??= await freshDir();
    return openDuckDbStore(join(contractDir, 'telemetry.duckdb'));
  },
  async () => {
    if (contractDir) await rm(contractDir, { recursive: true, force: true });
  },
);

const t0 = Date.UTC(2025, 7, 1, 6, 0, 0);
const occupancy = (seq: number): ReadingRow => ({
  siteId: 'fanghuali-n1',
  deviceId: 'fanghuali-n1-occ',
  kind: 'occupancy_counter',
  seq,
  ts: t0 + seq * 60_000,
  values: { occupancy: seq % 40 },
});

describe('DuckDB telemetry store', () => {
  const dirs: string[] = [];
  const stores: TelemetryStore[] = [];
  const openFresh = async () => {
    const dir = await freshDir();
    dirs.push(dir);
    const store = await openDuckDbStore(join(dir, 'telemetry.duckdb'));
    stores.push(store);
    return { dir, file: join(dir, 'telemetry.duckdb'), store };
  };
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('keeps a device with scattered seqs to one copy each, via the table', async () => {
    const { store } = await openFresh();
    // Every other seq: 5,000 separate runs, more than the index keeps for one device.
    const scattered = Array.from({ length: 5000 }, (_, i) => occupancy(i * 2));
    expect(await store.write({ readings: scattered, events: [] })).toMatchObject({
      readings: 5000,
      events: 0,
    });
    const resent = [occupancy(2), occupancy(4000), occupancy(3)];
    expect(await store.write({ readings: resent, events: [] })).toMatchObject({ readings: 1, events: 0 });
    expect(await store.write({ readings: resent, events: [] })).toMatchObject({ readings: 0, events: 0 });
  });

  it('refuses a batch with a wrongly typed value whole, chunks already appended included', async () => {
    const { store } = await openFresh();
    const hour = { metric: 'occupancy', from: t0, to: t0 + 1e9, bucketMs: 1e9, agg: 'count' } as const;
    const reboot: EventRow = {
      ...occupancy(0),
      type: 'reboot',
      code: null,
      item: null,
      ok: null,
      message: null,
    };
    // Row 4,500 is in the appender's third chunk of 2,048: the first two were appended already.
    const rows = Array.from({ length: 5000 }, (_, i) => occupancy(i));
    rows[4500] = { ...occupancy(4500), values: { occupancy: '7' as unknown as number } };
    await expect(store.write({ readings: rows, events: [reboot] })).rejects.toMatchObject({
      code: 'INVALID_READING',
    });
    rows[4500] = { ...occupancy(4500), values: { occupancy: Number.NaN } };
    await expect(store.write({ readings: rows, events: [] })).rejects.toMatchObject({
      code: 'INVALID_READING',
    });
    expect((await store.range(hour))[0]).toMatchObject({ count: 0 });
    expect(await store.events({ from: t0, to: t0 + 1e9, limit: 10 })).toEqual([]);

    // Nothing of the refused batches turns up with the next write either.
    expect(await store.write({ readings: [occupancy(1)], events: [reboot] })).toMatchObject({
      readings: 1,
      events: 1,
    });
    expect((await store.range(hour))[0]).toMatchObject({ count: 1 });
  });

  it('reports a deleted database directory through check()', async () => {
    const { dir, store } = await openFresh();
    await store.write({ readings: [occupancy(1)], events: [] });
    await expect(store.check()).resolves.toBeUndefined();
    // DuckDB keeps writing to the open, now unlinked, files, so write() may well still resolve;
    // check() is what tells the health endpoint that nothing written now will survive a restart.
    await rm(dir, { recursive: true, force: true });
    await expect(store.check()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('reports a deleted database file through check()', async () => {
    const { file, store } = await openFresh();
    await store.write({ readings: [occupancy(1)], events: [] });
    await rm(file);
    await expect(store.check()).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('serializes concurrent writes and refuses work after close()', async () => {
    const { store } = await openFresh();
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        store.write({ readings: [occupancy(n), occupancy(n + 1), occupancy(n + 2)], events: [] }),
      ),
    );
    expect(results.map((r) => r.readings)).toEqual([3, 1, 1, 1, 1]);
    const [p] = await store.range({
      metric: 'occupancy',
      from: t0,
      to: t0 + 3_600_000,
      bucketMs: 3_600_000,
      agg: 'count',
    });
    expect(p).toEqual({ t: t0, value: 7, count: 7 });

    const pending = store.write({ readings: [occupancy(20)], events: [] });
    await store.close();
    await expect(pending).resolves.toMatchObject({ readings: 1, events: 0 });
    await expect(store.write({ readings: [occupancy(21)], events: [] })).rejects.toThrow(/closed/);
    await expect(store.latest()).rejects.toThrow(/closed/);
    await expect(store.check()).rejects.toThrow(/closed/);
  });

  it('keeps a write that resolved before the process was killed without close()', {
    timeout: 60_000,
  }, async () => {
    const { dir, file } = await openFresh();
    await stores.pop()!.close();
    const child = join(dir, 'writer.mts');
    const storeUrl = new URL('../services/telemetry/duckdb-store.ts', import.meta.url);
    await writeFile(
      child,
      `import { openDuckDbStore } from ${JSON.stringify(storeUrl.href)};
const store = await openDuckDbStore(${JSON.stringify(file)});
const rows = Array.from({ length: 1000 }, (_, i) => ({
  siteId: 'fanghuali-n1', deviceId: 'fanghuali-n1-occ', kind: 'occupancy_counter',
  seq: i, ts: ${t0} + i * 1000, values: { occupancy: i % 50 },
}));
const res = await store.write({ readings: rows, events: [] });
process.stdout.write(JSON.stringify(res));
process.kill(process.pid, 'SIGKILL');
`,
    );
    const { stdout, signal } = await new Promise<{ stdout: string; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        const proc = spawn(process.execPath, ['--import', 'tsx', child], { cwd: process.cwd() });
        let out = '';
        let err = '';
        proc.stdout.on('data', (d) => {
          out += d;
        });
        proc.stderr.on('data', (d) => {
          err += d;
        });
        proc.on('error', reject);
        proc.on('close', (_code, sig) =>
          sig ? resolve({ stdout: out, signal: sig }) : reject(new Error(err)),
        );
      },
    );
    expect(signal).toBe('SIGKILL');
    expect(JSON.parse(stdout)).toMatchObject({ readings: 1000, events: 0 });

    const reopened = await openDuckDbStore(file);
    stores.push(reopened);
    const [p] = await reopened.range({
      deviceId: 'fanghuali-n1-occ',
      metric: 'occupancy',
      from: t0,
      to: t0 + 3_600_000,
      bucketMs: 3_600_000,
      agg: 'count',
    });
    expect(p).toEqual({ t: t0, value: 1000, count: 1000 });
  });
});
