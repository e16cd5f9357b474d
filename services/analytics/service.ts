import type {
  DeviceKind,
  HeatmapQuery,
  HeatmapReply,
  KpiKey,
  KpisReply,
  LeagueQuery,
  LeagueReply,
  ResolvedRange,
  Site,
  TrendPoint,
  TrendQuery,
  TrendReply,
  User,
} from '../../contract/index.js';
import type { AppointmentSummaries } from '../appointments/summary.js';
import type { DeviceRepo } from '../state/devices.js';
import type { SiteRepo } from '../state/sites.js';
import {
  type Bucket,
  bucketsBetween,
  type CalendarGrain,
  minuteOfDay,
  weekdayHour,
} from '../telemetry/rollup-calendar.js';
import type { DuckDbRollups, SourceBucket } from '../telemetry/rollup-duckdb.js';
import {
  type Acc,
  addCalendar,
  addRow,
  addScreening,
  emptyAcc,
  finalize,
  KPI_METRICS,
  knownKpis,
  METRICS_OF,
  merge,
} from './figures.js';
import { compareRange, resolveRange } from './range.js';
import { sitesInScope } from './scope.js';

export interface AnalyticsDeps {
  rollups: DuckDbRollups;
  sites: SiteRepo;
  devices: DeviceRepo;
  screening: AppointmentSummaries;
  timeZone: string;
  now?: () => number;
}

/** KPIs that need the sites' opening hours and device counts (the rest come from rollups alone). */
const CALENDAR: ReadonlySet<KpiKey> = new Set(['uptimePct', 'openHours', 'usableHours']);
const SCREENING: ReadonlySet<KpiKey> = new Set(['sessionsHeld', 'booked', 'attended', 'noShows', 'fillRate']);

/**
 * Planners' figures (issue 12), from the rollups and the screening counts. Every answer is made of
 * counts and measurements per site: residents' names, numbers and booking codes never enter here.
 */
export class AnalyticsService {
  private readonly now: () => number;
  /**
   * Site lists `scope()` found to be every site there is, when it made them: a query over one of
   * these needs no site filter. Per list, not a shared count: a site deleted during one request
   * must not make another user's narrower list look like "all" (it would add sites they may not see).
   */
  private readonly everySite = new WeakSet<Site[]>();
  private fleetMemo: Map<string, { kinds: DeviceKind[]; since: number[] }> | null = null;
  /** Each device's first rolled-up reading, refreshed at most once a minute (it moves only with backfills). */
  private firstSeen: { at: number; seen: Map<string, number> } = { at: -Infinity, seen: new Map() };

  constructor(private readonly d: AnalyticsDeps) {
    this.now = d.now ?? Date.now;
  }

  get timeZone(): string {
    return this.d.timeZone;
  }

  range(scope: Parameters<typeof resolveRange>[0]): ResolvedRange {
    return resolveRange(scope, this.now(), this.d.timeZone);
  }

  async scope(user: User, scope: Parameters<typeof sitesInScope>[2]): Promise<Site[]> {
    const sites = await sitesInScope(this.d.sites, user, scope);
    const mine = new Set(sites.map((s) => s.id));
    const all = await this.d.sites.list();
    if (all.length === mine.size && all.every((s) => mine.has(s.id))) this.everySite.add(sites);
    return sites;
  }

  async kpis(user: User, q: Parameters<typeof resolveRange>[0]): Promise<KpisReply> {
    const range = this.range(q);
    const sites = await this.scope(user, q);
    const accs = await this.perSite(sites, range, true);
    const communities = new Map<string, { site: Site; acc: Acc; sites: number }>();
    const total = emptyAcc();
    for (const s of sites) {
      const acc = accs.get(s.id)!;
      merge(total, acc);
      const c = communities.get(s.community.zh) ?? { site: s, acc: emptyAcc(), sites: 0 };
      merge(c.acc, acc);
      c.sites += 1;
      communities.set(s.community.zh, c);
    }
    return {
      range,
      sites: sites.map((s) => ({
        siteId: s.id,
        name: s.name,
        community: s.community,
        kpis: finalize(accs.get(s.id)!),
      })),
      communities: [...communities.values()].map((c) => ({
        community: c.site.community,
        sites: c.sites,
        kpis: finalize(c.acc),
      })),
      total: finalize(total),
    };
  }

  async trend(user: User, q: TrendQuery): Promise<TrendReply> {
    const range = this.range(q);
    const sites = await this.scope(user, q);
    const other = compareRange(range, q.compare);
    // Side by side: the rollups answer them on two query connections.
    const [points, all] = await Promise.all([
      this.series(sites, range, q.grain, q.kpi),
      other ? this.series(sites, other, q.grain, q.kpi) : [],
    ]);
    const compare = all.slice(0, points.length);
    return {
      range,
      kpi: q.kpi,
      grain: q.grain,
      points,
      compare: { kind: q.compare, range: other, points: compare },
    };
  }

