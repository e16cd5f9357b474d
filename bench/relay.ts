import type { ReferenceBroker } from './brokers.js';
import type { CpuReport } from './cpu.js';
import { type LoadGenerator, measure, startLoadGenerator } from './load.js';
import type { BenchOptions } from './options.js';
import type { Percentiles, PublisherSpec } from './protocol.js';

/**
 * The references: how many messages/s a broker relays from the publishers to one subscriber on
 * `yz/v1/#`, with the same publishers, topics and payloads the hub gets.
 */
export interface RelayResult {
  broker: string;
  version: string;
  qos: 0 | 1;
  deliveredPerS: number;
  sentPerS: number;
  ackedPerS: number;
  ackLatency: Percentiles;
  payloadBytes: number;
  cpu: CpuReport;
  errors: string[];
}

export function relayPublishers(n: number): PublisherSpec[] {
  return Array.from({ length: n }, (_, i) => {
    const site = `bench-s${String(i + 1).padStart(3, '0')}`;
    return { clientId: `${site}-wd`, topic: `yz/v1/${site}/${site}-wd/telemetry` };
  });
}

export function startRelayGenerator(broker: ReferenceBroker, opts: BenchOptions): Promise<LoadGenerator> {
  return startLoadGenerator({
    url: broker.url,
    workers: opts.workers,
    publishers: relayPublishers(opts.publishers),
    observer: { kind: 'mqtt', url: broker.url, topic: 'yz/v1/#' },
  });
}

/**
 * QoS 1: each publisher keeps `inflight` publishes awaiting PUBACK, or with `pacedRate` the
 * publishers send that many a second between them (the hub's CPU-at-1,000/s reference). QoS 0 has no acknowledgement,
 * so both are paced end to end by the credit: at most `credit` messages sent and not yet delivered.
 */
export async function measureRelay(
  broker: ReferenceBroker,
  gen: LoadGenerator,
  qos: 0 | 1,
  opts: BenchOptions,
  seqBase: number,
  pacedRate?: number,
): Promise<RelayResult> {
  const m = await measure(
    gen,
    {
      qos,
      mode: pacedRate ? { kind: 'paced', rate: pacedRate } : { kind: 'window', inflight: opts.inflight },
      credit: opts.credit,
      seqBase,
      drainMs: opts.drainMs,
      warmupMs: opts.warmupMs,
      windowMs: opts.windowMs,
    },
    { broker: broker.child.pid, generator: gen.child.pid },
  );
  const r = m.result;
  if ((r.deliveredInWindow ?? 0) === 0) {
    throw new Error(`nothing delivered to the subscriber (${r.errors.join('; ') || 'no errors reported'})`);
  }
  return {
    broker: broker.name,
    version: broker.version,
    qos,
    deliveredPerS: (r.deliveredInWindow ?? 0) / m.windowS,
    sentPerS: r.sentInWindow / m.windowS,
    ackedPerS: r.ackedInWindow / m.windowS,
    ackLatency: r.ackLatency,
    payloadBytes: r.payloadBytes,
    cpu: m.cpu,
    errors: r.errors,
  };
}
