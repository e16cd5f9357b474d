import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { ProvisionedDevice } from '../../contract/index.js';
import { topicFor } from '../../contract/index.js';
import { connectDevice } from './hub.js';
import type { Cleanup } from './hub-process.js';

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

/** A Publisher of a provisioned device's telemetry, connected as the device; `cleanup` drops it. */
export async function devicePublisher(
  mqttUrl: string,
  d: ProvisionedDevice,
  cleanup: Cleanup,
  opts: IClientOptions = {},
): Promise<Publisher> {
  const client = await connectDevice(mqttUrl, d.device.id, d.secret, opts);
  cleanup.push(() => client.endAsync(true));
  return new Publisher(client, topicFor(d.device.siteId, d.device.id, 'telemetry'));
}

/**
 * The stored readings of a stopped hub process (see storedSeqs), and how many readings that the
 * publishers had acknowledged are not stored exactly once; publisher i is device `deviceId(i)`.
 */
export async function unstoredAcks(
  dataDir: string,
  publishers: Publisher[],
  deviceId: (i: number) => string,
) {
  const stored = await storedSeqs(path.join(dataDir, 'telemetry.duckdb'));
  let missing = 0;
  for (const [i, p] of publishers.entries()) {
    for (const seq of p.acked) if (stored.get(`${deviceId(i)}/${seq}`) !== 1) missing += 1;
  }
  return { stored, missing };
}
