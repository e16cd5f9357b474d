import { describe, expect, it } from 'vitest';
import { openInfluxStore } from '../services/telemetry/influx-store.js';
import { type Influxd, influxdAvailable, startInfluxd } from './helpers/influxd.js';
import { telemetryStoreContract } from './telemetry-store.contract.js';

// Debian's influxd 1.6.7 behind the /api/v2/write shim (labelled so): always where it is installed.
const missing = influxdAvailable();
if (missing) console.log(`TelemetryStore contract on influxd 1.6.7 skipped: ${missing}`);
let influxd: Influxd | undefined;
telemetryStoreContract(
  'influxdb (influxd 1.6.7 via the v2 write shim)',
  async () => {
    influxd ??= await startInfluxd();
    return openInfluxStore(influxd.settings);
  },
  async () => influxd?.stop(),
  { skip: missing },
);

// A real InfluxDB 2 when INFLUX_URL, INFLUX_TOKEN, INFLUX_ORG and INFLUX_BUCKET are set.
const real = ['INFLUX_URL', 'INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_BUCKET'].filter((k) => !process.env[k]);
if (real.length > 0) console.log(`TelemetryStore contract on InfluxDB 2 skipped: ${real.join(', ')} not set`);
telemetryStoreContract(
  'influxdb 2 (INFLUX_URL)',
  () =>
    openInfluxStore({
      url: process.env.INFLUX_URL!,
      token: process.env.INFLUX_TOKEN!,
      org: process.env.INFLUX_ORG!,
      bucket: process.env.INFLUX_BUCKET!,
    }),
  undefined,
  { skip: real.length > 0 ? 'INFLUX_* not set' : undefined },
);

describe.skipIf(missing !== undefined)('InfluxDB store: what its series key implies', () => {
  it('keeps two readings of one device in the same millisecond, and a resend once', async () => {
    const own = await startInfluxd();
    const store = await openInfluxStore(own.settings);
    const t = Date.UTC(2025, 8, 1, 8, 0, 0);
    const r = (seq: number, occupancy: number) => ({
      siteId: 'same-ms',
      deviceId: 'same-ms-occ',
      kind: 'occupancy_counter' as const,
      seq,
      ts: t,
      values: { occupancy },
    });
    await store.write({ readings: [r(1, 3), r(2, 4)], events: [] });
    await store.write({ readings: [r(2, 4)], events: [] });
    const [p] = await store.range({
      deviceId: 'same-ms-occ',
      metric: 'occupancy',
      from: t,
      to: t + 1,
      bucketMs: 1,
      agg: 'sum',
    });
    await store.close();
    await own.stop();
    expect(p).toEqual({ t, value: 7, count: 2 });
  });
});
