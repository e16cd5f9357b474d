import type { IngestErrorCode, IngestErrorCount } from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { StateDb } from './db.js';

/**
 * Per-device counts of refused messages. Counted in memory and written once a second, so a device
 * spraying garbage costs one upsert a second, not one per message.
 */
export class IngestErrorLog {
  readonly name = 'refusal counts';
  private pending = new Map<string, IngestErrorCount>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: () => void = () => {};

  constructor(
    private readonly db: StateDb,
    private readonly bus: EventBus,
    private readonly flushMs = 1000,
  ) {}

  /** Counts every refusal the bus reports, from the broker and from ingest alike. */
  async start(): Promise<void> {
    this.unsubscribe = this.bus.on('device.refused', (r) => {
      // The hub that refused it counts it; another hub's relay copy is for its alerts and live view.
      if (!this.bus.fromOtherHub) this.record(r.deviceId, r.code, r.message);
    });
    // A failed flush (disk full) puts its counts back and tries again on the next tick.
    this.timer = setInterval(() => this.flush().catch(() => {}), this.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.unsubscribe();
    clearInterval(this.timer);
    await this.flush().catch(() => {});
  }

  record(deviceId: string, code: IngestErrorCode, message: string): void {
    const key = `${deviceId}\u0000${code}`;
    const entry = this.pending.get(key);
    const lastMessage = message.slice(0, 500);
    if (entry) {
      entry.count += 1;
      entry.lastMessage = lastMessage;
      entry.lastAt = Date.now();
    } else {
      this.pending.set(key, { deviceId, code, count: 1, lastMessage, lastAt: Date.now() });
    }
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const taken = this.pending;
    const batch = [...taken.values()];
    this.pending = new Map();
    try {
      await this.write(batch);
    } catch (err) {
      for (const [key, e] of taken) {
        const now = this.pending.get(key);
        this.pending.set(
          key,
          now ? { ...e, count: e.count + now.count, lastMessage: now.lastMessage, lastAt: now.lastAt } : e,
        );
      }
      throw err;
    }
  }

  private async write(batch: IngestErrorCount[]): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      for (const e of batch) {
        await tx
          .insertInto('ingest_errors')
          .values({
            device_id: e.deviceId,
            code: e.code,
            count: e.count,
            last_message: e.lastMessage,
            last_at: e.lastAt,
          })
          .onConflict((oc) =>
            oc.columns(['device_id', 'code']).doUpdateSet((eb) => ({
              count: eb('ingest_errors.count', '+', eb.ref('excluded.count')),
              last_message: eb.ref('excluded.last_message'),
              last_at: eb.ref('excluded.last_at'),
            })),
          )
          .execute();
      }
    });
  }

  /** Flushes first, so a caller sees what it just caused (or what is stored, if the disk is full). */
  async list(deviceIds?: readonly string[]): Promise<IngestErrorCount[]> {
    await this.flush().catch(() => {});
    if (deviceIds && deviceIds.length === 0) return [];
    let q = this.db.selectFrom('ingest_errors').selectAll().orderBy('device_id').orderBy('code');
    if (deviceIds) q = q.where('device_id', 'in', deviceIds);
    return (await q.execute()).map((r) => ({
      deviceId: r.device_id,
      code: r.code,
      count: Number(r.count),
      lastMessage: r.last_message,
      lastAt: Number(r.last_at),
    }));
  }
}
