/** What one bench run does: the full run (~4 minutes) or `--quick` (~1 minute smoke run). */
export interface BenchOptions {
  quick: boolean;
  /** Parts to run (`--only=relay,hub,idle`, for working on one of them); all by default. */
  only: ('relay' | 'hub' | 'idle' | 'alerts')[];
  /** Publishers (one MQTT connection each) and the worker threads they are spread across. */
  publishers: number;
  workers: number;
  /** QoS 1 as-fast-as-acks-allow: unacknowledged publishes allowed per publisher. */
  inflight: number;
  /** Reference runs: messages sent and not yet delivered to the subscriber, over all publishers. */
  credit: number;
  warmupMs: number;
  windowMs: number;
  drainMs: number;
  /** A second, profiled window of the hub at full rate (not counted in its rate). */
  profileMs: number;
  /** Offered readings/s for the latency runs. */
  latencyRates: number[];
  /** `--soak=<minutes>`: a long paced run at the top latency rate after the others (0: none). */
  soakMs: number;
  /** One marker reading every so often, to time publish → socket.io. */
  markerIntervalMs: number;
  /** Sites with a week (quick: a day) of 1-minute history each. */
  sites: number;
  historyDays: number;
  /** Range queries per kind (all sites, one site), after two warm-up queries. */
  queries: number;
  /** Idle connections held at each step; the last step is "as many as the hub's fd limit allows". */
  idleSteps: number[];
  /** Upper bound of the last step (quick runs stop well short of the fd limit). */
  idleMax: number;
  idleDevicesPerSite: number;
  /** Connections one generator process holds at most (its own fd limit is 20,000 too). */
  idlePerProcess: number;
}

export function benchOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const only = argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  const parts = ['relay', 'hub', 'idle', 'alerts'] as const;
  const picked = only ? only.split(',') : [...parts];
  const unknown = picked.filter((p) => !(parts as readonly string[]).includes(p));
  if (unknown.length > 0)
    throw new Error(`--only: unknown part ${unknown.join(', ')}; use ${parts.join(', ')}`);
  return {
    quick,
    only: picked as (typeof parts)[number][],
    publishers: 100,
    workers: 2,
    inflight: 16,
    credit: 2000,
    warmupMs: quick ? 1000 : 2000,
    windowMs: quick ? 3000 : 10_000,
    drainMs: 5000,
    profileMs: quick ? 2000 : 5000,
    latencyRates: [1000, 5000],
    soakMs: Number(argv.find((a) => a.startsWith('--soak='))?.slice('--soak='.length) ?? 0) * 60_000,
    markerIntervalMs: 50,
    sites: 100,
    historyDays: quick ? 1 : 7,
    queries: quick ? 10 : 30,
    idleSteps: quick ? [500, 1000] : [5000, 10_000],
    idleMax: quick ? 1500 : 20_000,
    idleDevicesPerSite: 8,
    idlePerProcess: 7000,
  };
}
