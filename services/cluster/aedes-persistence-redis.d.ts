declare module 'aedes-persistence-redis' {
  import type { Redis } from 'ioredis';
  /** aedes' sessions, subscriptions, queued QoS 1 packets and retained messages on Redis. */
  export default function persistence(opts: { conn: Redis; maxSessionDelivery?: number }): unknown;
}
