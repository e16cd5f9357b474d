import { DuckDBInstance } from '@duckdb/node-api';
import type { MqttClient } from 'mqtt';

/** One device: publishes QoS 1 readings and logs every seq it got a PUBACK for. */
export class Publisher {
  acked = new Set<number>();
  private seq = 0;
  private inflight = 0;
  private running = true;
  constructor(
    readonly client: MqttClient,
    private readonly topic: string,
  ) {}

  pump(): void {
    while (this.running && this.inflight < 8) {
      const seq = ++this.seq;
      this.inflight += 1;
      const payload = JSON.stringify({ readings: [{ seq, ts: Date.now(), values: { occupancy: seq % 7 } }] });
      this.client.publish(this.topic, payload, { qos: 1 }, (err) => {
        this.inflight -= 1;
        if (!err) this.acked.add(seq);
        setTimeout(() => this.pump(), 5);
      });
    }
  }

  stop(): void {
    this.running = false;
  }

  /** Everything sent has been acknowledged (mqtt.js resends unacked QoS 1 after reconnecting). */
  get settled(): boolean {
    return this.inflight === 0;
  }
}

/** How often each `device/seq` is in a hub's telemetry file, read directly once the hub has stopped. */
export async function storedSeqs(file: string): Promise<Map<string, number>> {
  const db = await DuckDBInstance.create(file);
  const conn = await db.connect();
  const rows = (
    await conn.runAndReadAll('SELECT device_id, seq, count(*) AS n FROM readings GROUP BY device_id, seq')
  ).getRowObjectsJS();
  conn.closeSync();
  db.closeSync();
  return new Map(rows.map((r) => [`${r.device_id}/${r.seq}`, Number(r.n)]));
}
