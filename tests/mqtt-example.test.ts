import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { telemetrySchema } from '../contract/index.js';
import { mosquittoExample, type Revealed } from '../dashboard/src/mqtt-example.js';

/** Issue 8 #9: the example shown after provisioning must store a new reading on every run. */
const revealed: Revealed = {
  deviceId: 'yz-001-occ',
  kind: 'occupancy_counter',
  secret: "s3cr'et",
  username: 'yz-001-occ',
  topicPrefix: 'yz/v1/yz-001/yz-001-occ',
  port: 1883,
  tlsPort: null,
  host: 'hub.local',
  wsUrl: 'ws://hub.local/mqtt',
};

/** Runs the snippet with a stand-in mosquitto_pub that prints its arguments, one per line. */
function run(script: string, clock: number): string[] {
  const fake = `mosquitto_pub() { for a in "$@"; do printf '%s\\n' "$a"; done; }\ndate() { echo ${clock}; }\n`;
  return execFileSync('sh', ['-c', fake + script], { encoding: 'utf8' })
    .trimEnd()
    .split('\n');
}

describe('device connection example', () => {
  it('makes seq and ts (ms) in the shell, so two runs publish two different valid readings', () => {
    const script = mosquittoExample(revealed, 'seq numbers each reading');
    expect(script).toContain('# seq numbers each reading');
    const first = run(script, 1_764_115_200);
    const second = run(script, 1_764_115_201);
    expect(first.slice(first.indexOf('-P') + 1)[0]).toBe(revealed.secret);
    const payload = (args: string[]) => JSON.parse(args[args.indexOf('-m') + 1] ?? '');
    const a = telemetrySchema('occupancy_counter').parse(payload(first));
    const b = telemetrySchema('occupancy_counter').parse(payload(second));
    expect(a.readings[0]).toMatchObject({ seq: 1_764_115_200, ts: 1_764_115_200_000 });
    expect(b.readings[0]?.seq).toBeGreaterThan(a.readings[0]?.seq ?? 0);
  });

  it('uses MQTT over TLS with the CA file when the hub offers it', () => {
    const script = mosquittoExample({ ...revealed, tlsPort: 8883 }, 'seq note', 'ca note');
    const args = run(script, 1_764_115_200);
    expect(args.slice(args.indexOf('-p'), args.indexOf('-p') + 4)).toEqual([
      '-p',
      '8883',
      '--cafile',
      'hub-ca.pem',
    ]);
    expect(script).toContain('# ca note');
  });
});
