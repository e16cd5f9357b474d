import net, { type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { movedPortsNote, portOr0 } from '../devices/demo-ports.js';

describe('demo', () => {
  it('says which of its usual ports were busy', async () => {
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const taken = (busy.address() as AddressInfo).port;
    try {
      expect(await portOr0(taken, '127.0.0.1')).toBe(0);
    } finally {
      await new Promise((r) => busy.close(r));
    }
    expect(await portOr0(taken, '127.0.0.1')).toBe(taken);

    expect(
      movedPortsNote([
        { name: 'HTTP', wanted: 8080, got: 8080 },
        { name: 'MQTT', wanted: 1883, got: 40123 },
      ]),
    ).toBe('Port 1883 (MQTT) was busy, so 40123 was picked.');
    expect(
      movedPortsNote([
        { name: 'HTTP', wanted: 8080, got: 40001 },
        { name: 'MQTT', wanted: 1883, got: 40002 },
      ]),
    ).toBe('Ports 8080 (HTTP) and 1883 (MQTT) were busy, so 40001 and 40002 were picked.');
    expect(movedPortsNote([{ name: 'HTTP', wanted: 8080, got: 8080 }])).toBe('');
  });
});
