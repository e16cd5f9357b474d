import type { TelemetryBatch } from '../../contract/index.js';
import { SeqIndex } from './seq-index.js';
import type { TelemetryStore, WriteResult } from './store.js';

/**
 * The dedupe decision for a store without `countsNew` (InfluxDB, issue 13): which of a batch's
 * (device, seq) readings and events are news to the rest of the hub. Storing a resend is harmless
 * there (same series key and timestamp); announcing it again is not, so the hub remembers what it
 * wrote, in the same run-length index the DuckDB store uses. Limit: the index lives in memory, so
 * after a restart a device's resend of something it sent before is announced once more (stored once).
 */
export function withNewsFilter(store: TelemetryStore): TelemetryStore {
  if (store.capabilities?.countsNew !== false) return store;
  const readings = new SeqIndex();
  const events = new SeqIndex();
  const write = async (batch: TelemetryBatch): Promise<WriteResult> => {
    const result = await store.write(batch);
    const fresh: TelemetryBatch = {
      readings: result.fresh.readings.filter((r) => readings.has(r.deviceId, r.seq) !== true),
      events: result.fresh.events.filter((e) => events.has(e.deviceId, e.seq) !== true),
    };
    // Only after the store accepted them: a failed write must be news when it is resent.
    for (const r of fresh.readings) readings.add(r.deviceId, r.seq);
    for (const e of fresh.events) events.add(e.deviceId, e.seq);
    return { readings: fresh.readings.length, events: fresh.events.length, fresh };
  };
  return {
    name: store.name,
    capabilities: { countsNew: true },
    write,
    seqRuns: () => store.seqRuns(),
    unstored: (batch) => store.unstored(batch),
    latest: (deviceIds) => store.latest(deviceIds),
    range: (spec) => store.range(spec),
    eventCounts: (spec) => store.eventCounts(spec),
    events: (query) => store.events(query),
    check: () => store.check(),
    close: () => store.close(),
  };
}
