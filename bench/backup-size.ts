/**
 * Backup and restore of a hub holding `--readings` readings (default 1,000,000 from 200 environment sensors):
 * how long the backup takes, how long the store's writes are held, sizes, and how long a restore
 * takes. `npx tsx bench/backup-size.ts --readings=1000000`. Not part of npm run bench: it is about
 * operations, not the data path.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ReadingRow } from '../contract/index.js';
import { restoreBackup } from '../services/backup/restore.js';
import { startHub } from '../services/hub.js';
import { openDuckDbStore } from '../services/telemetry/duckdb-store.js';

const arg = (name: string, fallback: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const N = arg('readings', 1_000_000);
const DEVICES = 200;

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'yz-backup-bench-'));
const dataDir = path.join(root, 'data');
await fs.mkdir(dataDir);
const store = await openDuckDbStore(path.join(dataDir, 'telemetry.duckdb'));
const t0 = Date.now() - N * 1000;
for (let done = 0; done < N; ) {
  const readings: ReadingRow[] = [];
  for (let i = 0; i < 50_000 && done < N; i++, done++) {
    const d = done % DEVICES;
    readings.push({
      siteId: `bench-${d % 20}`,
      deviceId: `bench-dev-${d}`,
      kind: 'environment_sensor',
      seq: Math.floor(done / DEVICES) + 1,
      // Jittered times and noisy values, as sensors send: compresses about as badly as real data.
      ts: t0 + done * 1000 + Math.floor(Math.random() * 1000),
      values: {
        temperature_c: Math.round((20 + Math.random() * 10) * 100) / 100,
        humidity_pct: Math.round(Math.random() * 1000) / 10,
      },
    });
  }
  await store.write({ readings, events: [] });
}
await store.close();

const hub = await startHub({
  HUB_DATA_DIR: dataDir,
  HTTP_PORT: 0,
  MQTT_PORT: 0,
  HTTP_HOST: '127.0.0.1',
  MQTT_HOST: '127.0.0.1',
  LOG_LEVEL: 'silent',
  HUB_ADMIN_PASSWORD: 'bench-password',
});
const m = await hub.backup(path.join(root, 'backup'));
await hub.close();
const restoreStart = performance.now();
await restoreBackup(path.join(root, 'backup'), {
  dataDir: path.join(root, 'restored'),
  journalDir: path.join(root, 'restored'),
});
const restoreMs = performance.now() - restoreStart;
const mib = (b: number) => (b / 1_048_576).toFixed(1);
console.log(
  JSON.stringify({
    readings: m.counts.readings,
    files: Object.fromEntries(m.files.map((f) => [f.name, `${mib(f.bytes)} MiB`])),
    backupMs: Math.round(m.timings.totalMs),
    telemetryHeldMs: Math.round(m.timings.telemetryHeldMs),
    stateMs: Math.round(m.timings.stateMs),
    journalMs: Math.round(m.timings.journalMs),
    restoreMs: Math.round(restoreMs),
  }),
);
await fs.rm(root, { recursive: true, force: true });
