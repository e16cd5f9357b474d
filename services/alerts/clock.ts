/**
 * The alerts' sense of time. Durations ("for 10 min"), silences, repeats and retries all read
 * `now()` and run on `every()`, so tests drive time with a fake clock instead of waiting.
 */
export interface AlertClock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export const systemClock: AlertClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return () => clearInterval(t);
  },
};
