import type { Server as HttpServer, IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import type { Command, IngestErrorCode } from '../contract/index.js';
import { maySubscribe, publishChannel } from './acl.js';
import { authenticateDevice, ConnectRefused } from './authenticate.js';
import { CommandOutbox, type UnackedCounts } from './commands.js';
import type { BrokerDevice, DeviceDirectory } from './device-directory.js';
import { DurableAcks } from './durable-acks.js';
import { guardPacketSize } from './packet-guard.js';
import type { Certificates } from './tls-certificates.js';
import { certifiedDeviceId, createMqttsServer } from './tls-listener.js';

export interface BrokerHooks<D extends BrokerDevice> {
  devices: DeviceDirectory<D>;
  /** Largest MQTT packet accepted; the connection is cut as soon as a header announces more. */
  maxPacketBytes: number;
  /** Checks and stores one accepted publish; resolves once it is durable (then the PUBACK goes). */
  ingest(device: D, channel: 'telemetry' | 'event' | 'status', packet: PublishPacket): Promise<void>;
  /** Something a known device did that was refused, a wrong secret included. */
  refused(device: D, code: IngestErrorCode, message: string): void;
  connected(device: D): void;
  disconnected(device: D): void;
  /** Several hubs: aedes' fan-out and sessions on Redis, command counts shared (broker/cluster-mq.ts). */
  cluster?: { mq: unknown; persistence: unknown; unacked: UnackedCounts };
}

/** Refusals that happen before a device is known, so they cannot be counted per device. */
export interface BrokerStats {
  connectRefused: number;
  protocolErrors: number;
  packetsTooLarge: number;
  /** TLS handshakes that failed, and client certificates that did not verify. */
  tlsRefused: number;
}

export interface Broker {
  aedes: Aedes;
  stats: BrokerStats;
  /**
   * Listens for MQTT over TCP (unless `plain` is false), over TLS when `tls` is given, and over
   * WebSocket at `/mqtt` on the given HTTP(S) server.
   */
  start(opts: {
    port: number;
    host: string;
    http?: HttpServer;
    plain?: boolean;
    tls?: { port: number; certificates: Certificates };
  }): Promise<void>;
  /** The TCP port bound by start(); null when plain MQTT is off. */
  readonly port: number | null;
  /** The MQTT over TLS port bound by start(), or null. */
  readonly tlsPort: number | null;
  readonly ready: boolean;
  sendCommand(device: BrokerDevice, command: Command): Promise<void>;
  /** Drops a device's live connection, e.g. after it was disabled or its secret rotated. */
  disconnect(deviceId: string): void;
  /**
   * Graceful: takes no new connections or publishes, waits until every publish already taken has
   * its PUBACK written (that is, it is stored), then closes the devices' connections.
   */
  stop(): Promise<void>;
}

export async function createBroker<D extends BrokerDevice>(hooks: BrokerHooks<D>): Promise<Broker> {
  // Which device each connection authenticated as; a device that reconnects replaces its old
  // connection, so only the newest one may mark it offline.
  const deviceOf = new WeakMap<Client, D>();
  const current = new Map<string, Client>();
  const stats: BrokerStats = { connectRefused: 0, protocolErrors: 0, packetsTooLarge: 0, tlsRefused: 0 };
  const acks = new DurableAcks();
  /** Uplink publishes the hub took (see fan-out below). */
  const taken = new WeakSet<PublishPacket>();
  let accepting = true;
  let port: number | null = null;
  let tlsPort: number | null = null;
  let mqtts: ReturnType<typeof createMqttsServer> | undefined;
  const stillValid = (device: D) => {
    const now = hooks.devices.get(device.id);
    return !!now && now.enabled && now.secretHash === device.secretHash;
  };

  const aedes = await Aedes.createBroker({
    drainTimeout: 30_000,
    ...(hooks.cluster && { mq: hooks.cluster.mq, persistence: hooks.cluster.persistence }),
    authenticate(client, username, password, done) {
      authenticateDevice(hooks.devices, client.id, username, password, certifiedDeviceId(client.conn)).then(
        (device) => {
          deviceOf.set(client, device);
          done(null, true);
        },
        (err) => {
          stats.connectRefused += 1;
          if (err instanceof ConnectRefused && err.wrongSecretFor) {
            hooks.refused(err.wrongSecretFor as D, 'AUTH_FAILED', 'wrong secret');
          }
          done(err, false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      const device = client ? deviceOf.get(client) : undefined;
      if (!device) return done(new Error('no device for this connection'));
      // Stopping: the device keeps this publish (no PUBACK) and sends it to the next hub it reaches.
      if (!accepting) return done(new Error('the hub is stopping'));
      // Disabled, or its secret rotated, since this connection logged in (or while it was logging in).
      if (!stillValid(device))
        return done(new Error(`device ${device.id} is disabled or its secret changed`));
      const channel = publishChannel(device, packet.topic);
      if (!channel) {
        hooks.refused(device, 'TOPIC_NOT_ALLOWED', `publish to ${packet.topic}`);
        return done(new Error(`device ${device.id} may not publish to ${packet.topic}`));
      }
      const stored = hooks.ingest(device, channel as 'telemetry' | 'event' | 'status', packet);
      taken.add(packet);
      if (packet.qos !== 1 || !client) return void stored.then(() => done(null), done);
      // The hub sends this PUBACK itself once the publish is stored; aedes must not send one now.
      packet.qos = 0;
      acks.track(client, packet.messageId!, stored).then(() => done(null));
    },
    authorizeSubscribe(client, sub, done) {
      const device = deviceOf.get(client);
      if (device && maySubscribe(device, sub.topic)) return done(null, sub);
      if (device) hooks.refused(device, 'SUBSCRIBE_NOT_ALLOWED', `subscribe to ${sub.topic}`);
      // A null subscription is answered with SUBACK 0x80 [MQTT-3.9.3-2]; the connection stays up.
      done(null, null);
    },
  });

  // Uplinks end in the hub: no connection may subscribe to them (acl.ts), so aedes' own fan-out of
  // each (a copy, a topic match, a retained store, and on a cluster a round trip through Redis to
  // every other hub) delivered nothing and cost a few % of the main thread per reading (measured).
  // Commands, wills and $SYS still go through it.
  // Its handlers call publish(packet, client, done), a signature aedes' types do not declare.
  const internal = aedes as unknown as {
    publish(packet: PublishPacket, client: Client | null, done?: (err?: Error) => void): void;
  };
  const fanOut = internal.publish.bind(aedes);
  internal.publish = (packet, client, done) => (taken.has(packet) ? done?.() : fanOut(packet, client, done));

  const outbox = new CommandOutbox(aedes, hooks.cluster?.unacked);

  aedes.on('clientReady', (client) => {
    const device = deviceOf.get(client);
    if (!device) return;
    if (!stillValid(device)) return void client.close();
    outbox.reset(device.id);
    current.set(device.id, client);
    hooks.connected(device);
  });
  // Garbage bytes, truncated packets, wildcards in a publish topic: aedes closes the connection.
  aedes.on('connectionError', () => {
    stats.protocolErrors += 1;
  });
  aedes.on('clientError', (client, err) => {
    if (!/may not publish/.test(err.message)) stats.protocolErrors += 1;
    const device = deviceOf.get(client);
    if (device && /not allowed in PUBLISH|too many levels/.test(err.message)) {
      hooks.refused(device, 'TOPIC_NOT_ALLOWED', err.message);
    }
  });
  aedes.on('clientDisconnect', (client) => {
    const device = deviceOf.get(client);
    if (!device || current.get(device.id) !== client) return;
    current.delete(device.id);
    outbox.reset(device.id);
    hooks.disconnected(device);
  });

  const watchPacketSize = (client: Client, stream: Duplex) =>
    guardPacketSize(stream, hooks.maxPacketBytes, (announced) => {
      stats.packetsTooLarge += 1;
      const device = deviceOf.get(client);
      if (device) hooks.refused(device, 'PACKET_TOO_LARGE', `packet of ${announced} bytes announced`);
    });
  const tcp = net.createServer((socket) => watchPacketSize(aedes.handle(socket), socket));
  // ws refuses larger frames itself (close code 1009); an MQTT packet split over many frames is
  // caught by the same framing guard as on TCP.
  const wss = new WebSocketServer({ noServer: true, maxPayload: hooks.maxPacketBytes });

  const attachWebSocket = (server: HttpServer) => {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/mqtt') return;
      if (!accepting) return void socket.destroy();
      wss.handleUpgrade(req, socket, head, (ws) => {
        const stream = createWebSocketStream(ws);
        watchPacketSize(aedes.handle(stream, req), stream);
      });
    });
  };

  return {
    aedes,
    stats,
    get port() {
      return port;
    },
    get ready() {
      return accepting && !aedes.closed;
    },
    get tlsPort() {
      return tlsPort;
    },
    async start(opts) {
      if (opts.plain !== false) port = await listen(tcp, opts.port, opts.host);
      if (opts.tls) {
        mqtts = createMqttsServer(
          opts.tls.certificates,
          (socket) => watchPacketSize(aedes.handle(socket), socket),
          () => {
            stats.tlsRefused += 1;
          },
        );
        tlsPort = await listen(mqtts, opts.tls.port, opts.host);
      }
      if (opts.http) attachWebSocket(opts.http);
    },
    sendCommand: (device, command) => outbox.send(device, command),
    disconnect(deviceId) {
      current.get(deviceId)?.close();
    },
    async stop() {
      accepting = false;
      if (tcp.listening) tcp.close();
      if (mqtts?.listening) mqtts.close();
      await acks.settled();
      // Let the last PUBACKs reach the sockets before they are closed.
      await new Promise((r) => setImmediate(r));
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      wss.close();
    },
  };
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as net.AddressInfo).port);
    });
  });
}
