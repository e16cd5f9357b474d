/**
 * A part of the hub with a lifecycle. Constructors only wire; timers, listeners and sockets start
 * in start() and end in stop(), so a part can be built, inspected and thrown away without side
 * effects, and the hub controls the order in which the data path comes up and goes down.
 */
export interface Part {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

interface Log {
  error(obj: object, msg: string): void;
}

export const part = (
  name: string,
  start: () => Promise<void> | void,
  stop: () => Promise<void> | void = () => {},
): Part => ({ name, start: async () => start(), stop: async () => stop() });

/**
 * Starts the parts in order; if one fails, stops those already started (in reverse) and rethrows.
 * Resolves with the function that stops them all, in reverse order, each at most once; a part that
 * fails to stop is logged and the rest still stop.
 */
export async function startParts(parts: readonly Part[], log: Log): Promise<() => Promise<void>> {
  const started: Part[] = [];
  const stopAll = async () => {
    while (started.length > 0) {
      const p = started.pop()!;
      await p.stop().catch((err) => log.error({ err, part: p.name }, 'part failed to stop'));
    }
  };
  try {
    for (const p of parts) {
      // Counted before it starts: a part that half-started (a port bound, then a failure) still stops.
      started.push(p);
      await p.start();
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return stopAll;
}
