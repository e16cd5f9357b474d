import fs from 'node:fs';
import path from 'node:path';
import type { CpuReport } from './cpu.js';
import type { FinderLoadResult } from './finder.js';
import type { E2eResult, LatencyResult } from './hub-e2e.js';
import type { IdleResult } from './idle-connections.js';
import type { BenchOptions } from './options.js';
import type { Outcome } from './phases.js';
import type { ProfileSummary } from './profile.js';
import type { Percentiles } from './protocol.js';
import type { RangeResult } from './range-query.js';
import type { RelayResult } from './relay.js';
import type { StoreWriteResult } from './store-write.js';

/** The run's JSON and its Markdown table, with the issue's targets marked pass or miss. */

export interface BenchRun {
  startedAt: string;
  /** CPU used by other processes in the 2 s before the bench started, % of one core. */
  busyBeforePct: number;
  finishedAt: string;
  options: BenchOptions;
  machine: { cores: number; node: string; cpuModel: string; memGiB: number };
  versions: Record<string, string>;
  outcomes: Outcome[];
}

const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '—');
const dec = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '—');
const pcts = (p?: Percentiles) => (p && p.n > 0 ? `${dec(p.p50)} / ${dec(p.p95)} / ${dec(p.p99)}` : '—');
const settled = (x: LatencyResult['settle']) =>
  x ? `${dec(x.ms / 1000, 1)} s, ${int(x.journalRows)} rows${x.idle ? '' : ' (never idle)'}` : '—';

const cpuOf = (c: CpuReport | undefined, name: string) => {
  const u = c?.processes[name];
  if (!u) return '—';
  const main =
    name === 'hub' && Number.isFinite(u.mainThreadPct) ? ` (main ${dec(u.mainThreadPct!, 0)} %)` : '';
  return `${dec(u.pct, 0)} %${main}`;
};
const genCpu = (c?: CpuReport) => {
  if (!c) return '—';
  const total = Object.entries(c.processes)
    .filter(([k]) => k.startsWith('generator'))
    .reduce((s, [, u]) => s + u.pct, 0);
  return `${dec(total, 0)} %`;
};
const other = (c?: CpuReport) => (c ? `${dec(c.otherPct, 0)} %` : '—');
/** CPU of the broker or hub, % of one core, per 1,000 messages (relay: delivered; hub: readings) a second. */
const cpuPer1k = (c: CpuReport | undefined, name: string, perS: number) => {
  const u = c?.processes[name];
  return u && perS > 0 ? (1000 * u.pct) / perS : NaN;
};
const per1k = (x: number) => (Number.isFinite(x) ? `${dec(x, 1)} %` : '—');

