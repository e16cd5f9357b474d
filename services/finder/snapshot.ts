import { createHash } from 'node:crypto';
import {
  type AppointmentsDay,
  type PublicStation,
  type PublicStations,
  publicStationOf,
  type Site,
  type SiteLive,
} from '../../contract/index.js';
import type { EventBus } from '../bus/event-bus.js';
import type { Part } from '../parts.js';

/** A built reply: the JSON text once, and its validator, so a request only compares and sends. */
export interface Built {
  body: string;
  etag: string;
}

export interface FinderDeps {
  bus: EventBus;
  /** Sites from the state store (read at start only; then 'site.changed' keeps them). */
  sites: { list(): Promise<Site[]> };
  /** The live state's in-memory view: never the telemetry store. */
  live: { snapshot(): SiteLive[] };
  /** Today's screening days (read at start and once per local day). */
  screening: { today(): string; days(sites: undefined, date: string): Promise<AppointmentsDay[]> };
  timeZone: string;
  staleAfterMs: number;
  now?: () => number;
  /** A changed snapshot is rebuilt at most this often, however many requests come (default 1 s). */
  minRebuildMs?: number;
  /** An unchanged one is still rebuilt this often: opening hours and staleness follow the clock. */
  maxAgeMs?: number;
  onError?: (err: unknown) => void;
}

/**
 * The public finder's snapshot (issue 16). Bus events only mark it dirty; a request rebuilds it
 * when it is dirty and at least `minRebuildMs` old, or older than `maxAgeMs`, so a crowd of
 * visitors costs one build a second at most and nothing else: the reply is a prepared string with
 * an ETag. It holds sites, live views and today's screening in memory and has no handle on the
 * telemetry store, by construction.
 */
export class FinderSnapshot implements Part {
  readonly name = 'finder snapshot';
  readonly stats = { builds: 0, requests: 0, notModified: 0 };
  private readonly sites = new Map<string, Site>();
  private readonly lives = new Map<string, SiteLive>();
  private readonly screeningToday = new Map<string, boolean>();
  private screeningDate = '';
  private screeningLoad: Promise<void> | undefined;
  private built: { at: number; all: Built; bySite: Map<string, Built> } | undefined;
  private dirty = true;
  private off = () => {};
  private readonly now: () => number;

  constructor(private readonly deps: FinderDeps) {
    this.now = deps.now ?? Date.now;
  }

  async start(): Promise<void> {
    this.off = this.deps.bus.onMany({
      'site.changed': ({ site }) => {
        this.sites.set(site.id, site);
        this.dirty = true;
      },
      'live.sites': ({ sites }) => {
        for (const l of sites) this.lives.set(l.siteId, l);
        this.dirty = true;
      },
      'live.appointments': (day) => {
        if (day.date !== this.screeningDate) return;
        this.screeningToday.set(day.siteId, scheduled(day));
        this.dirty = true;
      },
    });
    for (const s of await this.deps.sites.list()) this.sites.set(s.id, s);
    for (const l of this.deps.live.snapshot()) this.lives.set(l.siteId, l);
    await this.loadScreening();
  }

  async stop(): Promise<void> {
    this.off();
  }

  /** Every station, sorted by community then id (the page re-sorts by distance when it may). */
  all(): Built {
    return this.current().all;
  }

  one(siteId: string): Built | undefined {
    return this.current().bySite.get(siteId);
  }

  private current() {
    const now = this.now();
    const b = this.built;
    if (b && now - b.at < (this.dirty ? (this.deps.minRebuildMs ?? 1000) : (this.deps.maxAgeMs ?? 15_000))) {
      return b;
    }
    if (this.deps.screening.today() !== this.screeningDate && !this.screeningLoad) {
      // Midnight passed: yesterday's sessions are not today's. One state-store read, in the background.
      this.screeningLoad = this.loadScreening()
        .catch((err) => this.deps.onError?.(err))
        .finally(() => {
          this.screeningLoad = undefined;
        });
    }
    this.dirty = false;
    this.stats.builds += 1;
    const stations = [...this.sites.values()]
      .sort((x, y) => x.community.zh.localeCompare(y.community.zh, 'zh') || x.id.localeCompare(y.id))
      .map((s) =>
        publicStationOf(s, this.lives.get(s.id), now, this.deps.timeZone, this.deps.staleAfterMs, {
          screeningToday: this.screeningToday.get(s.id) === true,
        }),
      );
    const bySite = new Map<string, Built>();
    for (const st of stations) bySite.set(st.id, prepared(now, this.deps, [st]));
    this.built = { at: now, all: prepared(now, this.deps, stations), bySite };
    return this.built;
  }

  private async loadScreening(): Promise<void> {
    const date = this.deps.screening.today();
    const days = await this.deps.screening.days(undefined, date);
    this.screeningDate = date;
    this.screeningToday.clear();
    for (const d of days) this.screeningToday.set(d.siteId, scheduled(d));
    this.dirty = true;
  }
}

function scheduled(day: AppointmentsDay): boolean {
  return day.sessions.some((s) => s.status === 'scheduled');
}

function prepared(now: number, deps: FinderDeps, stations: PublicStation[]): Built {
  const reply: PublicStations = {
    generatedAt: now,
    staleAfterMs: deps.staleAfterMs,
    timeZone: deps.timeZone,
    stations,
  };
  // The validator covers the stations only: a rebuild that changed nothing keeps the ETag, so a
  // polling page gets 304 until something a visitor would see changes.
  const hash = createHash('sha1').update(JSON.stringify(stations)).digest('base64url').slice(0, 16);
  return { body: JSON.stringify(reply), etag: `"${hash}"` };
}