  async heatmap(user: User, q: HeatmapQuery): Promise<HeatmapReply> {
    const range = this.range(q);
    const sites = await this.scope(user, q);
    const hours = bucketsBetween(range.start, range.end, 'hour', this.d.timeZone, false);
    const occurrences = new Array<number>(7 * 24).fill(0);
    const src = hours.map((h) => {
      const { weekday, hour } = weekdayHour(h.t, this.d.timeZone);
      const k = (weekday - 1) * 24 + hour;
      occurrences[k]! += 1;
      return { t: h.t, tEnd: h.tEnd, k };
    });
    const make = this.accMaker(sites, true);
    const accs = occurrences.map(() => make());
    const rows = await this.d.rollups.aggregate({
      grain: 'hour',
      buckets: src,
      sites: this.filter(sites),
      metrics: METRICS_OF[q.kpi],
      by: 'k',
    });
    for (const r of rows) addRow(accs[r.k]!, r);
    const cells = accs.map((acc, k) => {
      const v = finalize(acc)[q.kpi];
      const n = occurrences[k]!;
      return {
        weekday: Math.floor(k / 24) + 1,
        hour: k % 24,
        value: v === null || n === 0 ? null : Math.round((v / n) * 1000) / 1000,
      };
    });
    return { range, kpi: q.kpi, cells };
  }

  async league(user: User, q: LeagueQuery): Promise<LeagueReply> {
    const range = this.range(q);
    const sites = await this.scope(user, q);
    const days = bucketsBetween(range.start, range.end, 'day', this.d.timeZone);
    // Totals and sparklines side by side: the rollups answer them on two query connections.
    const [totals, rows] = await Promise.all([
      this.perSite(sites, range, true),
      this.d.rollups.aggregate({
        grain: 'day',
        buckets: days.map((b, k) => ({ t: b.t, tEnd: b.tEnd, k })),
        sites: this.filter(sites),
        metrics: METRICS_OF[q.spark],
      }),
    ]);
    const daily = new Map(
      sites.map((s) => {
        const make = this.accMaker([s], true);
        return [s.id, days.map(() => make())];
      }),
    );
    for (const r of rows) addRow(daily.get(r.siteId)![r.k]!, r);
    await this.loadFirstSeen();
    if (CALENDAR.has(q.spark)) {
      for (const s of sites) {
        const accs = daily.get(s.id)!;
        for (const [k, b] of days.entries()) this.calendar(accs[k]!, s, b.t, b.tEnd);
      }
    }
    if (SCREENING.has(q.spark))
      await this.screening(sites, range, 'day', days, (siteId, k) => daily.get(siteId)![k]);
    const list = sites.map((s) => ({
      siteId: s.id,
      name: s.name,
      community: s.community,
      kpis: finalize(totals.get(s.id)!),
      spark: daily.get(s.id)!.map((acc) => finalize(acc)[q.spark]),
    }));
    const dir = q.order === 'asc' ? 1 : -1;
    list.sort((a, b) => {
      const x = a.kpis[q.sort];
      const y = b.kpis[q.sort];
      if (x === y) return a.siteId.localeCompare(b.siteId);
      if (x === null) return 1;
      if (y === null) return -1;
      return (x - y) * dir;
    });
    return {
      range,
      sort: q.sort,
      order: q.order,
      spark: q.spark,
      rows: list.slice(0, q.limit).map((r, i) => ({ ...r, rank: i + 1 })),
    };
  }

  /** One KPI per bucket of `grain` over the range, all sites in scope together. */
  private async series(
    sites: Site[],
    range: ResolvedRange,
    grain: CalendarGrain,
    kpi: KpiKey,
  ): Promise<TrendPoint[]> {
    const tz = this.d.timeZone;
    const targets = bucketsBetween(range.start, range.end, grain, tz);
    const make = this.accMaker(sites, true);
    const accs = targets.map(() => make());
    const srcGrain = grain === 'hour' ? 'hour' : 'day';
    const src: SourceBucket[] = [];
    const calendar: [number, number, number][] = [];
    targets.forEach((b, k) => {
      // A week or month at either end of the range counts only its days inside the range.
      const inner =
        srcGrain === 'hour'
          ? [b]
          : bucketsBetween(Math.max(b.t, range.start), Math.min(b.tEnd, range.end), 'day', tz);
      for (const x of inner) {
        src.push({ t: x.t, tEnd: x.tEnd, k });
        calendar.push([k, x.t, x.tEnd]);
      }
    });
    const rows = await this.d.rollups.aggregate({
      grain: srcGrain,
      buckets: src,
      sites: this.filter(sites),
      metrics: METRICS_OF[kpi],
      by: 'k',
    });
    for (const r of rows) addRow(accs[r.k]!, r);
    await this.loadFirstSeen();
    if (CALENDAR.has(kpi))
      for (const s of sites) for (const [k, t, e] of calendar) this.calendar(accs[k]!, s, t, e);
    if (SCREENING.has(kpi) && grain !== 'hour')
      await this.screening(sites, range, grain, targets, (_s, k) => accs[k]);
    return targets.map((b, k) => ({ t: b.t, label: b.label, value: finalize(accs[k]!)[kpi] }));
  }

