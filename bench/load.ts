import { fileURLToPath } from 'node:url';
import { type CpuReport, CpuWindow } from './cpu.js';
import { type Child, lastLines, startChild } from './processes.js';
import {
  epochNow,
  type GeneratorReply,
  type GeneratorRequest,
  type GeneratorSetup,
  type RunResult,
  type RunSpec,
} from './protocol.js';

/** The bench's handle on one load generator process (bench/load-generator.ts). */
export interface LoadGenerator {
  child: Child;
  run(spec: RunSpec): Promise<RunResult>;
  close(): Promise<void>;
}

const script = fileURLToPath(new URL('./load-generator.ts', import.meta.url));

export async function startLoadGenerator(setup: GeneratorSetup): Promise<LoadGenerator> {
  const child = startChild('load generator', process.execPath, ['--import', 'tsx', script], { ipc: true });
  let nextId = 1;
  const waiting = new Map<number, { resolve(r: GeneratorReply): void; reject(e: Error): void }>();
  child.proc.on('message', (m: GeneratorReply) => waiting.get(m.id)?.resolve(m));
  void child.exited.then(({ code, signal }) => {
    const err = new Error(`load generator exited (${signal ?? code})\n${lastLines(child.output())}`);
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  });

  type Request = GeneratorRequest extends infer R
    ? R extends GeneratorRequest
      ? Omit<R, 'id'>
      : never
    : never;
  const request = (m: Request, timeoutMs: number): Promise<GeneratorReply> => {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`load generator: no answer to ${m.type} in ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          waiting.delete(id);
          if (r.type === 'error') reject(new Error(`load generator: ${r.message}`));
          else resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      child.proc.send({ ...m, id } as GeneratorRequest);
    });
  };

  try {
    await request({ type: 'setup', setup }, 90_000);
  } catch (err) {
    await child.stop(1000);
    throw err;
  }
  return {
    child,
    async run(spec) {
      const limit = spec.measureTo - Date.now() + spec.drainMs + 30_000;
      const reply = await request({ type: 'run', run: spec }, limit);
      if (reply.type !== 'ok' || !reply.result) throw new Error('load generator: run without a result');
      return reply.result;
    },
    async close() {
      await request({ type: 'close' }, 10_000).catch(() => undefined);
      await child.stop(2000);
    },
  };
}

export interface Measured<A, B> {
  result: RunResult;
  cpu: CpuReport;
  windowS: number;
  atStart?: A;
  atEnd?: B;
}

/**
 * One run of the generator with its counted window: CPU of the named processes is sampled at the
 * window's edges, where the optional hooks also run (hub stats, the profiler).
 */
export async function measure<A = undefined, B = undefined>(
  gen: LoadGenerator,
  run: Pick<RunSpec, 'qos' | 'mode' | 'credit' | 'seqBase' | 'drainMs'> & {
    warmupMs: number;
    windowMs: number;
  },
  pids: Record<string, number>,
  hooks: { atStart?: () => Promise<A>; atEnd?: () => Promise<B> } = {},
): Promise<Measured<A, B>> {
  const startAt = epochNow() + 300;
  const spec: RunSpec = {
    qos: run.qos,
    mode: run.mode,
    credit: run.credit,
    seqBase: run.seqBase,
    drainMs: run.drainMs,
    startAt,
    measureFrom: startAt + run.warmupMs,
    measureTo: startAt + run.warmupMs + run.windowMs,
  };
  const window = new CpuWindow(pids);
  const at = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - epochNow())));
  const start = at(spec.measureFrom).then(() => {
    window.start();
    return hooks.atStart?.();
  });
  const end = at(spec.measureTo).then(() => {
    const cpu = window.stop();
    return Promise.resolve(hooks.atEnd?.()).then((v) => ({ cpu, v }));
  });
  // Settle all three before throwing, so that no hook is left running into the next phase.
  const [result, a, b] = await Promise.allSettled([gen.run(spec), start, end]);
  for (const r of [result, a, b]) if (r.status === 'rejected') throw r.reason;
  return {
    result: (result as PromiseFulfilledResult<RunResult>).value,
    cpu: (b as PromiseFulfilledResult<{ cpu: CpuReport; v: B }>).value.cpu,
    windowS: run.windowMs / 1000,
    atStart: (a as PromiseFulfilledResult<A | undefined>).value,
    atEnd: (b as PromiseFulfilledResult<{ cpu: CpuReport; v: B }>).value.v,
  };
}
