import type { PublishPacket } from 'aedes';
import type { DeviceEvent, Reading } from '../../contract/index.js';
import type { LiveState } from '../live/live-state.js';
import type { DeviceRecord } from '../state/devices.js';
import type { IngestErrorLog } from '../state/ingest-errors.js';
import type { EventRow, ReadingRow } from '../telemetry/store.js';
import { ClosedError, type GroupCommit } from './group-commit.js';
import type { DeviceRateLimit } from './rate-limit.js';
import { checkPayload, type Limits } from './validate.js';

export interface IngestStats {
  messages: number;
  readings: number;
  events: number;
  refused: number;
  storeFailures: number;
}

/**
 * The data path after the broker's ACL: check → store (group commit) → live state. A payload that
 * breaks the contract is acknowledged and dropped, never stored: MQTT 3.1.1 has no negative ack,
 * and refusing it by disconnecting would make the device resend the same bad message forever,
 * stalling its good data behind it. A store failure is the opposite case: the publish is not
 * acknowledged, so the device keeps the reading and sends it again.
 */
export class Ingest {
  readonly stats: IngestStats = { messages: 0, readings: 0, events: 0, refused: 0, storeFailures: 0 };

  constructor(
    private readonly commit: GroupCommit,
    private readonly live: LiveState,
    private readonly errors: IngestErrorLog,
    private readonly limits: Limits,
    private readonly rateLimit: DeviceRateLimit,
  ) {}

  async handle(
    device: DeviceRecord,
    channel: 'telemetry' | 'event' | 'status',
    packet: PublishPacket,
  ): Promise<void> {
    this.stats.messages += 1;
    const checked = this.rateLimit.take(device.id)
      ? checkPayload(device, channel, packet.payload as Buffer, this.limits)
      : ({
          ok: false,
          code: 'RATE_LIMITED',
          message: 'more messages than the device rate limit allows',
        } as const);
    if (!checked.ok) {
      this.stats.refused += 1;
      this.errors.record(device.id, checked.code, checked.message);
      packet.retain = false;
      return;
    }
    try {
      if (checked.channel === 'telemetry') {
        await this.commit.submit({ readings: toRows(device, checked.readings), events: [] });
        this.stats.readings += checked.readings.length;
        this.live.applyReadings(device, checked.readings);
      } else if (checked.channel === 'event') {
        await this.commit.submit({ readings: [], events: checked.events.map((e) => toEventRow(device, e)) });
        this.stats.events += checked.events.length;
        this.live.applyEvents(device, checked.events);
      } else {
        this.live.applyStatus(device, checked.status);
      }
    } catch (err) {
      // Shutting down is not the store's fault; the device simply sends again to the next hub.
      if (!(err instanceof ClosedError)) {
        this.stats.storeFailures += 1;
        this.errors.record(device.id, 'STORE_FAILED', (err as Error).message);
      }
      throw err;
    }
  }
}

function toRows(device: DeviceRecord, readings: Reading[]): ReadingRow[] {
  return readings.map((r) => {
    const values: Record<string, number> = {};
    for (const [metric, v] of Object.entries(r.values)) {
      if (v !== undefined) values[metric] = typeof v === 'boolean' ? Number(v) : v;
    }
    return { siteId: device.siteId, deviceId: device.id, kind: device.kind, seq: r.seq, ts: r.ts, values };
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
