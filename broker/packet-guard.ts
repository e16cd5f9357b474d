import type { Duplex } from 'node:stream';

/**
 * Watches the MQTT framing of a connection (TCP, or the byte stream of a WebSocket) and cuts it as soon as a packet header announces
 * more than `maxBytes`: the parser would otherwise buffer up to 256 MiB a packet [MQTT-2.2.3]
 * before anything could look at it. It listens on 'data', which — while aedes drives the socket
 * with 'readable' — sees each chunk exactly when aedes reads it, without changing the flow.
 */
export function guardPacketSize(
  socket: Duplex,
  maxBytes: number,
  refused: (announced: number) => void,
): void {
  // State of the fixed header being read: 0 = expecting the type byte, then length bytes.
  let inHeader = true;
  let sawType = false;
  let length = 0;
  let multiplier = 1;
  let toSkip = 0;

  socket.on('data', (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (!inHeader) {
        const n = Math.min(toSkip, chunk.length - i);
        toSkip -= n;
        i += n;
        if (toSkip === 0) inHeader = true;
        continue;
      }
      const byte = chunk[i++]!;
      if (!sawType) {
        sawType = true;
        length = 0;
        multiplier = 1;
        continue;
      }
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if (length > maxBytes || multiplier > 128 ** 4) {
        refused(length);
        socket.destroy();
        return;
      }
      if ((byte & 0x80) === 0) {
        sawType = false;
        toSkip = length;
        inHeader = toSkip === 0;
      }
    }
  });
}
