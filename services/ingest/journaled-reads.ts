import type { TelemetryStore } from '../telemetry/store.js';
import type { JournalMover } from './journal-mover.js';

/**
 * The telemetry store as the API and live state read it: each query first waits until what was
 * journaled before it is in the store (a move is started at once), so a query after a PUBACK sees
 * the reading, as when the store was written before each PUBACK. During a store outage the wait
 * ends after `waitMs` and the query answers with what the store has.
 */
export function journaledReads(store: TelemetryStore, mover: JournalMover, waitMs = 2000): TelemetryStore {
  const settled = () => mover.settled(waitMs);
  return {
    name: store.name,
    write: (batch) => store.write(batch),
    seqRuns: () => store.seqRuns(),
    unstored: (batch) => store.unstored(batch),
    latest: (ids) => settled().then(() => store.latest(ids)),
    range: (spec) => settled().then(() => store.range(spec)),
    eventCounts: (spec) => settled().then(() => store.eventCounts(spec)),
    events: (query) => settled().then(() => store.events(query)),
    check: () => store.check(),
    close: () => store.close(),
  };
}
