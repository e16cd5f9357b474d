import type { PublishPacket } from 'aedes';
import type { DeviceEvent, EventRow, IngestErrorCode, Reading, ReadingRow } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { DeviceRecord } from '../state/devices.js';
import { ClosedError, type GroupCommit } from './group-commit.js';
import type { JournalStats } from './journaled-path.js';
import type { DeviceRateLimit } from './rate-limit.js';
import { checkPayload, type Limits } from './validate.js';

export interface IngestStats {
  messages: number;
  readings: number;
  events: number;
  refused: number;
  storeFailures: number;
  /** The ingest journal: rows waiting for the store, and what the mover did. */
  readonly journal?: JournalStats;
}

/**
 * The data path after the broker's ACL: check → journal (group commit), which tells the bus what
 * was new once it is committed; status reports go straight to the bus, as they are not stored. A payload that
 * breaks the contract is acknowledged and dropped, never stored: MQTT 3.1.1 has no negative ack,
 * and refusing it by disconnecting would make the device resend the same bad message forever,
 * stalling its good data behind it. A store failure is the opposite case: the publish is not
 * acknowledged, so the device keeps the reading and sends it again.
 */
export class Ingest {
  readonly stats: IngestStats;

  constructor(
    private readonly commit: GroupCommit,
    private readonly bus: EventBus,
    private readonly limits: Limits,
    private readonly rateLimit: DeviceRateLimit,
    journalStats?: () => JournalStats,
    /** Told how long each stored publish waited for its commit (the PUBACK latency metric). */
    private readonly acked: (ms: number) => void = () => {},
  ) {
    this.stats = { messages: 0, readings: 0, events: 0, refused: 0, storeFailures: 0 };
    // Read when /api/stats serializes it, so the numbers are current.
    if (journalStats) Object.defineProperty(this.stats, 'journal', { get: journalStats, enumerable: true });
  }

  async handle(
    device: DeviceRecord,
    channel: 'telemetry' | 'event' | 'status',
    packet: PublishPacket,
  ): Promise<void> {
    this.stats.messages += 1;
    const arrived = performance.now();
    const checked = this.rateLimit.take(device.id)
      ? checkPayload(device, channel, packet.payload as Buffer, this.limits)
      : ({
          ok: false,
          code: 'RATE_LIMITED',
          message: 'more messages than the device rate limit allows',
        } as const);
    if (!checked.ok) {
      this.stats.refused += 1;
      this.refuse(device, checked.code, checked.message);
      packet.retain = false;
      return;
    }
    try {
      if (checked.channel === 'telemetry') {
        await this.commit.submit({ readings: toRows(device, checked.readings), events: [] });
        this.stats.readings += checked.readings.length;
        this.acked(performance.now() - arrived);
      } else if (checked.channel === 'event') {
        await this.commit.submit({ readings: [], events: checked.events.map((e) => toEventRow(device, e)) });
        this.stats.events += checked.events.length;
        this.acked(performance.now() - arrived);
      } else {
        this.bus.emit('status.reported', {
          siteId: device.siteId,
          deviceId: device.id,
          kind: device.kind,
          status: checked.status,
        });
      }
    } catch (err) {
      // Shutting down is not the store's fault; the device simply sends again to the next hub.
      if (!(err instanceof ClosedError)) {
        this.stats.storeFailures += 1;
        this.refuse(device, 'STORE_FAILED', (err as Error).message);
      }
      throw err;
    }
  }

  /** Takes no more publishes and resolves once everything taken is written (or refused). */
  async stop(): Promise<void> {
    this.commit.close();
    await this.commit.drain();
  }

  private refuse(device: DeviceRecord, code: IngestErrorCode, message: string): void {
    this.bus.emit('device.refused', { siteId: device.siteId, deviceId: device.id, code, message });
  }
}

/**
 * Readings as rows, booleans as 0/1. The values object is the one just parsed from this publish
 * and owned by nobody else, so it is converted in place: one object less per reading (garbage
 * collection was 17-25 % of the main thread at full rate, bench/profile-at.ts).
 */
function toRows(device: DeviceRecord, readings: Reading[]): ReadingRow[] {
  return readings.map((r) => {
    const values = r.values as Record<string, number | boolean | undefined>;
    for (const metric in values) {
      const v = values[metric];
      if (typeof v === 'boolean') values[metric] = Number(v);
      else if (v === undefined) delete values[metric];
    }
    return {
      siteId: device.siteId,
      deviceId: device.id,
      kind: device.kind,
      seq: r.seq,
      ts: r.ts,
      values: values as Record<string, number>,
    };
  });
}

function toEventRow(device: DeviceRecord, e: DeviceEvent): EventRow {
  return {
    siteId: device.siteId,
    deviceId: device.id,
    kind: device.kind,
    seq: e.seq,
    ts: e.ts,
    type: e.type,
    code: e.code ?? null,
    item: e.item ?? null,
    ok: e.ok ?? null,
    message: e.message ?? null,
  };
}