export function buildMarkdown(run: BenchRun): string {
  const first = new Map<string, Outcome>();
  for (const o of run.outcomes) if (!first.has(o.id)) first.set(o.id, o);
  const data = <T>(id: string) => (first.get(id)?.ok ? (first.get(id)!.data as T) : undefined);
  const failed = (id: string) => (first.get(id) && !first.get(id)!.ok ? first.get(id)!.error : undefined);
  const missing = (id: string) => (failed(id) ? `failed: ${failed(id)}` : 'not run');
  const o = run.options;

  const relay = (b: string, q: 0 | 1) => data<RelayResult>(`relay-${b}-qos${q}`);
  const e2e = data<E2eResult>('hub-e2e');
  const aedes1 = relay('aedes', 1);
  const mosq1 = relay('mosquitto', 1);
  const ratio = (den?: RelayResult) => (e2e && den ? e2e.readingsPerS / den.deliveredPerS : NaN);
  const lat = (rate: number) => data<LatencyResult>(`hub-latency-${rate}`);
  const idle = data<IdleResult>('hub-idle');
  type AlertsE2e = E2eResult & { rates: number[]; usPerReading: number[] };
  const alertsOn = data<AlertsE2e>('alerts-on');
  const alertsOff = data<AlertsE2e>('alerts-off');
  const alertLat = data<Percentiles & { tileP99: number | null }>('alerts-latency');
  const alertFull = data<Percentiles & { tileP99: number | null }>('alerts-latency-full');
  const range = data<RangeResult>('hub-range');
  const profile = data<ProfileSummary & { readingsPerS: number; cpu: CpuReport; file: string }>(
    'hub-profile',
  );
  const top = o.latencyRates[o.latencyRates.length - 1]!;
  const hi = lat(top);
  const lo = lat(1000);
  const soak = data<LatencyResult>('hub-soak');
  const hubCpu = (r?: { cpu: CpuReport }) => r?.cpu.processes.hub?.pct;
  const paced = (b: string) => data<RelayResult>(`relay-${b}-paced`);
  const pacedCpu = (b: string) => {
    const pct = paced(b)?.cpu.processes.broker?.pct;
    return pct === undefined ? '—' : `${dec(pct, 0)} %`;
  };
  const maxStep = idle?.steps[idle.steps.length - 1];

  const verdict = (ok: boolean | undefined) => (ok === undefined ? 'n/a' : ok ? '**pass**' : '**miss**');
  const targets: [string, string, boolean | undefined][] = [
    [
      'hub e2e QoS 1 ≥ 1.0× bare aedes QoS 1 relay',
      e2e && aedes1
        ? `${dec(ratio(aedes1), 2)}× (${int(e2e.readingsPerS)} vs ${int(aedes1.deliveredPerS)} /s)`
        : (failed('hub-e2e') ?? failed('relay-aedes-qos1') ?? '—'),
      e2e && aedes1 ? ratio(aedes1) >= 1 : undefined,
    ],
    [
      `p99 publish→PUBACK < 25 ms at ${int(top)}/s`,
      hi ? `${dec(hi.ackLatency.p99)} ms` : (failed(`hub-latency-${top}`) ?? '—'),
      hi ? hi.ackLatency.p99 < 25 : undefined,
    ],
    [
      `p99 publish→socket.io < 50 ms at ${int(top)}/s`,
      hi?.liveLatency
        ? `${dec(hi.liveLatency.p99)} ms (${hi.liveLatency.n} markers)`
        : (failed(`hub-latency-${top}`) ?? '—'),
      hi?.liveLatency && hi.liveLatency.n > 0
        ? hi.liveLatency.p99 < 50 && hi.liveLatency.missed === 0
        : undefined,
    ],
    [
      'hub e2e with the default alert rules on within 5 % of rules off',
      alertsOn && alertsOff
        ? `${dec((alertsOn.readingsPerS / alertsOff.readingsPerS) * 100, 1)} % (best of ${alertsOn.rates.length}: ${int(alertsOn.readingsPerS)} vs ${int(alertsOff.readingsPerS)} /s; runs on ${alertsOn.rates.map((x) => int(x)).join(', ')}, off ${alertsOff.rates.map((x) => int(x)).join(', ')}; hub CPU per reading on ${alertsOn.usPerReading.map((x) => dec(x, 1)).join(', ')} µs, off ${alertsOff.usPerReading.map((x) => dec(x, 1)).join(', ')} µs)`
        : (failed('alerts-on') ?? failed('alerts-off') ?? '—'),
      alertsOn && alertsOff ? alertsOn.readingsPerS >= 0.95 * alertsOff.readingsPerS : undefined,
    ],
    [
      'p99 alert raised → socket.io < 100 ms at 1,000 readings/s',
      alertLat
        ? `${dec(alertLat.p99)} ms (p50 ${dec(alertLat.p50)}, n ${alertLat.n}; tiles p99 ${dec(alertLat.tileP99 ?? NaN)} ms)`
        : (failed('alerts-latency') ?? '—'),
      alertLat ? alertLat.p99 < 100 : undefined,
    ],
    [
      'alert raised → socket.io under full-rate load, no slower than the tiles (p99)',
      alertFull
        ? `${dec(alertFull.p99)} ms (p50 ${dec(alertFull.p50)}; tiles p99 ${dec(alertFull.tileP99 ?? NaN)} ms)`
        : (failed('alerts-latency-full') ?? '—'),
      alertFull && alertFull.tileP99 !== null ? alertFull.p99 <= alertFull.tileP99 : undefined,
    ],
    [
      '≤ 10 KiB RSS per idle authenticated connection',
      maxStep
        ? `${dec(maxStep.kibPerConnection)} KiB at ${int(maxStep.connectedDevices)}`
        : (failed('hub-idle') ?? '—'),
      maxStep ? maxStep.kibPerConnection <= 10 : undefined,
    ],
    [
      'every connection up to the fd limit held',
      idle && maxStep
        ? `${int(idle.heldAtEnd.connectedDevices)} of ${int(idle.maxTarget)} held (fd limit ${int(idle.fdLimit)})`
        : (failed('hub-idle') ?? '—'),
      idle && maxStep
        ? maxStep.connacked === idle.maxTarget &&
          idle.heldAtEnd.connectedDevices === idle.maxTarget &&
          idle.heldAtEnd.dropped === 0
        : undefined,
    ],
    [
      'week-of-100-sites range query p95 < 100 ms',
      range
        ? `${dec(range.allSites.p95)} ms (one site: ${dec(range.perSite.p95)} ms)`
        : (failed('hub-range') ?? '—'),
      range ? range.allSites.p95 < 100 : undefined,
    ],
    [
      'no event-loop stall > 50 ms during the range queries',
      range
        ? `${dec(Math.max(range.allSites.loopMaxMs, range.perSite.loopMaxMs))} ms max`
        : (failed('hub-range') ?? '—'),
      range ? Math.max(range.allSites.loopMaxMs, range.perSite.loopMaxMs) <= 50 : undefined,
    ],
    [
      'hub CPU ≤ 15 % of one core at 1,000 readings/s',
      lo && hubCpu(lo) !== undefined
        ? `${dec(hubCpu(lo)!, 0)} % (${int(lo.ackedPerS)} acked/s); at the same pace aedes relays for ` +
          `${pacedCpu('aedes')}, Mosquitto for ${pacedCpu('mosquitto')}`
        : (failed('hub-latency-1000') ?? '—'),
      lo && hubCpu(lo) !== undefined ? hubCpu(lo)! <= 15 : undefined,
    ],
    [
      'hub RSS under full load ≤ 250 MiB',
      e2e ? `${dec(e2e.hubStats.end.rssBytes / 2 ** 20)} MiB at the end of the full-rate window` : '—',
      e2e ? e2e.hubStats.end.rssBytes / 2 ** 20 <= 250 : undefined,
    ],
    [
      `no event-loop stall > 50 ms at ${int(top)}/s` +
        (soak
          ? ` over a ${dec(soak.windowS! / 60, 0)}-minute soak`
          : ` (${o.windowMs / 1000} s window, no soak run)`),
      (soak ?? hi)?.loopMaxMs !== undefined ? `${dec((soak ?? hi)!.loopMaxMs!)} ms max` : '—',
      (soak ?? hi)?.loopMaxMs !== undefined ? (soak ?? hi)!.loopMaxMs! <= 50 : undefined,
    ],
    ...(soak
      ? ([
          [
            `soak p99 publish→PUBACK < 25 ms / socket.io < 50 ms at ${int(top)}/s`,
            `${dec(soak.ackLatency.p99)} / ${soak.liveLatency ? dec(soak.liveLatency.p99) : '—'} ms`,
            soak.ackLatency.p99 < 25 && (soak.liveLatency?.p99 ?? Infinity) < 50,
          ],
        ] as [string, string, boolean | undefined][])
      : []),
  ];

  const L: string[] = [];
  const payload = relay('aedes', 1)?.payloadBytes ?? e2e?.payloadBytes;
  L.push(
    `# Yizhan Hub benchmark — ${run.startedAt.replace('T', ' ').slice(0, 16)} UTC${o.quick ? ' (quick)' : ''}`,
    '',
    `Machine: ${run.machine.cores} cores (${run.machine.cpuModel}), ${run.machine.memGiB} GiB, Node ${run.machine.node}; ` +
      Object.entries(run.versions)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') +
      '.',
    `Load: ${o.publishers} mqtt.js publishers in ${o.workers} worker threads plus one observer thread, all in one generator process ` +
      `that **shares the ${run.machine.cores} cores** with the broker under test; one reading per publish, ${dec(payload ?? NaN, 0)} B of JSON. ` +
      `Counted window ${o.windowMs / 1000} s after ${o.warmupMs / 1000} s of warm-up. ` +
      `QoS 1 window: ${o.inflight} in flight per publisher; reference runs are also paced end to end (≤ ${int(o.credit)} sent and not yet delivered). ` +
      'CPU is % of one core (100 % = one core); "other" is the rest of the machine in the same window (other jobs share it; ' +
      `${dec(run.busyBeforePct, 0)} % before the bench started). ` +
      'The hub runs from dist/ with authentication and validation on and its per-device rate limit lifted (100 connections stand in for a fleet).',
    '',
    '## Targets',
    '',
    '| target | measured | result |',
    '|---|---|---|',
    ...targets.map(([t, m, ok]) => `| ${t} | ${m} | ${verdict(ok)} |`),
    '',
    '## Throughput',
    '',
    '| run | QoS | rate /s | ÷ aedes QoS 1 | ÷ mosquitto QoS 1 | PUBACK p50 / p95 / p99 ms | broker / hub CPU | CPU per 1,000/s | generator CPU | other CPU |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const b of ['mosquitto', 'aedes']) {
    for (const q of [0, 1] as const) {
      const r = relay(b, q);
      const name = `${b} ${r?.version ?? ''} relay`.trim();
      if (!r) {
        L.push(`| ${name} | ${q} | ${missing(`relay-${b}-qos${q}`)} | | | | | | | |`);
        continue;
      }
      L.push(
        `| ${name} | ${q} | ${int(r.deliveredPerS)} delivered | ${aedes1 ? dec(r.deliveredPerS / aedes1.deliveredPerS, 2) : '—'} | ` +
          `${mosq1 ? dec(r.deliveredPerS / mosq1.deliveredPerS, 2) : '—'} | ${q === 1 ? pcts(r.ackLatency) : '—'} | ` +
          `${cpuOf(r.cpu, 'broker')} | ${per1k(cpuPer1k(r.cpu, 'broker', r.deliveredPerS))} | ${genCpu(r.cpu)} | ${other(r.cpu)} |`,
      );
    }
  }
  for (const b of ['mosquitto', 'aedes']) {
    const r = paced(b);
    if (!r) continue;
    L.push(
      `| ${b} ${r.version} relay, paced 1,000/s | 1 | ${int(r.deliveredPerS)} delivered | — | — | ${pcts(r.ackLatency)} | ` +
        `${cpuOf(r.cpu, 'broker')} | ${per1k(cpuPer1k(r.cpu, 'broker', r.deliveredPerS))} | ${genCpu(r.cpu)} | ${other(r.cpu)} |`,
    );
  }
  if (e2e) {
    L.push(
      `| **hub e2e**: auth, validation, durable before PUBACK, stored in DuckDB, socket.io | 1 | **${int(e2e.readingsPerS)}** readings stored | ` +
        `**${dec(ratio(aedes1), 2)}** | **${dec(ratio(mosq1), 2)}** | ${pcts(e2e.ackLatency)} | ${cpuOf(e2e.cpu, 'hub')} | ${per1k(cpuPer1k(e2e.cpu, 'hub', e2e.readingsPerS))} | ${genCpu(e2e.cpu)} | ${other(e2e.cpu)} |`,
      '',
      `Hub e2e cross-checks: /api/stats ingest.readings grew ${int(e2e.statsReadingsPerS)}/s over the window; ` +
        `socket.io client got ${int(e2e.siteEventsPerS)} site updates/s (in \`sites\` events) and, 1 s after the end, showed the last acknowledged reading of ` +
        `${e2e.liveFresh?.fresh ?? '—'} of ${e2e.liveFresh?.devices ?? '—'} devices; publish→socket.io p50 / p95 / p99 ${pcts(e2e.liveLatency)} ms; ` +
        `${e2e.unacked} publishes unacknowledged at the end, ${e2e.storeFailures} store failures, ${e2e.refused} refused` +
        (e2e.hubStats.end.ingest.journal
          ? `; ingest journal at the window's end: ${int(e2e.hubStats.end.ingest.journal.rows)} rows waiting for DuckDB, ` +
            `${int(e2e.hubStats.end.ingest.journal.movedRows - (e2e.hubStats.start.ingest.journal?.movedRows ?? 0))} moved during the window ` +
            `in ${int(e2e.hubStats.end.ingest.journal.moves - (e2e.hubStats.start.ingest.journal?.moves ?? 0))} store writes`
          : '') +
        (e2e.refused > 0
          ? ' (**refused readings were acknowledged but not stored: the rate above overstates**)'
          : '') +
        '.',
    );
    L.push(
      '',
      'CPU per 1,000/s is the broker or hub CPU (% of one core) divided by thousands of messages a second: ' +
        'delivered messages for the relays (each received and sent once), readings for the hub (received, validated, journaled, stored, shown live).',
    );
  } else L.push(`| hub e2e | 1 | ${missing('hub-e2e')} | | | | | | | |`);

  const store = data<StoreWriteResult>('store-write');
  const writeTable = (title: string, batches: StoreWriteResult['batches']) => [
    '',
    title,
    '',
    '| readings per batch (rows) | write ms p50 / p95 / p99 | CPU ms per write (all threads) | readings/s if writes ran back to back (p50) |',
    '|---|---|---|---|',
    ...batches.map(
      (b) =>
        `| ${int(b.readings)} (${int(b.rows)}) | ${pcts(b.ms)} | ${dec(b.cpuMsPerWrite)} | ${int(b.readingsPerS)} |`,
    ),
  ];
  if (store?.journal) {
    L.push(
      ...writeTable(
        'Journal.append alone (SQLite WAL, synchronous=FULL, on its own thread: the commit before each PUBACK; in the bench process, no other load from the bench):',
        store.journal,
      ),
    );
  }
  if (store) {
    L.push(
      ...writeTable(
        'TelemetryStore.write alone (DuckDB, BEGIN…COMMIT with the WAL fsync; ' +
          (store.journal ? 'what the journal mover does once a second' : 'same code as group commit') +
          ', in the bench process, no other load from the bench):',
        store.batches,
      ),
    );
  }

  L.push(
    '',
    '## Latency (hub, QoS 1, paced publishers)',
    '',
    '| offered /s | window | sent /s | acked /s | publish→PUBACK p50 / p95 / p99 ms | publish→socket.io p50 / p95 / p99 ms | hub CPU | CPU per 1,000/s | event-loop max ms | hub RSS MiB | generator CPU | other CPU | settled first |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  const latencyRows: [string, LatencyResult | undefined, number][] = [
    ...o.latencyRates.map((rate): [string, LatencyResult | undefined, number] => [
      `hub-latency-${rate}`,
      lat(rate),
      rate,
    ]),
    ...(o.soakMs > 0 ? [['hub-soak', soak, top] as [string, LatencyResult | undefined, number]] : []),
  ];
  for (const [id, r, rate] of latencyRows) {
    if (!r) L.push(`| ${int(rate)} | ${missing(id)} | | | | | | | | | | | |`);
    else {
      const live = r.liveLatency;
      L.push(
        `| ${int(rate)} | ${dec(r.windowS ?? NaN, 0)} s | ${int(r.sentPerS)} | ${int(r.ackedPerS)} | ${pcts(r.ackLatency)} | ${pcts(live)}` +
          `${live ? ` (${live.n} markers${live.missed ? `, ${live.missed} never shown` : ''})` : ''} | ` +
          `${cpuOf(r.cpu, 'hub')} | ${per1k(cpuPer1k(r.cpu, 'hub', r.ackedPerS))} | ${dec(r.loopMaxMs ?? NaN)} | ${dec((r.rssBytes ?? NaN) / 2 ** 20)} | ${genCpu(r.cpu)} | ${other(r.cpu)} | ${settled(r.settle)} |`,
      );
    }
  }
  L.push(
    '',
    'Settled first: before each paced run the hub finishes what the run before left (journal rows still to move into DuckDB, rollups) until it idles under 5 % of a core for a second; the column says how long that took and how many journal rows were waiting.',
  );

  L.push('', '## Idle authenticated connections (raw TCP + mqtt-packet CONNECT, keep-alive 60 s)', '');
  if (idle) {
    L.push(
      `Hub fd limit ${int(idle.fdLimit)}, ${idle.fdsAtZero} open with no device connected, ${idle.fdReserve} kept in reserve → last step ${int(idle.maxTarget)}. ` +
        `RSS with no device ${dec(idle.rssAtZeroBytes / 2 ** 20)} MiB. ${idle.generatorProcesses} generator processes. RSS read after a forced GC.`,
      '',
      '| target | CONNACK 0 | refused / failed / dropped | hub connectedDevices | hub fds | hub RSS MiB | KiB / connection | connect s | hub CPU | generator CPU |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...idle.steps.map(
        (s) =>
          `| ${int(s.target)} | ${int(s.connacked)} | ${s.refused} / ${s.failed} / ${s.dropped} | ${int(s.connectedDevices)} | ${int(s.hubFds)} | ` +
          `${dec(s.rssBytes / 2 ** 20)} | ${dec(s.kibPerConnection)} | ${dec(s.connectS)} | ${cpuOf(s.cpu, 'hub')} | ${genCpu(s.cpu)} |` +
          (s.firstError ? ` first error: ${s.firstError}` : ''),
      ),
      '',
      `5 s after the last step: hub connectedDevices ${int(idle.heldAtEnd.connectedDevices)}, ${idle.heldAtEnd.dropped} dropped by the hub.`,
    );
  } else L.push(missing('hub-idle'));

  L.push('', `## Range query: hourly buckets over a week of 1-minute readings, ${o.sites} sites`, '');
  if (range) {
    L.push(
      `${int(range.rows)} readings in ${range.buckets} buckets; first (cold) query ${dec(range.coldMs)} ms; ` +
        `event-loop max with no request ${dec(range.idleLoopMaxMs)} ms (the histogram's floor).`,
      '',
      '| query | n | p50 ms | p95 ms | max ms | event-loop max ms | event-loop p99 ms |',
      '|---|---|---|---|---|---|---|',
      `| all sites (admin, no siteId) | ${range.allSites.n} | ${dec(range.allSites.p50)} | ${dec(range.allSites.p95)} | ${dec(range.allSites.max)} | ${dec(range.allSites.loopMaxMs)} | ${dec(range.allSites.loopP99Ms)} |`,
      `| one site (siteId) | ${range.perSite.n} | ${dec(range.perSite.p50)} | ${dec(range.perSite.p95)} | ${dec(range.perSite.max)} | ${dec(range.perSite.loopMaxMs)} | ${dec(range.perSite.loopP99Ms)} |`,
    );
  } else L.push(missing('hub-range'));

  L.push('', '## Where the hub spends its time at full rate (V8 profile of the main thread)', '');
  if (profile) {
    const busy = profile.totalMs - profile.idleMs;
    L.push(
      `A separate ${o.profileMs / 1000} s window at full rate (${int(profile.readingsPerS)} readings/s while profiled; hub CPU ${cpuOf(profile.cpu, 'hub')}). ` +
        `Main thread busy ${dec(busy, 0)} of ${dec(profile.totalMs, 0)} ms sampled (${dec((100 * busy) / profile.totalMs, 0)} %). Self time:`,
      '',
      '| function | where | self ms | % of busy |',
      '|---|---|---|---|',
      ...profile.functions.map(
        (f) => `| \`${f.name}\` | ${f.where || '—'} | ${dec(f.ms, 0)} | ${dec(f.pct)} |`,
      ),
      '',
      `By package: ${profile.packages.map((p) => `${p.name} ${dec(p.pct, 0)} %`).join(', ')}.`,
    );
  } else L.push(missing('hub-profile'));

  const finder = data<FinderLoadResult>('hub-finder');
  L.push('', '## Public station finder under ingest load (issue 16)', '');
  if (finder) {
    L.push(
      `GET /api/public/stations from one process, ${finder.concurrency} in flight, ${int(finder.bodyBytes)} bytes a reply, during a full-rate ingest window.`,
      '',
      '| finder req/s | p50 ms | p99 ms | errors | snapshot builds / requests | ingest readings/s without | ingest readings/s with |',
      '|---|---|---|---|---|---|---|',
      `| ${int(finder.requestsPerS)} | ${dec(finder.latency.p50)} | ${dec(finder.latency.p99)} | ${finder.errors} | ${finder.finderStats ? `${int(finder.finderStats.builds)} / ${int(finder.finderStats.requests)}` : '—'} | ${int(finder.ingestWithout)} | ${int(finder.ingestWith)} |`,
    );
  } else L.push(missing('hub-finder'));

  const failures = [...first.values()].filter((x) => !x.ok);
  if (failures.length > 0) {
    L.push('', '## Failed phases', '', ...failures.map((f) => `- **${f.title}** (\`${f.id}\`): ${f.error}`));
  }
  return `${L.join('\n')}\n`;
}

/** Writes <stamp>.json, <stamp>.md and latest.md; returns the Markdown file's path. */
export function writeResults(run: BenchRun, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const stamp = run.startedAt.replace(/[:.]/g, '-').slice(0, 19);
  const md = buildMarkdown(run);
  fs.writeFileSync(path.join(dir, `${stamp}.json`), `${JSON.stringify(run, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, `${stamp}.md`), md);
  fs.writeFileSync(path.join(dir, 'latest.md'), md);
  return path.join(dir, `${stamp}.md`);
}
