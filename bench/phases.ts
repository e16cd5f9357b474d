/**
 * Phases of a bench run: each has a time limit and a scope of resources that is closed however the
 * phase ends, and a failed phase is recorded with its error while the others go on.
 */

export interface Outcome {
  id: string;
  title: string;
  ok: boolean;
  error?: string;
  ms: number;
  data?: unknown;
}

type Disposer = () => Promise<unknown> | unknown;

/** Resources of a phase, closed in reverse order. */
export class Scope {
  private readonly disposers: Disposer[] = [];

  add<T>(resource: T, dispose: (r: T) => Promise<unknown> | unknown): T {
    this.disposers.push(() => dispose(resource));
    return resource;
  }

  async close(): Promise<void> {
    while (this.disposers.length > 0) {
      const d = this.disposers.pop()!;
      await Promise.resolve()
        .then(d)
        .catch((err) => log(`  cleanup: ${(err as Error).message}`));
    }
  }
}

export const outcomes: Outcome[] = [];

export function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const message = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n').slice(0, 6).join(' | ');

async function limited<T>(what: string, timeoutMs: number, fn: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope();
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(scope),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} timed out after ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await scope.close();
  }
}

/** Runs one measured phase; never throws. */
export async function phase<T>(
  id: string,
  title: string,
  timeoutMs: number,
  fn: (scope: Scope) => Promise<T>,
): Promise<T | undefined> {
  const t0 = performance.now();
  log(`▶ ${title}`);
  try {
    const data = await limited(title, timeoutMs, fn);
    outcomes.push({ id, title, ok: true, ms: performance.now() - t0, data });
    log(`  ✓ ${title} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return data;
  } catch (err) {
    outcomes.push({ id, title, ok: false, error: message(err), ms: performance.now() - t0 });
    log(`  ✗ ${title}: ${message(err)}`);
    return undefined;
  }
}

/**
 * Shared set-up for several phases (a broker, a hub). If it fails, every listed phase that has not
 * recorded an outcome yet is recorded as failed with the set-up's error.
 */
export async function group(
  title: string,
  phases: { id: string; title: string }[],
  timeoutMs: number,
  fn: (scope: Scope) => Promise<void>,
): Promise<void> {
  const t0 = performance.now();
  try {
    await limited(title, timeoutMs, fn);
  } catch (err) {
    log(`  ✗ ${title}: ${message(err)}`);
    for (const p of phases) {
      if (outcomes.some((o) => o.id === p.id)) continue;
      outcomes.push({ ...p, ok: false, error: `${title}: ${message(err)}`, ms: performance.now() - t0 });
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
