import { randomBytes } from 'node:crypto';
import os from 'node:os';
import redisPersistence from 'aedes-persistence-redis';
import { clusterMq } from '../../broker/cluster-mq.js';
import type { UnackedCounts } from '../../broker/commands.js';
import type { EventBus } from '../bus/event-bus.js';
import type { DeviceRateLimit } from '../ingest/rate-limit.js';
import { type Part, part } from '../parts.js';
import type { DeviceRepo } from '../state/devices.js';
import { BusRelay } from './bus-relay.js';
import { type LeaseOptions, leased } from './lease.js';
import { RedisLink } from './redis-link.js';

interface Log {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ClusterOptions {
  url: string;
  /** Every key and channel of this cluster starts with it: several clusters (or tests) share a Redis. */
  prefix: string;
  /** A hub not heard from for this long is gone; a lease held by a dead hub ends as late. */
  deadAfterMs: number;
  bus: EventBus;
  devices: DeviceRepo;
  rateLimit: DeviceRateLimit;
  log: Log;
}

export type Cluster = ReturnType<typeof createCluster>;

/**
 * This hub as one of several linked by Redis (REDIS_URL, issue 14): the broker's sessions, queued
 * commands, retained status and fan-out; the event bus; command counts; rate-limit buckets of
 * devices that move; and leases for what must run once per cluster. Built only when REDIS_URL is
 * set: a single hub runs none of it.
 */
export function createCluster(opts: ClusterOptions) {
  const hub = `${os.hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const link = new RedisLink(opts.url, (up, message) =>
    up ? opts.log.warn({ message }, 'redis is back') : opts.log.error({ message }, 'redis is down'),
  );
  const redis = link.connect();
  const key = (name: string) => `${opts.prefix}:${name}`;
  const onError = (err: unknown) => opts.log.error({ err }, 'cluster');

  const relay = new BusRelay(opts.bus, {
    pub: redis,
    sub: link.connect(),
    channel: key('bus'),
    hub,
    deadAfterMs: opts.deadAfterMs,
    linkReady: () => link.ready,
    // The device cache of this hub is read again before the broker and live state hear of it.
    before: { 'device.changed': ({ device }) => opts.devices.refresh(device.id) },
    onError,
  });

  const unacked: UnackedCounts = {
    async add(deviceId, delta) {
      const k = key(`cmd-unacked:${deviceId}`);
      const n = await redis.incrby(k, delta);
      if (n <= 0) await redis.del(k);
      return Math.max(0, n);
    },
    async reset(deviceId) {
      await redis.del(key(`cmd-unacked:${deviceId}`));
    },
  };

  // A device's bucket goes with it to the hub it reconnects to; one that hops does not refill.
  const bucketKey = (deviceId: string) => key(`rate:${deviceId}`);
  const handOver = ({ deviceId }: { deviceId: string }) => {
    const b = opts.rateLimit.handOver(deviceId);
    if (b)
      redis
        .set(bucketKey(deviceId), JSON.stringify(b), 'PX', Math.ceil(opts.rateLimit.refillMs))
        .catch(onError);
  };
  const takeOver = ({ deviceId }: { deviceId: string }) => {
    redis
      .get(bucketKey(deviceId))
      .then((b) => b && opts.rateLimit.takeOver(deviceId, JSON.parse(b)), onError);
  };
  let offBuckets = () => {};
  const leases = new Map<string, ReturnType<typeof leased>>();

  return {
    hub,
    link,
    /** The device cache, read again on a failed login: another hub may have just changed the device. */
    directory: {
      get: (id: string) => opts.devices.get(id),
      verifySecret: opts.devices.verifySecret.bind(opts.devices),
      reload: async (id: string) => {
        await opts.devices.refresh(id);
        return opts.devices.get(id);
      },
    },
    relay,
    broker: {
      mq: clusterMq({ pub: link.connect(), sub: link.connect(), prefix: key('mqtt'), onError }),
      persistence: withoutDeadHubsWills(redisPersistence({ conn: link.connect(key('mqtt:')) })),
      unacked,
    },
    /** `inner` runs on one hub of the cluster at a time (lease.ts); `name` names its Redis key. */
    leased(name: string, inner: Part, o: Partial<LeaseOptions> = {}): Part {
      const lease = leased(inner, {
        redis,
        key: key(`lease:${name}`),
        holder: hub,
        ttlMs: opts.deadAfterMs,
        onError,
        ...o,
      });
      leases.set(name, lease);
      return lease;
    },
    /** What the API needs of the cluster (services/api/context.ts). */
    get api() {
      return {
        outages: () => link.outages,
        stats: () => this.stats(),
        // Errors let requests through: Redis being down must not lock residents and staff out.
        rateLimitStore: (name: string) => ({
          redis,
          nameSpace: key(`rate-${name}:`),
          skipOnError: true as const,
        }),
      };
    },
    stats: () => ({
      hub,
      redis: link.ready,
      relay: relay.stats,
      leases: Object.fromEntries([...leases].map(([n, l]) => [n, { held: l.held, starts: l.starts }])),
    }),
    part: part(
      'cluster',
      async () => {
        await relay.start();
        offBuckets = opts.bus.onMany({
          'device.connected': (e) => !opts.bus.fromOtherHub && takeOver(e),
          'device.disconnected': (e) => !opts.bus.fromOtherHub && handOver(e),
        });
      },
      async () => {
        offBuckets();
        await relay.stop();
        await link.close();
      },
    ),
  };
}

interface Will {
  clientId: string;
  brokerId: string;
}
type Sessions = {
  streamWill(brokers: unknown): AsyncIterable<Will>;
  delWill(c: { id: string; brokerId: string }): Promise<unknown>;
};

/**
 * A dead hub's Last Wills are dropped, not published: the relay already shows its devices offline
 * (CLUSTER_DEAD_AFTER_MS), and aedes would publish them minutes later from another hub through
 * `authorizePublish` — refused with no connection there (an aedes 'error'), or as a stale
 * "offline" for a device that has meanwhile reconnected to that hub.
 */
function withoutDeadHubsWills(persistence: unknown): unknown {
  const sessions = persistence as Sessions;
  const stream = sessions.streamWill.bind(sessions);
  // biome-ignore lint/correctness/useYield: it yields no will on purpose; each is deleted instead
  sessions.streamWill = async function* (brokers: unknown) {
    for await (const will of stream(brokers))
      await sessions.delWill({ id: will.clientId, brokerId: will.brokerId });
  };
  return sessions;
}
