import type { EventRow, ReadingRow, TelemetryBatch } from '../../contract/index.js';
import { SeqIndex } from '../telemetry/seq-index.js';
import type { TelemetryStore } from '../telemetry/store.js';
import { entryBatch, type Journal, type JournalEntry } from './journal.js';

const keyOf = (row: { deviceId: string; seq: number }): string => `${row.deviceId}\0${row.seq}`;

/**
 * First occurrence wins, so a batch that repeats a key keeps it once. Keyed by device, then seq,
 * holding a lone seq as a number until a device has two: no string built per row.
 */
function uniqueBy<T extends { deviceId: string; seq: number }>(rows: readonly T[]): T[] {
  if (rows.length < 2) return [...rows];
  const seen = new Map<string, number | Set<number>>();
  return rows.filter((row) => {
    const had = seen.get(row.deviceId);
    if (had === undefined) {
      seen.set(row.deviceId, row.seq);
      return true;
    }
    if (typeof had === 'number') {
      if (had === row.seq) return false;
      seen.set(row.deviceId, new Set([had, row.seq]));
      return true;
    }
    if (had.has(row.seq)) return false;
    had.add(row.seq);
    return true;
  });
}

type Claims = Map<string, Set<number>>;

function inFlight(claims: Claims, row: { deviceId: string; seq: number }): boolean {
  return claims.get(row.deviceId)?.has(row.seq) ?? false;
}

function claim(claims: Claims, rows: readonly { deviceId: string; seq: number }[], on: boolean): void {
  for (const r of rows) {
    let seqs = claims.get(r.deviceId);
    if (on) {
      if (!seqs) {
        seqs = new Set();
        claims.set(r.deviceId, seqs);
      }
      seqs.add(r.seq);
    } else if (seqs) {
      seqs.delete(r.seq);
      if (seqs.size === 0) claims.delete(r.deviceId);
    }
  }
}

/**
 * Tells a new reading or event from a resend at ingest time, before the journal commit, so that
 * only new rows are journaled and reach the bus (live state, alerts) — the rule the store kept
 * when it was written before each PUBACK. Covers what the store and the journal hold: the store's
 * seq runs and the journal's entries are loaded at start, and every row journaled since is added.
 *
 * A device whose seqs are too scattered for SeqIndex (a broken or hostile counter, or the events of
 * a device whose seqs are shared with many readings) is asked of the store instead; its rows still
 * in the journal are kept here by key until the mover has moved them. Known gap: rows journaled
 * before a device turned scattered and not moved yet are in neither, so a resend of one in that
 * window (about a second) is journaled again; the store still keeps one copy.
 */
export class Dedupe {
  private readonly readings = new SeqIndex();
  private readonly events = new SeqIndex();
  /** Keys of rows of scattered devices that are journaled and not yet in the store. */
  private readonly pendingReadings = new Map<string, number>();
  private readonly pendingEvents = new Map<string, number>();
  /** Rows handed out by fresh() whose journal write has not ended: seqs per device. */
  private readonly claimedReadings = new Map<string, Set<number>>();
  private readonly claimedEvents = new Map<string, Set<number>>();

  constructor(private readonly store: TelemetryStore) {}

  async load(journal: Journal): Promise<void> {
    const runs = await this.store.seqRuns();
    for (const [d, lo, hi] of runs.readings) this.readings.addRun(d, lo, hi);
    for (const [d, lo, hi] of runs.events) this.events.addRun(d, lo, hi);
    let after = 0;
    for (;;) {
      const entries = await journal.read(after, 50_000);
      if (entries.length === 0) break;
      for (const e of entries) this.add(e.id, entryBatch(e));
      after = entries.at(-1)!.id;
    }
  }

  /**
   * The rows of `batch` that are neither stored nor journaled. Synchronous for nearly every
   * device; only rows of scattered devices wait for the store.
   */
  async fresh(batch: TelemetryBatch): Promise<TelemetryBatch> {
    const readings = uniqueBy(batch.readings);
    const events = uniqueBy(batch.events);
    const unknownR = readings.filter((r) => this.readings.has(r.deviceId, r.seq) === undefined);
    const unknownE = events.filter((e) => this.events.has(e.deviceId, e.seq) === undefined);
    let inStore: TelemetryBatch | null = null;
    if (unknownR.length > 0 || unknownE.length > 0) {
      // The journal first, then the store: a row the mover removes from the journal after this
      // check was committed to the store before it, so the store's answer (read later) has it.
      const notPendingR = unknownR.filter((r) => !this.pendingReadings.has(keyOf(r)));
      const notPendingE = unknownE.filter((e) => !this.pendingEvents.has(keyOf(e)));
      const ask = { readings: notPendingR, events: notPendingE };
      // A store that cannot answer must not hold up every device's PUBACK: the rows count as new.
      // The store still keeps one copy; at worst live state hears of a resend of this device twice.
      inStore = await this.store.unstored(ask).catch(() => ask);
    }
    const newR = new Set(inStore?.readings.map(keyOf));
    const newE = new Set(inStore?.events.map(keyOf));
    // Synchronous from here to the return: a row is claimed by one write only, so two journal
    // writes in flight at once never both take the same (device, seq).
    const fresh = {
      readings: readings.filter((r) => {
        if (inFlight(this.claimedReadings, r)) return false;
        const known = this.readings.has(r.deviceId, r.seq);
        return known === undefined ? newR.has(keyOf(r)) : !known;
      }),
      events: events.filter((e) => {
        if (inFlight(this.claimedEvents, e)) return false;
        const known = this.events.has(e.deviceId, e.seq);
        return known === undefined ? newE.has(keyOf(e)) : !known;
      }),
    };
    claim(this.claimedReadings, fresh.readings, true);
    claim(this.claimedEvents, fresh.events, true);
    return fresh;
  }

  /**
   * The write of rows from fresh() ended: committed as `entry` (they are known from now on), or
   * failed with null (they are not, and a retry asks again).
   */
  settle(fresh: TelemetryBatch, entry: JournalEntry | null): void {
    if (entry) this.add(entry.id, fresh);
    claim(this.claimedReadings, fresh.readings, false);
    claim(this.claimedEvents, fresh.events, false);
  }

  /** Journal entry `id`, holding `batch`, committed: its rows are known from now on. */
  private add(id: number, batch: TelemetryBatch): void {
    this.track(id, batch.readings, this.readings, this.pendingReadings);
    this.track(id, batch.events, this.events, this.pendingEvents);
  }

  /**
   * Rows another hub of the cluster journaled (relayed on the bus, issue 14): known here from now
   * on, so a device that lost that hub before its PUBACK and resends here is not journaled and
   * announced twice. Only into the seq index: a scattered device's rows are left to the store.
   */
  heard(batch: TelemetryBatch): void {
    for (const r of batch.readings) this.readings.add(r.deviceId, r.seq);
    for (const e of batch.events) this.events.add(e.deviceId, e.seq);
  }

  /** The mover stored every entry up to `throughId`: the store answers for them now. */
  moved(throughId: number): void {
    for (const pending of [this.pendingReadings, this.pendingEvents]) {
      if (pending.size === 0) continue;
      for (const [k, id] of pending) if (id <= throughId) pending.delete(k);
    }
  }

  private track(
    id: number,
    rows: readonly (ReadingRow | EventRow)[],
    index: SeqIndex,
    pending: Map<string, number>,
  ): void {
    for (const r of rows) {
      index.add(r.deviceId, r.seq);
      if (index.has(r.deviceId, r.seq) === undefined) pending.set(keyOf(r), id);
    }
  }
}
