import net from 'node:net';
import mqttPacket from 'mqtt-packet';

/** A bare TCP connection to the broker, for bytes no well-behaved client would send. */
export async function rawConnection(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

export function connectPacket(username: string, password: string, clientId = username): Buffer {
  return mqttPacket.generate({
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    clientId,
    keepalive: 30,
    username,
    password: Buffer.from(password),
  });
}

export function publishPacket(topic: string, payload: string | Buffer, messageId = 1): Buffer {
  return mqttPacket.generate({
    cmd: 'publish',
    topic,
    payload,
    qos: 1,
    messageId,
    retain: false,
    dup: false,
  });
}

/** Resolves when the server closes the connection; rejects if it stays open `ms`. */
export function closedWithin(socket: net.Socket, ms: number): Promise<void> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection still open after ${ms} ms`)), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => {});
    socket.resume();
  });
}

/** The CONNACK return code the broker answered with (the 4th byte of the packet). */
export function connackCode(socket: net.Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    socket.once('data', (d: Buffer) =>
      d[0] === 0x20 ? resolve(d[3]!) : reject(new Error(`not a CONNACK: ${d.toString('hex')}`)),
    );
    socket.once('error', reject);
  });
}

/**
 * Resolves with the first packet of kind `cmd` the broker sends, e.g. the PINGRESP that proves every
 * packet written before the PINGREQ has been handled (aedes handles a connection's packets in order).
 */
export function nextPacket(
  socket: net.Socket,
  cmd: mqttPacket.Packet['cmd'],
  ms = 5000,
): Promise<mqttPacket.Packet> {
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, packet?: mqttPacket.Packet) => {
      clearTimeout(timer);
      socket.off('data', onData);
      if (err) reject(err);
      else resolve(packet!);
    };
    const timer = setTimeout(() => done(new Error(`no ${cmd} within ${ms} ms`)), ms);
    const onData = (d: Buffer) => parser.parse(d);
    parser.on('packet', (p: mqttPacket.Packet) => p.cmd === cmd && done(null, p));
    socket.on('data', onData);
  });
}
