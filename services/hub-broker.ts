import type { Server as HttpServer } from 'node:http';
import { type Broker, createBroker } from '../broker/broker.js';
import type { Certificates } from '../broker/tls-certificates.js';
import type { EventBus } from './bus/event-bus.js';
import type { createCluster } from './cluster/cluster.js';
import type { Config } from './config.js';
import type { Ingest } from './ingest/ingest.js';
import type { DeviceRateLimit } from './ingest/rate-limit.js';
import type { Part } from './parts.js';
import type { DeviceRepo } from './state/devices.js';

/** Device changes after which the device's open connection must go (it would keep publishing). */
const DISCONNECTING_CHANGES = new Set(['disabled', 'secret-rotated', 'deleted']);

export interface HubBrokerDeps {
  config: Config;
  bus: EventBus;
  devices: DeviceRepo;
  ingest: Ingest;
  rateLimit: DeviceRateLimit;
  cluster?: ReturnType<typeof createCluster>;
  certificates?: Certificates;
  /** The HTTP(S) server MQTT over WebSocket shares; read when the part starts. */
  http: () => HttpServer;
  log: { error(obj: object, msg: string): void };
}

/**
 * The devices' MQTT broker, wired to the hub: publishes go to ingest, connections and refusals
 * onto the bus, and changes to a device (disabled, secret rotated, deleted) cut its connection.
 * Its part starts last and stops first, so on SIGTERM the hub stops taking publishes before anything else.
 */
export async function hubBroker(d: HubBrokerDeps): Promise<{ broker: Broker; part: Part }> {
  const { bus, config, cluster, certificates } = d;
  const hubOf = cluster ? { hub: cluster.hub } : {};
  const broker = await createBroker({
    devices: cluster ? cluster.directory : d.devices,
    // Twice the payload limit: a somewhat large payload is refused and counted with the connection
    // kept; a packet beyond this is cut off before it is buffered.
    maxPacketBytes: 2 * config.MAX_PAYLOAD_BYTES + 1024,
    ingest: (device, channel, packet) => d.ingest.handle(device, channel, packet),
    refused: (dev, code, message) =>
      bus.emit('device.refused', { siteId: dev.siteId, deviceId: dev.id, code, message }),
    connected: (dev) => bus.emit('device.connected', { siteId: dev.siteId, deviceId: dev.id, ...hubOf }),
    disconnected: (dev) =>
      bus.emit('device.disconnected', { siteId: dev.siteId, deviceId: dev.id, ...hubOf }),
    cluster: cluster?.broker,
  });
  // Redis errors reach aedes' 'error' event (no listener would end the process).
  if (cluster) {
    (broker.aedes as unknown as NodeJS.EventEmitter).on('error', (err: Error) =>
      d.log.error({ err }, 'broker'),
    );
  }
  let offLinks = () => {};
  const part: Part = {
    name: 'broker',
    async start() {
      offLinks = bus.onMany({
        'device.changed': ({ change, device }) => {
          if (DISCONNECTING_CHANGES.has(change)) broker.disconnect(device.id);
        },
        // A bucket that would be full again is dropped; one still draining stays until it refills.
        'device.disconnected': ({ deviceId }) => d.rateLimit.release(deviceId),
      });
      await broker.start({
        port: config.MQTT_PORT,
        host: config.MQTT_HOST,
        http: d.http(),
        plain: config.MQTT_PLAIN === 'on',
        tls: certificates && { port: config.MQTTS_PORT, certificates },
      });
      certificates?.watch(config.TLS_WATCH_MS);
    },
    async stop() {
      offLinks();
      certificates?.unwatch();
      await broker.stop();
    },
  };
  return { broker, part };
}
