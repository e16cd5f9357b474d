import net from 'node:net';
import mqttPacket from 'mqtt-packet';

/**
 * Holds idle, authenticated MQTT connections to the hub with the least client-side cost: a raw TCP
 * socket each, a CONNECT built by mqtt-packet, the CONNACK read by hand, then a PINGREQ now and
 * then as the keep-alive requires. One child process per ~7,000 connections (fd limit); driven over
 * IPC by bench/idle-connections.ts.
 */

export interface IdleClientSetup {
  host: string;
  port: number;
  /** Own source address per process, so that no two processes share an ephemeral port range. */
  localAddress: string;
  deviceIds: string[];
  secret: string;
  keepaliveS: number;
  concurrency: number;
}

export interface IdleCounts {
  type: 'counts';
  connacked: number;
  refused: number;
  failed: number;
  /** Closed by the hub after its CONNACK. */
  dropped: number;
  firstError?: string;
}

const setup = JSON.parse(process.argv[2]!) as IdleClientSetup;
const CONNACK = 0x20;
const PINGREQ = Buffer.from([0xc0, 0x00]);
const counts: IdleCounts = { type: 'counts', connacked: 0, refused: 0, failed: 0, dropped: 0 };
const open: net.Socket[] = [];
let started = 0;

function connectOne(id: string): Promise<void> {
  return new Promise((resolve) => {
    let state: 'connecting' | 'open' | 'done' = 'connecting';
    const fail = (why: string) => {
      if (state !== 'connecting') return;
      state = 'done';
      counts.failed++;
      counts.firstError ??= `${id}: ${why}`;
      socket.destroy();
      resolve();
    };
    const socket = net.connect({ host: setup.host, port: setup.port, localAddress: setup.localAddress });
    socket.setTimeout(60_000, () => fail('no CONNACK in 60 s'));
    socket.once('connect', () => {
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clean: true,
          clientId: id,
          keepalive: setup.keepaliveS,
          username: id,
          password: Buffer.from(setup.secret),
        }),
      );
    });
    let head = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      if (state !== 'connecting') return; // PINGRESPs
      head = Buffer.concat([head, chunk]);
      if (head.length < 4) return;
      if (head[0] !== CONNACK) return fail(`unexpected packet 0x${head[0]!.toString(16)}`);
      socket.setTimeout(0);
      if (head[3] === 0) {
        state = 'open';
        counts.connacked++;
        open.push(socket);
      } else {
        state = 'done';
        counts.refused++;
        counts.firstError ??= `${id}: CONNACK return code ${head[3]}`;
        socket.destroy();
      }
      resolve();
    });
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => {
      if (state === 'open') counts.dropped++;
      fail('closed before CONNACK');
    });
  });
}

async function connectUpTo(n: number): Promise<void> {
  const upTo = Math.min(n, setup.deviceIds.length);
  const lane = async () => {
    while (started < upTo) await connectOne(setup.deviceIds[started++]!);
  };
  await Promise.all(Array.from({ length: setup.concurrency }, lane));
}

// Keep-alive: every open connection sends a PINGREQ once per 3/4 of its keep-alive, spread over time.
let tick = 0;
const slots = Math.max(1, Math.floor(setup.keepaliveS * 0.75));
setInterval(() => {
  const slot = tick++ % slots;
  for (let i = slot; i < open.length; i += slots) if (!open[i]!.destroyed) open[i]!.write(PINGREQ);
}, 1000).unref();

process.on(
  'message',
  async (m: { type: 'connect'; upTo: number } | { type: 'counts' } | { type: 'close' }) => {
    if (m.type === 'connect') await connectUpTo(m.upTo);
    if (m.type === 'close') {
      for (const s of open) s.destroy();
      process.send?.({ ...counts });
      process.exit(0);
    }
    process.send?.({ ...counts });
  },
);
process.on('disconnect', () => process.exit(1));
