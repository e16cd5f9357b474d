import type { TelemetryBatch } from '../../contract/index.js';
import type { Dedupe } from './dedupe.js';
import type { Journal, JournalEntry } from './journal.js';
import type { JournalMover } from './journal-mover.js';

/**
 * What group commit writes to before a PUBACK: new rows only (a resend is already durable), in one
 * fsync'd journal commit, then handed to the mover for the store. Resolves with the rows that
 * were new, which are all the rest of the hub hears of.
 */
export class JournalWriter {
  constructor(
    private readonly journal: Journal,
    private readonly dedupe: Dedupe,
    private readonly mover: JournalMover,
  ) {}

  async write(batch: TelemetryBatch): Promise<{ fresh: TelemetryBatch }> {
    const fresh = await this.dedupe.fresh(batch);
    if (fresh.readings.length === 0 && fresh.events.length === 0) return { fresh };
    let entry: JournalEntry;
    try {
      entry = await this.journal.append(fresh);
    } catch (err) {
      this.dedupe.settle(fresh, null);
      throw err;
    }
    this.dedupe.settle(fresh, entry);
    this.mover.enqueue(entry);
    return { fresh };
  }
}
