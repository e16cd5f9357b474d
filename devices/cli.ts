import { parseArgs } from 'node:util';
import { demoDevices, demoSites } from './demo-fleet.js';
import { HubApiError, provisionFleet } from './provision.js';
import { type FleetStats, runFleet } from './simulator/fleet.js';

const usage = `Usage: npm run devices -- [options]

Provisions the demo district on a running hub, then runs its devices over MQTT.

  --sites N        number of huts (default 24, seven devices each)
  --url URL        MQTT broker (default mqtt://127.0.0.1:1883)
  --api URL        hub HTTP API (default http://127.0.0.1:8080)
  --user NAME      admin user (default admin)
  --password PW    admin password (default: $HUB_ADMIN_PASSWORD)
  --interval MS    real ms between readings of one device (default 5000)
  --speed X        pattern time multiplier, e.g. 60 = one day in 24 minutes (default 1)
  --seed N         PRNG seed (default 1)
  --start HH:MM    start the patterns at this Asia/Shanghai time today (default now)`;

const STATUS_EVERY_MS = 10_000;

function fail(message: string): never {
  console.error(`devices: ${message}\n\n${usage}`);
  process.exit(2);
}

function number(name: string, raw: string | undefined, fallback: number, min: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) fail(`--${name} must be a number ≥ ${min}, got "${raw}"`);
  return n;
}

/** Today's HH:MM in Asia/Shanghai (UTC+8, no daylight saving), as epoch ms. */
function shanghaiToday(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) fail(`--start must be HH:MM, got "${hhmm}"`);
  const offset = 8 * 3_600_000;
  const midnight = Math.floor((Date.now() + offset) / 86_400_000) * 86_400_000 - offset;
  return midnight + (Number(m[1]) * 60 + Number(m[2])) * 60_000;
}

function statusLine(s: FleetStats): string {
  const time = new Date().toLocaleTimeString('en-GB', { timeZone: 'Asia/Shanghai' });
  const errors = Object.entries(s.errors)
    .map(([message, n]) => `${n}× ${message}`)
    .join('; ');
  return (
    `[${time}] connected ${s.connected}/${s.devices}  sent ${s.sent}  acked ${s.acked}  ` +
    `buffered ${s.buffered}  dropped ${s.dropped}${errors ? `  errors: ${errors}` : ''}`
  );
}

async function main() {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        sites: { type: 'string' },
        url: { type: 'string', default: 'mqtt://127.0.0.1:1883' },
        api: { type: 'string', default: 'http://127.0.0.1:8080' },
        user: { type: 'string', default: 'admin' },
        password: { type: 'string' },
        interval: { type: 'string' },
        speed: { type: 'string' },
        seed: { type: 'string' },
        start: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    console.log(usage);
    return;
  }
  const str = (key: string) => values[key] as string | undefined;
  const password = str('password') ?? process.env.HUB_ADMIN_PASSWORD;
  if (!password) fail('no password: pass --password or set HUB_ADMIN_PASSWORD');
  const siteCount = number('sites', str('sites'), 24, 1);
  const intervalMs = number('interval', str('interval'), 5000, 100);
  const speed = number('speed', str('speed'), 1, 0.01);
  const seed = number('seed', str('seed'), 1, 0);
  const startAt = str('start') === undefined ? undefined : shanghaiToday(str('start')!);

  const sites = demoSites(Math.floor(siteCount));
  let devices: Awaited<ReturnType<typeof provisionFleet>>;
  try {
    devices = await provisionFleet(str('api')!, { username: str('user')!, password }, sites, demoDevices, {
      log: (line) => console.log(line),
    });
  } catch (err) {
    // A refused login or a bad site is a setup problem: say what the hub said and stop.
    console.error(`devices: provisioning failed: ${err instanceof HubApiError ? err.message : String(err)}`);
    process.exit(1);
  }

  const fleet = runFleet({ url: str('url')!, devices, intervalMs, speed, seed, startAt });
  console.log(`running ${devices.length} devices against ${str('url')} (speed ×${speed}); Ctrl-C stops`);
  const timer = setInterval(() => console.log(statusLine(fleet.stats())), STATUS_EVERY_MS);

  let stopping = false;
  const shutdown = async (signal: string) => {
    // A second Ctrl-C means the user will not wait for clean disconnects.
    if (stopping) process.exit(130);
    stopping = true;
    console.log(`${signal}: disconnecting devices…`);
    clearInterval(timer);
    await fleet.stop();
    console.log(statusLine(fleet.stats()));
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

await main();
