import type { EventBus } from '../bus/event-bus.js';
import type { Config } from '../config.js';
import type { StateDb } from '../state/db.js';
import type { DeviceRepo } from '../state/devices.js';
import type { SiteRepo } from '../state/sites.js';
import type { TelemetryStore } from '../telemetry/store.js';
import { type AlertClock, systemClock } from './clock.js';
import { AlertDispatcher } from './dispatch.js';
import { AlertEngine } from './engine.js';
import { AlertLedger } from './ledger.js';
import { AlertOutbox } from './outbox.js';
import { AlertRepo, type ContactRow } from './repo.js';
import { RuleBook } from './rules.js';

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export type Alerts = ReturnType<typeof createAlerts>;

export interface AlertsOptions {
  clock?: AlertClock;
  /** How often durations and silence are re-checked; 5 s keeps a "for 10 min" rule within 1 %. */
  tickMs?: number;
}

/**
 * Alerts, wired as one part of the hub: rules (defaults + overrides), the engine on the bus, the
 * ledger of open alerts, the dispatcher that decides messages and the outbox that sends them.
 * `enabled: false` (ALERTS=off) builds it but starts nothing: the benchmark's "rules off" side.
 */
export function createAlerts(deps: {
  db: StateDb;
  devices: DeviceRepo;
  sites: SiteRepo;
  telemetry: TelemetryStore;
  bus: EventBus;
  config: Config;
  log: Log;
  options?: AlertsOptions;
}) {
  const { config, bus, log } = deps;
  const clock = deps.options?.clock ?? systemClock;
  const repo = new AlertRepo(deps.db);
  const rules = new RuleBook(repo);
  const ledger = new AlertLedger(repo, bus, clock, log);
  const engine = new AlertEngine(deps.devices, bus, clock, rules, ledger, {
    timeZone: config.HUB_TZ,
    tickMs: deps.options?.tickMs ?? 5000,
  });
  let contacts: ContactRow[] = [];
  /** The hub's own address once it listens; HUB_PUBLIC_URL wins when set. */
  let publicUrl = `http://localhost:${config.HTTP_PORT}`;
  const outbox = new AlertOutbox(
    repo,
    ledger,
    clock,
    { contact: (id) => contacts.find((c) => c.id === id), site: (id) => engine.site(id) },
    {
      timeZone: config.HUB_TZ,
      publicUrl: () => config.HUB_PUBLIC_URL ?? publicUrl,
      retryBaseMs: config.ALERT_RETRY_BASE_MS,
      maxAttempts: 10,
      timeoutMs: 5000,
      pollMs: 1000,
      concurrency: 4,
    },
    log,
  );
  const dispatcher = new AlertDispatcher(repo, ledger, engine, () => contacts, outbox, clock);
  engine.afterTick = (now) => dispatcher.run(now);
  const enabled = config.ALERTS === 'on';
  const reload = {
    rules: async () => {
      await rules.load();
      engine.tick();
    },
    silences: async () => {
      engine.setSilences(await repo.silences(undefined, clock.now()));
      engine.tick();
    },
    contacts: async () => {
      contacts = await repo.contacts();
    },
  };
  let offSettings = () => {};

  return {
    name: 'alerts',
    enabled,
    clock,
    repo,
    rules,
    ledger,
    engine,
    dispatcher,
    outbox,
    timeZone: config.HUB_TZ,
    setPublicUrl(url: string) {
      publicUrl = url;
    },
    async reloadContacts() {
      await reload.contacts();
      bus.emit('alerts.settings', { changed: 'contacts' });
    },
    async reloadSilences() {
      await reload.silences();
      bus.emit('alerts.settings', { changed: 'silences' });
    },
    /** A rule override was set or dropped here (the RuleBook already has it). */
    rulesChanged() {
      engine.tick();
      bus.emit('alerts.settings', { changed: 'rules' });
    },
    async start() {
      if (!enabled) return;
      await rules.load();
      contacts = await repo.contacts();
      await ledger.load();
      await dispatcher.load();
      await engine.start({
        sites: await deps.sites.list(),
        latest: await deps.telemetry.latest(),
        silences: await repo.silences(undefined, clock.now()),
      });
      outbox.start();
      // Several hubs: a change made through another hub's API reaches the engine running here.
      offSettings = bus.on('alerts.settings', ({ changed }) => {
        if (bus.fromOtherHub) reload[changed]().catch((err) => log.error({ err }, 'alerts settings'));
      });
    },
    async stop() {
      if (!enabled) return;
      offSettings();
      engine.stop();
      await ledger.settled();
      await outbox.stop();
      await ledger.settled();
    },
  };
}
