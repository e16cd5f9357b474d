import type { Socket as NetSocket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { adminWithSite, liveClient, testHub } from './helpers/hub.js';

describe('shutdown with a dashboard that stopped reading', () => {
  it('closes a phone that stopped reading at once instead of waiting for its close frame', async () => {
    const hub = await testHub();
    const api = await adminWithSite(hub, 'paused-1');
    const socket = liveClient(hub.httpUrl, api.cookie);
    await new Promise((r) => socket.once('snapshot', r));
    // Stop reading at the TCP level, as a phone in a lift does.
    const engine = socket.io.engine as unknown as { transport: { ws: { _socket: NetSocket } } };
    engine.transport.ws._socket.pause();
    const t0 = performance.now();
    await hub.close();
    const ms = performance.now() - t0;
    socket.close();
    // ws waits 30 s for a close frame the paused client never reads; SIGTERM allows 15 s in all.
    expect(ms).toBeLessThan(5000);
  }, 60_000);
});
