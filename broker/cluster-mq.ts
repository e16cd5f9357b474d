import type { Redis } from 'ioredis';
import mqemitter from 'mqemitter';
import mqemitterRedis from 'mqemitter-redis';
import { parseTopic } from '../contract/index.js';

type Message = mqemitter.Message;
type Listener = (message: Message, done: () => void) => void;

/**
 * aedes' message fan-out for several hubs: what some MQTT client on another hub may need goes
 * through Redis (commands, status, aedes' own `$SYS` traffic that closes a device's older
 * connection and shares subscriptions), and device telemetry and events stay in this process.
 * No client can subscribe to those (acl.ts), the hub that received them ingests them in
 * `authorizePublish`, and through Redis every publish cost about four times as much (issue 14).
 *
 * Redis pub/sub channels are one namespace for every database on the server, so every topic
 * gets `prefix` on Redis and loses it again on the way back.
 */
export function clusterMq(opts: {
  pub: Redis;
  sub: Redis;
  prefix: string;
  onError: (err: unknown) => void;
}): mqemitter.MQEmitter {
  const local = mqemitter({ matchEmptyLevels: true });
  const shared = mqemitterRedis({ pubConn: opts.pub, subConn: opts.sub, matchEmptyLevels: true });
  // Its connection errors come out here; unheard, they would end the process. ioredis reconnects.
  (shared as unknown as { state: { on(e: 'error', f: (err: unknown) => void): void } }).state.on(
    'error',
    opts.onError,
  );
  const prefix = `${opts.prefix}/`;
  const wrapped = new Map<string, Map<Listener, Listener>>();
  const unprefixed =
    (listener: Listener): Listener =>
    (message, done) =>
      listener({ ...message, topic: message.topic.slice(prefix.length) }, done);

  const mq = {
    get current() {
      return local.current + shared.current;
    },
    get concurrent() {
      return local.concurrent + shared.concurrent;
    },
    on(topic: string, listener: Listener, callback?: () => void) {
      let byListener = wrapped.get(topic);
      if (!byListener) {
        byListener = new Map();
        wrapped.set(topic, byListener);
      }
      const w = unprefixed(listener);
      byListener.set(listener, w);
      local.on(topic, listener);
      shared.on(prefix + topic, w, callback);
      return mq;
    },
    removeListener(topic: string, listener: Listener, callback?: () => void) {
      const w = wrapped.get(topic)?.get(listener);
      wrapped.get(topic)?.delete(listener);
      local.removeListener(topic, listener);
      if (w) shared.removeListener(prefix + topic, w, callback);
      else callback?.();
    },
    emit(message: Message, callback?: (error?: Error) => void) {
      const channel = parseTopic(message.topic)?.channel;
      if (channel === 'telemetry' || channel === 'event') return local.emit(message, callback);
      shared.emit({ ...message, topic: prefix + message.topic }, callback);
    },
    close(callback: () => void) {
      local.close(() => shared.close(callback));
    },
  };
  return mq as unknown as mqemitter.MQEmitter;
}
