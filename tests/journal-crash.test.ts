import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { ApiClient, eventually, provision, siteFixture } from './helpers/hub.js';
import { cleanupAfterAll, type HubProcess, loadHubEnv, startHubProcess } from './helpers/hub-process.js';
import { devicePublisher, storedSeqs, unstoredAcks } from './helpers/publisher.js';

const DEVICES = 20;
const PASSWORD = 'journal-crash-password';

/** Rows the journal holds, read beside the running hub (WAL lets a reader in). */
function journalRows(dataDir: string): number {
  const db = new Database(path.join(dataDir, 'journal.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT coalesce(sum(rows), 0) AS n FROM entries').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('durability between the journal and the store', () => {
  const cleanup = cleanupAfterAll();

  it('keeps every reading acknowledged from the journal alone exactly once across SIGKILL and restart', async () => {
    const { env, dataDir, mqttUrl } = await loadHubEnv('yz-jcrash-', PASSWORD, cleanup);
    // The mover waits a minute: every acknowledged reading is in the journal and nowhere else.
    let hub: HubProcess = startHubProcess({
      ...env,
      JOURNAL_MOVE_EVERY_MS: '60000',
      JOURNAL_MOVE_ROWS: '1000000',
    });
    cleanup.push(async () => hub.child.kill('SIGKILL'));
    const api = new ApiClient(await hub.started);
    await api.login('admin', PASSWORD);
    await api.json('POST', '/api/sites', siteFixture('jcrash-1'));
    const devices = [];
    for (let i = 0; i < DEVICES; i++)
      devices.push(await provision(api, 'jcrash-1', `jcrash-dev-${i}`, 'occupancy_counter'));
    const publishers = await Promise.all(
      devices.map((d) => devicePublisher(mqttUrl, d, cleanup, { clean: false, reconnectPeriod: 200 })),
    );
    for (const p of publishers) p.pump();
    const total = () => publishers.reduce((n, p) => n + p.acked.size, 0);
    await eventually(() => (total() > 1500 ? true : undefined), 20_000);
    hub.child.kill('SIGKILL');
    await hub.exited;
    const ackedBeforeCrash = total();

    // Nothing reached the store; every acknowledged reading is in the journal.
    expect((await storedSeqs(path.join(dataDir, 'telemetry.duckdb'))).size).toBe(0);
    expect(journalRows(dataDir)).toBeGreaterThanOrEqual(ackedBeforeCrash);

    // Restarted with the usual mover; devices resend what had no PUBACK, and one resends what had.
    hub = startHubProcess(env);
    await hub.started;
    await eventually(() => (total() > ackedBeforeCrash + 500 ? true : undefined), 30_000);
    for (const p of publishers) p.stop();
    await eventually(() => (publishers.every((p) => p.settled) ? true : undefined), 30_000);
    const resent = publishers[0]!;
    const topic = `yz/v1/jcrash-1/jcrash-dev-0/telemetry`;
    for (const seq of [...resent.acked].slice(0, 20)) {
      const payload = JSON.stringify({ readings: [{ seq, ts: Date.now(), values: { occupancy: 99 } }] });
      await resent.client.publishAsync(topic, payload, { qos: 1 });
    }
    for (const p of publishers) await p.client.endAsync();
    hub.child.kill('SIGTERM');
    expect(await hub.exited).toBe(0);

    const { stored, missing } = await unstoredAcks(dataDir, publishers, (i) => `jcrash-dev-${i}`);
    expect(missing).toBe(0);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    expect(journalRows(dataDir)).toBe(0);
    console.log(
      `journal crash test: ${ackedBeforeCrash} acknowledged from the journal alone before SIGKILL, ${total()} in all, ${stored.size} stored once each`,
    );
  }, 120_000);
});
