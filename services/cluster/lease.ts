import type { Redis } from 'ioredis';
import type { Part } from '../parts.js';

/** Extends the lease only while this holder still has it. */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
/** Gives the lease up only if this holder has it. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1]) else return 0 end`;

export interface LeaseOptions {
  redis: Redis;
  /** The Redis key, already with the cluster's prefix. */
  key: string;
  /** Who holds it: the hub's id. */
  holder: string;
  /** Another hub takes over at most this long after the holder died or lost Redis. */
  ttlMs: number;
  onError?: (err: unknown) => void;
}

/**
 * Runs `inner` on one hub of the cluster at a time: the hub that holds a Redis key with a TTL.
 * The holder renews it every third of the TTL; a holder that cannot (it died, or lost Redis) stops
 * `inner` before the TTL ends, so two hubs never run it at once, and a hub that finds the key gone
 * takes it and starts `inner`. For schedulers (no-show sweep, alerts, rollups, retention): each
 * starts where the shared state store says the last one stopped.
 */
export function leased(
  inner: Part,
  opts: LeaseOptions,
): Part & { readonly held: boolean; readonly starts: number } {
  let held = false;
  let starts = 0;
  let timer: NodeJS.Timeout | undefined;
  let turn: Promise<void> = Promise.resolve();
  let stopped = true;
  const onError = opts.onError ?? (() => {});
  const ttl = String(opts.ttlMs);

  // Commands wait for Redis to come back (redis-link.ts); a holder must not wait past its lease.
  const answer = <T>(p: Promise<T>) => within(p, opts.ttlMs / 3);
  const check = async () => {
    try {
      if (held) {
        held = (await answer(opts.redis.eval(RENEW, 1, opts.key, opts.holder, ttl))) === 1;
        if (!held) await inner.stop();
      } else if ((await answer(opts.redis.set(opts.key, opts.holder, 'PX', opts.ttlMs, 'NX'))) === 'OK') {
        held = true;
        if (!stopped) {
          starts += 1;
          await inner.start();
        }
      }
    } catch (err) {
      if (held) {
        held = false;
        await inner.stop().catch(onError);
      }
      onError(err);
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      turn = check().finally(schedule);
    }, opts.ttlMs / 3);
    timer.unref();
  };

  return {
    name: `${inner.name} (leased)`,
    get held() {
      return held;
    },
    /** How often this hub took the lease and started `inner`. */
    get starts() {
      return starts;
    },
    async start() {
      stopped = false;
      turn = check();
      await turn;
      schedule();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await turn;
      if (!held) return;
      held = false;
      await inner.stop();
      await opts.redis.eval(RELEASE, 1, opts.key, opts.holder).catch(onError);
    },
  };
}

function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
