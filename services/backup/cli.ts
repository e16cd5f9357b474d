import path from 'node:path';
import { askHub } from '../admin/control-socket.js';
import { CONTROL_SOCKET } from '../admin/operations.js';
import { ConfigError, loadConfig } from '../config.js';
import type { BackupManifest } from './manifest.js';
import { offlineSources } from './offline.js';
import { restoreBackup, restoreNotes } from './restore.js';
import { takeBackup } from './take.js';

/**
 * `npm run backup -- DIR`: a consistent backup of the hub configured by the environment (HUB_DATA_DIR
 * …), taken by the running hub through its control socket, or from the files when none runs.
 * `npm run restore -- DIR`: a backup into an empty HUB_DATA_DIR, with the hub stopped.
 */
const [command, dirArg] = process.argv.slice(2);
const usage = 'usage: npm run backup -- DIR   |   npm run restore -- DIR';

const mb = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;

function summary(m: BackupManifest): string {
  const files = m.files.map((f) => `  ${f.name.padEnd(18)} ${mb(f.bytes)}`).join('\n');
  const t = m.timings;
  return [
    files,
    `  readings ${m.counts.readings ?? '–'}, events ${m.counts.events ?? '–'}, journal rows ${m.counts.journalRows}`,
    `  took ${Math.round(t.totalMs)} ms; telemetry writes held ${Math.round(t.telemetryHeldMs)} ms (device acknowledgements never wait)`,
    ...m.notes.map((n) => `  note: ${n}`),
  ].join('\n');
}

try {
  if ((command !== 'backup' && command !== 'restore') || !dirArg) {
    console.error(usage);
    process.exit(2);
  }
  const config = loadConfig();
  const dir = path.resolve(dirArg);
  if (command === 'backup') {
    const reply = await askHub(path.join(config.dataDir, CONTROL_SOCKET), { op: 'backup', dir });
    let manifest: BackupManifest;
    if (reply === undefined) {
      const sources = await offlineSources(config);
      try {
        manifest = await takeBackup(dir, sources);
      } finally {
        await sources.close();
      }
      console.log(`No hub is running on ${config.dataDir}: backed up its files into ${dir}`);
    } else if (!reply.ok) {
      throw new Error(reply.message);
    } else {
      manifest = reply.result as BackupManifest;
      console.log(`The running hub backed up ${config.dataDir} into ${dir}`);
    }
    console.log(summary(manifest));
  } else {
    const manifest = await restoreBackup(dir, {
      dataDir: config.dataDir,
      journalDir: config.journalDir,
      databaseUrl: config.DATABASE_URL,
      influx: Boolean(config.INFLUX_URL),
    });
    console.log(
      `Restored the backup of ${manifest.createdAt} (Yizhan Hub ${manifest.app.version}) into ${config.dataDir}`,
    );
    console.log(summary(manifest));
    for (const n of restoreNotes(manifest)) console.log(`  note: ${n}`);
    console.log('Start the hub (npm start): it replays the journal copy into the store.');
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `${command} failed: ${(err as Error).message}`);
  process.exit(1);
}
