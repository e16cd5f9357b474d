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
