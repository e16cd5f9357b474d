import path from 'node:path';
import { startHub } from '../services/hub.js';
import { demoDevices, demoSites, WEARING_FOR_MS, wearingDispenserSite } from './demo-fleet.js';
import { planDemoHistory } from './demo-history-backfill.js';
import { movedPortsNote, portOr0 } from './demo-ports.js';
import { seedScreeningHistory } from './demo-screening-history.js';
import { organiser, seedDemoSessions } from './demo-sessions.js';
import { provisionFleet } from './provision.js';
import { runFleet } from './simulator/fleet.js';

/**
 * `npm run demo`: the hub on its embedded engines with a data directory of its own, plus a
 * simulated fleet of 24 huts, so there is something to see straight away. Unlike `npm start` it
 * takes free ports when the usual ones are busy.
 */
const DEMO_PASSWORD = process.env.HUB_ADMIN_PASSWORD || 'yizhan-demo';

const wantedHttp = Number(process.env.HTTP_PORT ?? 8080);
const wantedMqtt = Number(process.env.MQTT_PORT ?? 1883);
const httpPort = await portOr0(wantedHttp, '0.0.0.0');
const mqttPort = await portOr0(wantedMqtt, '0.0.0.0');
const dataDir = process.env.HUB_DATA_DIR ?? path.resolve('.demo-data');
const hub = await startHub({
  HUB_DATA_DIR: dataDir,
  HTTP_PORT: httpPort,
  MQTT_PORT: mqttPort,
  HUB_ADMIN_PASSWORD: DEMO_PASSWORD,
  LOG_LEVEL: (process.env.LOG_LEVEL as 'warn' | undefined) ?? 'warn',
});

const sites = demoSites(24);
const devices = await provisionFleet(
  hub.httpUrl,
  { username: 'admin', password: DEMO_PASSWORD },
  sites,
  demoDevices,
  {
    log: (line) => console.log(line),
  },
);
// The admin plans the demo's screening week, as a station's organiser would in the dashboard.
const admin = await organiser(hub.httpUrl, { username: 'admin', password: DEMO_PASSWORD });
await seedDemoSessions(hub.appointments, sites, admin, { log: (line) => console.log(line) });
const hours = new Map(sites.map((s) => [s.id, s]));
const wearing = wearingDispenserSite(sites);
const withSite = (d: (typeof devices)[number], historyEnd: number) => ({
  ...d,
  seats: hours.get(d.siteId)?.seats,
  openingHours: hours.get(d.siteId)?.openingHours,
  wearingSince:
    d.kind === 'water_dispenser' && d.siteId === wearing ? historyEnd - WEARING_FOR_MS : undefined,
});
// Eight weeks of the same simulated life, so trends have something true to show at once. Decided
// before the fleet starts (its readings would make the hub look used), written beside it.
const history = await planDemoHistory(hub.telemetry, {
  dataDir,
  deviceIds: devices.map((d) => d.deviceId),
  devices: ({ to }) => devices.map((d) => withSite(d, to)),
  now: Date.now(),
  log: (line) => console.log(line),
});
if (history.outcome === 'written') {
  const past = await seedScreeningHistory(hub.appointments.repo, {
    sites,
    organiser: admin,
    timeZone: hub.appointments.timeZone,
    from: history.from,
    to: history.to,
    now: Date.now(),
  });
  console.log(
    `demo history: ${past.sessions} past screening sessions, ${past.bookings} bookings (counts only)`,
  );
  console.log('demo history: writing eight weeks in the background…');
}
// Cut short (Ctrl-C, a failure), it resumes the same window on the next start.
history.write().catch((err) => console.error(`demo history stopped, resumes next start: ${err.message}`));
const fleet = runFleet({
  url: hub.mqttUrl,
  devices: devices.map((d) => withSite(d, history.to)),
  intervalMs: 3000,
  log: (line) => console.log(line),
});

const portsNote = movedPortsNote([
  // URL leaves out a scheme's default port: http's 80.
  { name: 'HTTP', wanted: wantedHttp, got: Number(new URL(hub.httpUrl).port || 80) },
  { name: 'MQTT', wanted: wantedMqtt, got: Number(new URL(hub.mqttUrl).port) },
]);
console.log(`
Yizhan Hub demo — ${sites.length} huts, ${devices.length} devices
  dashboard  ${hub.httpUrl}   (log in as admin / ${DEMO_PASSWORD})
  MQTT       ${hub.mqttUrl}   WebSocket ${hub.wsUrl}
  API docs   ${hub.httpUrl}/docs
  ${portsNote ? `${portsNote}\n  ` : ''}Ctrl-C stops.`);

const status = setInterval(() => {
  const s = fleet.stats();
  console.log(
    `devices connected ${s.connected}/${s.devices}  sent ${s.sent}  acked ${s.acked}  buffered ${s.buffered}`,
  );
}, 30_000);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(status);
    history.stop();
    await fleet.stop();
    await hub.close();
    process.exit(0);
  });
}