  /** Every KPI of each site over the whole range. */
  private async perSite(sites: Site[], range: ResolvedRange, calendar: boolean): Promise<Map<string, Acc>> {
    const accs = new Map(sites.map((s) => [s.id, this.accMaker([s])()]));
    const days = bucketsBetween(range.start, range.end, 'day', this.d.timeZone);
    const rows = await this.d.rollups.aggregate({
      grain: 'day',
      buckets: days.map((b) => ({ t: b.t, tEnd: b.tEnd, k: 0 })),
      sites: this.filter(sites),
      metrics: KPI_METRICS,
    });
    for (const r of rows) {
      const acc = accs.get(r.siteId);
      if (acc) addRow(acc, r);
    }
    await this.loadFirstSeen();
    if (calendar) for (const s of sites) for (const b of days) this.calendar(accs.get(s.id)!, s, b.t, b.tEnd);
    await this.screening(
      sites,
      range,
      'day',
      [{ t: 0, tEnd: 0, label: '' }],
      (siteId) => accs.get(siteId),
      true,
    );
    return accs;
  }

  /** Screening counts by period, added to the accumulator `into` picks (by site and bucket index). */
  private async screening(
    sites: Site[],
    range: ResolvedRange,
    grain: Exclude<CalendarGrain, 'hour'>,
    buckets: Bucket[],
    into: (siteId: string, k: number) => Acc | undefined,
    whole = false,
  ): Promise<void> {
    const ids = sites.filter((s) => s.type !== 'caring').map((s) => s.id);
    if (ids.length === 0) return;
    const stats = await this.d.screening.stats(
      { from: range.from, to: range.to, groupBy: whole ? 'none' : grain },
      ids,
    );
    const index = new Map(buckets.map((b, k) => [b.label, k]));
    for (const row of stats.rows) {
      const k = whole ? 0 : index.get(row.period ?? '');
      if (k === undefined) continue;
      const acc = into(row.siteId, k);
      if (acc) addScreening(acc, row);
    }
  }

  /**
   * Makes empty accumulators that know what these sites can tell. `shared`: they share one `known`
   * set, for accumulators nothing is merged into (a league's 100 sites × 90 days: two sets per
   * accumulator cost the league a third of its time in garbage collection, measured).
   */
  private accMaker(sites: Site[], shared = false): () => Acc {
    const known = new Set<KpiKey>();
    const fleet = this.fleet();
    for (const s of sites) {
      for (const k of knownKpis(fleet.get(s.id)?.kinds ?? [], s.type !== 'caring')) known.add(k);
    }
    return shared ? () => emptyAcc(known) : () => emptyAcc(new Set(known));
  }

  private calendar(acc: Acc, site: Site, start: number, end: number): void {
    addCalendar(acc, {
      start,
      end,
      now: this.now(),
      since: this.fleet().get(site.id)?.since ?? [],
      hours: site.openingHours,
      minuteOf: (ms) => minuteOfDay(ms, this.d.timeZone),
    });
  }

  /** Sites to filter on; none when they are every site there is (a planner's default: no filter to apply). */
  private filter(sites: Site[]): string[] | undefined {
    return this.everySite.has(sites) ? undefined : sites.map((s) => s.id);
  }

  /**
   * Uptime counts a device from when it began: its provisioning, or its first rolled-up reading if
   * earlier (history imported or backfilled, as the demo's). Read before a query's calendar pass.
   */
  private async loadFirstSeen(): Promise<void> {
    const now = this.now();
    if (now - this.firstSeen.at < 60_000) return;
    this.firstSeen = { at: now, seen: await this.d.rollups.firstSeen() };
    this.fleetMemo = null;
  }

  /** Device kinds and starts per site, from one pass over the device directory, kept for the current tick. */
  private fleet(): Map<string, { kinds: DeviceKind[]; since: number[] }> {
    if (this.fleetMemo) return this.fleetMemo;
    const m = new Map<string, { kinds: DeviceKind[]; since: number[] }>();
    for (const d of this.d.devices.list()) {
      const e = m.get(d.siteId) ?? { kinds: [], since: [] };
      e.kinds.push(d.kind);
      e.since.push(Math.min(d.createdAt, this.firstSeen.seen.get(d.id) ?? Number.POSITIVE_INFINITY));
      m.set(d.siteId, e);
    }
    this.fleetMemo = m;
    // A request computes in one go; the next one sees devices added meanwhile.
    setImmediate(() => {
      this.fleetMemo = null;
    });
    return m;
  }
}
