import path from 'node:path';
import type { HubStatus } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import { type Part, part } from '../parts.js';
import type { TelemetryStore } from '../telemetry/store.js';
import { Dedupe } from './dedupe.js';
import { type CommitTarget, GroupCommit, type StoreFailure } from './group-commit.js';
import { Journal } from './journal.js';
import { JournalMover } from './journal-mover.js';
import { JournalWriter } from './journal-writer.js';
import { journaledReads } from './journaled-reads.js';

export interface JournaledPathOptions {
  journalDir: string;
  maxRows: number;
  moveRows: number;
  moveEveryMs: number;
  commitGapMs: number;
  store: TelemetryStore;
  bus: EventBus;
  /** Told each commit's duration and rows (metrics). */
  committed?: (ms: number, rows: number) => void;
}

export interface JournalStats {
  rows: number;
  maxRows: number;
  moves: number;
  movedRows: number;
  moveFailures: number;
}

/** Above this share of JOURNAL_MAX_ROWS, /readyz says the hub is filling up (503). */
const FILLING_SHARE = 0.9;

/**
 * The data path from group commit to the telemetry store: group commit → dedupe → journal (PUBACK)
 * → mover → store. Builds the parts and says how healthy the path is: `failing` when readings
 * cannot be journaled (disk full, journal full: PUBACKs are withheld), `filling` when only the
 * store is failing and the journal takes up the slack.
 */
export function journaledPath(opts: JournaledPathOptions) {
  const { store, bus } = opts;
  const journal = new Journal(path.join(opts.journalDir, 'journal.sqlite'), opts.maxRows);
  const dedupe = new Dedupe(store);
  let journalFailure: StoreFailure | null = null;
  let storeFailure: StoreFailure | null = null;
  let last: HubStatus['telemetryStore'] = 'ok';

  const status = (): HubStatus => {
    if (journalFailure) return { telemetryStore: 'failing', ...journalFailure };
    if (storeFailure) {
      const held = `${journal.rows} of at most ${journal.maxRows} readings and events held in the journal`;
      return {
        telemetryStore: 'filling',
        since: storeFailure.since,
        message: `${storeFailure.message}; ${held}`,
      };
    }
    return { telemetryStore: 'ok', since: null, message: null };
  };
  const report = () => {
    const s = status();
    if (s.telemetryStore === 'ok' && last === 'ok') return;
    last = s.telemetryStore;
    bus.emit('store.health', s);
  };

  const mover = new JournalMover(journal, store, {
    moveRows: opts.moveRows,
    moveEveryMs: opts.moveEveryMs,
    onMoved: (id) => dedupe.moved(id),
    onFailureChange: (f) => {
      storeFailure = f;
      report();
    },
  });
  const writer = new JournalWriter(journal, dedupe, mover);
  const committed = opts.committed;
  const target: CommitTarget = committed
    ? {
        async write(batch) {
          const t0 = performance.now();
          const result = await writer.write(batch);
          committed(performance.now() - t0, batch.readings.length + batch.events.length);
          return result;
        },
      }
    : writer;
  const commit = new GroupCommit(target, {
    // While one commit waits for its fsync, the next is already queued on the journal's thread,
    // so the thread never waits for the event loop between commits.
    maxInFlight: 2,
    minIntervalMs: opts.commitGapMs,
    onStored: (fresh) => {
      if (fresh.readings.length > 0) bus.emit('readings.stored', { readings: fresh.readings });
      if (fresh.events.length > 0) bus.emit('events.stored', { events: fresh.events });
    },
    onFailureChange: (f) => {
      journalFailure = f;
      report();
    },
  });

  // In a cluster, what other hubs journaled reaches this bus too (services/cluster/bus-relay.ts).
  // The relay sends it before their PUBACKs go out, so a device's resend here after its hub died
  // finds it known. Not heard: rows journaled by a hub killed before it could relay them, which
  // were never acknowledged nor shown; the shared store keeps one copy of them (InfluxDB's key).
  let offHeard = () => {};
  const hearOtherHubs = () =>
    bus.onMany({
      'readings.stored': ({ readings }) => {
        if (bus.fromOtherHub) dedupe.heard({ readings, events: [] });
      },
      'events.stored': ({ events }) => {
        if (bus.fromOtherHub) dedupe.heard({ readings: [], events });
      },
    });

  /** In start order; stopped in reverse, so the mover's last move runs before the journal closes. */
  const parts: Part[] = [
    part(
      'ingest journal',
      async () => {
        await journal.start();
        await dedupe.load(journal);
        offHeard = hearOtherHubs();
      },
      async () => {
        offHeard();
        await journal.stop();
      },
    ),
    mover,
  ];

  return {
    commit,
    /** The store as readers see it: a query waits for what was journaled before it. */
    reads: journaledReads(store, mover),
    parts,
    /**
     * For /readyz: readings can be acknowledged (telemetry), the journal is not nearly full
     * (journal), and the store takes the moves and answers its check (store).
     */
    ready: async () => ({
      telemetry: !commit.failure,
      journal: journal.rows < FILLING_SHARE * journal.maxRows,
      store:
        !mover.failure &&
        (await store.check().then(
          () => true,
          () => false,
        )),
    }),
    /** Copies the journal to `file` (services/backup/): see Journal.backup. */
    backupJournal: (file: string) => journal.backup(file),
    stats: (): JournalStats => ({
      rows: journal.rows,
      maxRows: journal.maxRows,
      moves: mover.stats.moves,
      movedRows: mover.stats.movedRows,
      moveFailures: mover.stats.failures,
    }),
  };
}
